import pytest

from tts.data.rationale import genprm_turn, rationales, think_turn
from tts.data.rpe import rpe_labels
from tts.prm import protocol as P
from tts.sandbox import SandboxPool
from tts.tasks import generate_problems
from tts.tasks.arithmetic import check_steps, parse_problem
from tts.tasks.corrupt import make_processbench


@pytest.mark.parametrize("mc, eps, want", [
    ([0.5, 0.5, 0.6, 1.0], 0.8, [1, 1, 1]),
    ([0.5, 0.3, 0.3, 0.0], 0.8, [0, 1, 0]),  # P_1 = 0.6 < 0.8; P_2 = 1; P_3 = 0
    ([0.5, 0.0, 0.5, 1.0], 0.8, [0, None, None]),  # once MC hits 0, later steps have no label
    ([0.0, 0.0, 1.0], 0.8, [None, None]),
    ([0.5, 0.0, None, None], 0.8, [0, None, None]),  # not rolled out after a dead prefix
    ([0.5, 0.45, 1.0], 0.9, [1, 1]),
    ([0.5, 0.45, 1.0], 0.95, [0, 1]),
])
def test_rpe_labels(mc, eps, want):
    assert rpe_labels(mc, eps) == want


def test_rpe_rejects_bad_eps():
    with pytest.raises(ValueError, match="eps"):
        rpe_labels([1.0, 1.0], eps=0)


PROBLEM = "Start with 37. Add 48. Multiply by 3. Divide by 4, rounding down. What is the result?"


@pytest.mark.parametrize("steps, verdicts", [
    (["37 + 48 = 85", "85 * 3 = 255", "255 // 4 = 63", "The answer is \\boxed{63}"], [True] * 4),
    (["37 + 48 = 85", "85 * 3 = 254", "254 // 4 = 63", "The answer is \\boxed{63}"], [True, False, True, True]),
    (["37 + 48 = 85", "85 + 3 = 88"], [True, False]),  # wrong operation
    (["37 + 48 = 85", "86 * 3 = 258"], [True, False]),  # miscopied carried value
    (["37 + 48 = 85", "85 * 4 = 340"], [True, False]),  # wrong operand
    (["37 + 48 = 85", "The answer is \\boxed{85}"], [True, False]),  # answered too early
    (["37 + 48 = 85", "85 * 3 = 255", "255 // 4 = 63", "The answer is \\boxed{64}"], [True, True, True, False]),
    (["thirty-seven plus"], [False]),
])
def test_rationale_checks_the_problem_and_the_previous_step(steps, verdicts):
    rs = rationales(PROBLEM, steps)
    assert [r.verdict for r in rs] == verdicts


def test_rationale_code_really_prints_its_verdict():
    """The written code, executed in the sandbox, prints what the rationale claims."""
    problems = generate_problems(30, seed=5)
    samples = make_processbench(problems, seed=5, error_fraction=0.7)
    with SandboxPool(workers=1) as pool:
        for s in samples:
            rs = rationales(s.problem, s.steps)
            outs = pool.run([__import__("tts.sandbox", fromlist=["Snippet"]).Snippet(i, r.code) for i, r in enumerate(rs)])
            assert [o.output.strip() for o in outs] == [r.output for r in rs]
            exact = [c.correct for c in check_steps(parse_problem(s.problem), s.steps)]
            first_exact = exact.index(False) if False in exact else -1
            first_verdict = [r.verdict for r in rs].index(False) if not all(r.verdict for r in rs) else -1
            assert first_verdict == first_exact == s.label


def test_turn_formats_follow_the_protocol():
    r = rationales(PROBLEM, ["37 + 48 = 86"])[0]
    turn = genprm_turn(1, r)
    assert turn.startswith(P.ANALYZE_START.format(index=1))
    assert P.last_code(turn) == "print(37 + 48 == 86)"
    assert "[Code Output]\n\n```\nFalse\n```\n</verify>" in turn
    assert P.verdict_of(turn) is False and turn.endswith(P.OUTPUT_END)
    assert "<verify>" not in genprm_turn(1, r, code=False)
    assert think_turn([r]).endswith("\\boxed{incorrect}\nIs the solution correct? No")
