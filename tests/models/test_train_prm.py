import numpy as np

from tts.models.families import r1_distill_tokenizer
from tts.models.train_prm import genprm_examples, verdict_tokens
from tts.tasks.arithmetic import ChainConfig, generate_chain
from tts.tasks.corrupt import corrupt_chain


def _records(n=6):
    rng = np.random.default_rng(3)
    out = []
    while len(out) < n:
        chain = generate_chain(rng, ChainConfig(min_ops=2, max_ops=4))
        bad = corrupt_chain(rng, chain, "digit")
        steps = bad[0] if bad and len(out) % 2 else chain.gold_steps()
        out.append({"problem": chain.problem_text(), "steps": steps, "keep": [True] * len(steps)})
    return out


def test_verdict_weight_falls_on_exactly_one_learnt_token_per_judgement():
    # The verdict weight is given by token id, so the ids must occur in the PRM's own words only
    # where it judges: once per GenPRM turn, once per ThinkPRM step plus its final answer.
    tok = r1_distill_tokenizer()
    verdicts = set(verdict_tokens(tok))
    for fmt, rows in genprm_examples(_records(), tok, seed=0).items():
        for ids, mask in rows:
            learnt = [t for t, m in zip(ids, mask, strict=True) if m and t in verdicts]
            text = tok.decode(ids)
            if fmt == "think":
                written = text.rsplit("<｜Assistant｜>", 1)[1]
                judged = written.count("\\boxed{correct}") + written.count("\\boxed{incorrect}") + 1
            else:
                judged = text.count("**Judgement**")
            assert len(learnt) == judged, fmt


def test_operation_weight_falls_on_the_quoted_operation_and_the_codes_operator():
    # Each GenPRM-with-code turn quotes the previous and the next operation of the problem and
    # applies one operator in its code: those learnt tokens carry the operation weight.
    from tts.models.train_prm import operation_tokens

    tok = r1_distill_tokenizer()
    ops = set(operation_tokens(tok))
    assert len(ops) == 8
    for ids, mask in genprm_examples(_records(), tok, seed=0)["code"]:
        learnt = [t for t, m in zip(ids, mask, strict=True) if m and t in ops]
        turns = tok.decode(ids).count("**Judgement**")
        assert turns <= len(learnt) <= 3 * turns
