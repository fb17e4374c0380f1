import pytest
import torch
from transformers import Qwen2ForCausalLM

from tts.models.families import qwen25_math_tokenizer, r1_distill_tokenizer
from tts.models.fit import qwen2_config
from tts.models.train_prm import PRMTrainConfig
from tts.models.warm_start import warm_start

SMALL = PRMTrainConfig(hidden=32, layers=1, heads=2, kv_heads=1, ffn=64, max_positions=256)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A tiny random policy-format checkpoint (Qwen2.5 tokens), saved as the policy recipe saves."""
    tok = qwen25_math_tokenizer()
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(qwen2_config(SMALL, tok))
    path = tmp_path_factory.mktemp("base")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path, model, tok


def test_genprm_starts_from_the_base_decoder_with_rows_matched_by_token(base):
    path, src, src_tok = base
    tok = r1_distill_tokenizer()  # another set of special tokens on the same BPE
    torch.manual_seed(1)
    model = Qwen2ForCausalLM(qwen2_config(SMALL, tok))
    fresh = model.model.embed_tokens.weight.detach().clone()
    info = warm_start(model, tok, path)
    src_state = src.model.state_dict()
    for name, value in model.model.state_dict().items():
        if name != "embed_tokens.weight":
            assert torch.equal(value, src_state[name]), name
    rows, src_rows = model.model.embed_tokens.weight, src.model.embed_tokens.weight
    src_vocab = src_tok.get_vocab()
    for token in ("Add", "7", "<analyze>", "<｜User｜>"):
        i = tok.convert_tokens_to_ids(token) if token in tok.get_vocab() else None
        if i is None:
            continue
        if token in src_vocab:
            assert torch.equal(rows[i], src_rows[src_vocab[token]]), token
        else:  # the R1-Distill tokens the base does not have keep their fresh rows
            assert torch.equal(rows[i], fresh[i]), token
    assert info["embedding_rows_copied"] == len(set(tok.get_vocab()) & set(src_vocab))
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()  # still tied


def test_a_base_of_another_shape_is_refused_by_name(base):
    path, _, _ = base
    tok = r1_distill_tokenizer()
    from dataclasses import replace
    model = Qwen2ForCausalLM(qwen2_config(replace(SMALL, hidden=48, heads=2, kv_heads=1), tok))
    with pytest.raises(ValueError, match="hidden_size 32 vs 48"):
        warm_start(model, tok, path)
