"""The HF engine's decode loop (finished rows leave the batch) against transformers' ``generate``."""

import pytest
import torch

from tts.policy import Sampling
from tts.policy.decode_cache import decode_cache
from tts.policy.hf_decode import decode
from tts.policy.row_sampler import RowSampler

PROMPTS = ["Start with 12. Add 7. Multiply by 3. What is the result?",
           "Start with 5. Subtract 2. What is the result?",
           "Start with 640. Divide by 8, rounding down. Add 91. Subtract 4. Multiply by 2. What is the result?"]


def _batch(policy):
    ids = [policy.tokenizer(policy.render(p)).input_ids for p in PROMPTS]
    width = max(map(len, ids))
    pad = policy.tokenizer.pad_token_id
    input_ids = torch.tensor([[pad] * (width - len(e)) + e for e in ids])
    mask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in ids])
    return ids, input_ids, mask


def _alone(model, ids, steps):
    """Greedy tokens and raw log-probs of one unpadded prompt, from ``generate``."""
    out = model.generate(input_ids=torch.tensor([ids]), max_new_tokens=steps, do_sample=False,
                         return_dict_in_generate=True, output_logits=True, pad_token_id=0, eos_token_id=None)
    logp = torch.stack(out.logits, 1)[0].float().log_softmax(-1)
    tokens = out.sequences[0, len(ids):]
    return tokens.tolist(), logp.gather(-1, tokens.unsqueeze(-1)).squeeze(-1).tolist()


@pytest.fixture(scope="module")
def policy(hf_policy):
    hf_policy.render = lambda problem: hf_policy.tokenizer.apply_chat_template(
        [{"role": "user", "content": problem}], tokenize=False, add_generation_prompt=True)
    return hf_policy


@pytest.mark.parametrize("compact_share", [1e-9, 0.25, 1.0], ids=["every-finish", "quarter", "never"])
def test_rows_finishing_at_different_times_decode_as_if_alone(policy, compact_share):
    model = policy.model
    ids, input_ids, mask = _batch(policy)
    budgets = [5, 40, 17]  # rows leave at different steps
    kept = {}
    with torch.inference_mode():
        out = decode(model, input_ids, mask, decode_cache(model.config, input_ids.shape[1] + 40), 0, budgets,
                     eos_ids=set(), compact_share=compact_share, top_logprobs=3,
                     keep=lambda row, layers, fed: kept.__setitem__(row, (layers, fed)))
        for row, (e, budget) in enumerate(zip(ids, budgets, strict=True)):
            tokens, logprobs = _alone(model, e, budget)
            assert out.tokens[row] == tokens
            assert out.logprobs[row] == pytest.approx(logprobs, abs=1e-4)
            assert len(out.top[row]) == budget and all(len(t) == 3 for t in out.top[row])
            assert max(out.top[row][0], key=out.top[row][0].get) == tokens[0]  # greedy: the argmax
            # The keys and values handed over on leaving are the row's own, as if computed alone.
            layers, fed = kept[row]
            assert fed == tokens[: budget - 1] and out.fed[row] == budget - 1
            ref = model(input_ids=torch.tensor([e + fed]), use_cache=True).past_key_values
            for (k, v), layer in zip(layers, ref.layers, strict=True):
                assert torch.allclose(k, layer.keys[0], atol=1e-4) and torch.allclose(v, layer.values[0], atol=1e-4)


def test_a_row_stops_at_its_stop_check_and_eos(policy):
    model = policy.model
    ids, input_ids, mask = _batch(policy)
    with torch.inference_mode():
        free = decode(model, input_ids, mask, decode_cache(model.config, input_ids.shape[1] + 30), 0, [30] * 3, set())
        first = free.tokens[0][3]
        # Row 0 stops at its 4th token by the check; row 2 at the first token it draws that no
        # other row does, declared end-of-sequence.
        others = set(free.tokens[0][:4]) | set(free.tokens[1])
        eos = {next(t for t in free.tokens[2] if t not in others)}
        out = decode(model, input_ids, mask, decode_cache(model.config, input_ids.shape[1] + 30), 0, [30] * 3, eos,
                     stopped=lambda toks: len(toks) >= 4 and toks[3] == first and toks == free.tokens[0][: len(toks)])
    assert out.tokens[0] == free.tokens[0][:4]
    end = next(i for i, t in enumerate(free.tokens[2]) if t in eos)
    assert out.tokens[2] == free.tokens[2][: end + 1]


def test_sampled_rows_draw_the_same_tokens_whatever_leaves_beside_them(policy):
    model = policy.model
    ids, input_ids, mask = _batch(policy)
    sampling = Sampling(temperature=1.0)
    with torch.inference_mode():
        runs = [decode(model, input_ids, mask, decode_cache(model.config, input_ids.shape[1] + 24), 0, budgets, set(),
                       sampler=RowSampler([11, 12, 13], 24, sampling), compact_share=1e-9)
                for budgets in ([24, 24, 24], [2, 24, 9])]
    assert runs[0].tokens[1] == runs[1].tokens[1]
    assert runs[0].tokens[2][:9] == runs[1].tokens[2]
