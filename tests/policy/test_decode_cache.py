"""The HF engine's in-place decode cache agrees with transformers' concatenating one."""

import torch
from transformers import DynamicCache

from tts.policy.decode_cache import PreallocatedLayer, decode_cache


def _generate(model, ids, mask, past, steps=12):
    out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=steps, do_sample=False,
                         past_key_values=past, return_dict_in_generate=True, output_logits=True, pad_token_id=0)
    return out.sequences, torch.stack(out.logits, 1)


def _batch(hf_policy):
    tok = hf_policy.tokenizer
    enc = tok(["Problem: 12 + 7 * 3 =", "Problem: 5 - 2 ="], padding=True, return_tensors="pt")
    return enc.input_ids, enc.attention_mask


def test_generation_matches_dynamic_cache_even_past_its_capacity(hf_policy):
    model = hf_policy.model
    ids, mask = _batch(hf_policy)
    with torch.inference_mode():
        ref_seq, ref_logits = _generate(model, ids, mask, DynamicCache(config=model.config))
        for capacity in (ids.shape[1] + 12, 3):  # exact, and too small: it must grow
            cache = decode_cache(model.config, capacity)
            assert all(isinstance(layer, PreallocatedLayer) for layer in cache.layers)
            seq, logits = _generate(model, ids, mask, cache)
            assert torch.equal(seq, ref_seq)
            assert torch.allclose(logits, ref_logits, atol=1e-5)


def test_seeded_rows_continue_as_if_their_prefix_had_been_computed(hf_policy):
    """Rows seeded with cached keys/values (right-aligned, zeros to their left, repeated per
    sample) generate what the uncached batch generates."""
    model = hf_policy.model
    ids, mask = _batch(hf_policy)
    width = ids.shape[1]
    with torch.inference_mode():
        ref_seq, ref_logits = _generate(model, ids, mask, DynamicCache(config=model.config))
        # Each prompt's own cache, computed alone without padding.
        rows = []
        for r in range(ids.shape[0]):
            own = ids[r][mask[r].bool()].unsqueeze(0)
            kv = model(input_ids=own, use_cache=True).past_key_values
            rows.append(([(layer.keys[0], layer.values[0]) for layer in kv.layers], own.shape[1] - 1))
        cached_w = max(m for _, m in rows)
        # Rows laid out as the engine does: [pad, cached, pad, new]; here one new token each.
        new_ids, new_mask = [], []
        for r, (_, m) in enumerate(rows):
            own = ids[r][mask[r].bool()].tolist()
            new_ids.append([0] * (cached_w - m) + own)
            new_mask.append([0] * (cached_w - m) + [1] * len(own))
        n = 2
        ids2 = torch.tensor(new_ids).repeat_interleave(n, 0)
        mask2 = torch.tensor(new_mask).repeat_interleave(n, 0)
        cache = decode_cache(model.config, cached_w + 1 + 12, rows, cached_w, n)
        assert cache.get_seq_length() == cached_w
        seq, logits = _generate(model, ids2, mask2, cache)
    gen = seq[:, cached_w + 1 :]
    assert torch.equal(gen, ref_seq[:, width:].repeat_interleave(n, 0))
    assert torch.allclose(logits, ref_logits.repeat_interleave(n, 0), atol=1e-4)
