"""The shipped generative PRM, run through real engines (HF; vLLM in the slow set) and the real
sandbox."""

import pytest

from tts.evaluation.testbed_set import testbed_processbench
from tts.policy import Prefix
from tts.tasks.arithmetic import format_answer, format_step, parse_problem
from tts.prm import GenerativePRM, ThinkPRM, first_wrong_step
from tts.prm import protocol as P

PROBLEM = "Start with 37. Add 48. Multiply by 3. Divide by 4, rounding down. What is the result?"
RIGHT = tuple(parse_problem(PROBLEM).gold_steps())  # sentences around equations, as the policy writes
WRONG = (RIGHT[0], format_step(85, "*", 3, 254), format_step(254, "//", 4, 63), format_answer(63))


@pytest.fixture
def genprm(genprm_engine, sandbox):
    return GenerativePRM(genprm_engine, sandbox=sandbox)


def test_verifies_with_code_and_finds_the_first_error(genprm):
    # The operation steps only: the shipped twin misreads the problem's end at the answer step of
    # this chain (it quotes an operation where the problem says "What is the result?"; see the
    # README's PRM section), which the next recipe must fix.
    right, wrong = genprm.score([Prefix(PROBLEM, RIGHT[:3]), Prefix(PROBLEM, WRONG[:3])])
    assert len(right.rewards) == len(wrong.rewards) == 3
    assert first_wrong_step(right.rewards) == -1
    assert first_wrong_step(wrong.rewards) == 1
    text = wrong.verifications[1][0]
    assert text.startswith(P.ANALYZE_START.format(index=2))
    assert "[Code Output]" in text and P.last_code(text) is not None and P.verdict_of(text) is False
    assert right.prompt_tokens > 0 and right.generated_tokens > 0


def test_cached_prefix_is_not_verified_again(genprm_engine, sandbox):
    prm = GenerativePRM(genprm_engine, sandbox=sandbox)
    first = prm.score([Prefix(PROBLEM, RIGHT[:2])])[0]
    calls = prm.engine_calls
    longer = prm.score([Prefix(PROBLEM, RIGHT[:3])])[0]
    assert longer.rewards[:2] == first.rewards and longer.verifications[:2] == first.verifications
    assert prm.engine_calls - calls == 3  # analysis, code, judgement: for the new step only
    assert 0 < longer.generated_tokens < first.generated_tokens
    again = prm.score([Prefix(PROBLEM, RIGHT[:3])])[0]
    assert again.tokens == 0 and prm.engine_calls - calls == 3


def test_batched_equals_one_at_a_time_at_t0(hf_genprm_engine, sandbox):
    """HF only: vLLM does not promise batch-invariant numerics."""
    samples = testbed_processbench(3)
    prefixes = [Prefix(s.problem, tuple(s.steps)) for s in samples[:3] + samples[-3:]]
    batched = GenerativePRM(hf_genprm_engine, sandbox=sandbox).score(prefixes)
    one = GenerativePRM(hf_genprm_engine, sandbox=sandbox)
    single = [one.score([p])[0] for p in prefixes]
    for b, s in zip(batched, single, strict=True):
        assert b.verifications == s.verifications
        assert b.rewards == pytest.approx(s.rewards, abs=1e-5)


def test_maj_at_n_samples_n_verifications(genprm_engine, sandbox):
    prm = GenerativePRM(genprm_engine, samples=3, sandbox=sandbox)
    (score,) = prm.score([Prefix(PROBLEM, WRONG[:2])])
    assert [len(v) for v in score.verifications] == [3, 3]
    assert score.rewards[1] < 0.5 < score.rewards[0]


def test_no_code_ablation_writes_no_code(genprm_engine):
    prm = GenerativePRM(genprm_engine, code=False)
    (score,) = prm.score([Prefix(PROBLEM, RIGHT[:2])])
    assert prm.sandbox is None and len(score.rewards) == 2
    assert all("<verify>" not in v[0] and P.OUTPUT_START in v[0] for v in score.verifications)


def test_thinkprm_scores_every_step(genprm_engine):
    prm = ThinkPRM(genprm_engine)
    right, wrong = prm.score([Prefix(PROBLEM, RIGHT), Prefix(PROBLEM, WRONG)])
    assert len(right.rewards) == len(wrong.rewards) == 4
    assert all(0 <= r <= 1 for r in right.rewards + wrong.rewards)
    assert right.verifications[0][0].count("\\boxed{") >= 1


def test_bad_input_gets_defined_results(genprm_engine, sandbox):
    prm = GenerativePRM(genprm_engine, sandbox=sandbox)
    undecodable = b"37 + 48 = \xff85".decode("utf-8", "surrogateescape")
    empty, huge, bad = prm.score([Prefix(PROBLEM, ()), Prefix(PROBLEM, ("7" * 100_000,)), Prefix(PROBLEM, (undecodable,))])
    assert empty.rewards == [] and empty.tokens == 0
    assert len(huge.rewards) == 1 and huge.rewards[0] == 0.5  # the prompt does not fit: no judgement
    assert len(bad.rewards) == 1 and 0 <= bad.rewards[0] <= 1


def test_no_judgement_scores_one_half(genprm_engine, sandbox):
    prm = GenerativePRM(genprm_engine, sandbox=sandbox, max_tokens=4)  # runs out before judging
    (score,) = prm.score([Prefix(PROBLEM, RIGHT[:1])])
    assert score.rewards == [0.5]


def test_bad_settings_are_refused(genprm_engine):
    with pytest.raises(ValueError, match="samples"):
        GenerativePRM(genprm_engine, samples=0)
    with pytest.raises(ValueError, match="max_rounds"):
        GenerativePRM(genprm_engine, max_rounds=0, code=False)


def test_a_chat_past_the_verifiers_context_is_counted_not_run_past(sandbox):
    """A verifier with a short context: verifications that run out of it get no verdict (0.5)
    and are counted in the score and in the spend, instead of running past trained positions."""
    from tts import Budget, Prefix, search
    from tts.policy import load_policy
    from tts.prm import GenerativePRM
    from tts.tasks.splits import testbed_split

    engine = load_policy("hf", "tiny-genprm", seed=0, max_model_len=160)
    prm = GenerativePRM(engine, sandbox=sandbox)
    [p] = testbed_split("dev", limit=1)
    steps = tuple(p.steps)
    [score] = prm.score([Prefix(p.problem, steps)])
    assert score.context_full > 0 and score.rewards[-1] == 0.5
    assert all(len(engine.tokenizer(v[0]).input_ids) < 160 for v in score.verifications)
    [cached] = prm.score([Prefix(p.problem, steps)])
    assert cached.context_full == 0 and cached.rewards == score.rewards  # charged once, like tokens

    import search as strategies

    prm.clear_cache()
    [r] = search([p], strategies.best_of_n(2), load_policy("hf", seed=0), prm, budget=Budget(per_problem=512),
                 progress=False)
    assert r.spend.prm_context_full > 0
    # The policy's side: outputs the context cut are counted too, and end the solution.
    [r] = search([p], strategies.majority_vote(2), load_policy("hf", seed=0, max_model_len=48), progress=False)
    assert r.spend.policy_context_full == 2
