import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts.grading import split_steps
from tts.tasks import (
    Chain,
    ChainConfig,
    check_steps,
    first_error,
    generate_chain,
    generate_problems,
    label_solution,
    parse_problem,
)
from tts.tasks.arithmetic import apply


def test_generator_is_seeded_and_respects_knobs():
    cfg = ChainConfig(min_ops=3, max_ops=5, ops=("+", "*"), start_range=(1, 99), max_value=500)
    a = generate_problems(50, seed=7, cfg=cfg)
    b = generate_problems(50, seed=7, cfg=cfg)
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]
    assert [p.problem for p in generate_problems(50, seed=8, cfg=cfg)] != [p.problem for p in a]
    for p in a:
        chain = parse_problem(p.problem)
        assert 3 <= len(chain.ops) <= 5
        assert {op for op, _ in chain.ops} <= {"+", "*"}
        assert all(0 <= v <= 500 for v in chain.values)
        assert p.answer == str(chain.answer)


def test_gold_solution_format():
    chain = Chain(start=37, ops=(("+", 48), ("*", 3), ("-", 59), ("//", 4)))
    assert chain.problem_text() == (
        "Start with 37. Add 48. Multiply by 3. Subtract 59. Divide by 4, rounding down. What is the result?"
    )
    assert chain.gold_steps() == ["Next we add 48, so 37 + 48 = 85.", "Multiplying 85 by 3 gives 85 * 3 = 255.",
                                  "Subtracting 59 from 255 gives 255 - 59 = 196.",
                                  "Dividing 196 by 4 and rounding down gives 196 // 4 = 49.",
                                  "The answer is \\boxed{49}."]
    assert parse_problem(chain.problem_text()) == chain


def test_the_checker_reads_the_equation_inside_its_sentence():
    chain = Chain(start=37, ops=(("+", 48),))
    for step in ("37 + 48 = 85", "So 37 + 48 = 85.", "Adding 48 to 37 gives 37+48=85, as expected."):
        assert check_steps(chain, [step])[0].correct
    wrong = check_steps(chain, ["Adding 48 to 37 gives 37 + 48 = 86."])[0]
    assert wrong.kind == "operation" and not wrong.arithmetic_ok
    assert check_steps(chain, ["Adding 48 to 37 is easy."])[0].kind == "unparsed"


def test_the_default_grid_is_wide_and_the_named_families_lie_outside_it():
    from tts.tasks.splits import GRID, OUT_OF_GRID, testbed_split

    assert (GRID.min_ops, GRID.max_ops, GRID.start_range[1]) == (1, 10, 999)
    test = testbed_split("test")
    assert {len(parse_problem(p.problem).ops) for p in test} == set(range(1, 11))
    long, large = (testbed_split(n) for n in OUT_OF_GRID)
    assert min(len(parse_problem(p.problem).ops) for p in long) > GRID.max_ops
    big = [b for p in large for op, b in parse_problem(p.problem).ops if op in "+-"]
    assert big and min(big) > GRID.add_range[1]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_gold_steps_check_correct_and_round_trip(seed):
    chain = generate_chain(np.random.default_rng(seed), ChainConfig())
    assert parse_problem(chain.problem_text()) == chain
    steps = chain.gold_steps()
    assert all(c.correct for c in check_steps(chain, steps))
    assert first_error(chain, steps) == -1
    assert split_steps("\n\n".join(steps)) == steps


def test_checker_names_what_is_wrong():
    chain = Chain(start=37, ops=(("+", 48), ("*", 3), ("-", 59)))
    # Step 1 multiplies by the wrong number but does so correctly; step 2 carries it forward.
    steps = ["37 + 48 = 85", "85 * 4 = 340", "340 - 59 = 281", "The answer is \\boxed{281}"]
    checks = check_steps(chain, steps)
    assert [c.correct for c in checks] == [True, False, False, False]
    assert checks[1].arithmetic_ok and checks[1].operand_ok and not checks[1].operation_ok
    assert checks[2].arithmetic_ok and checks[2].operand_ok and checks[2].operation_ok  # locally fine
    assert first_error(chain, steps) == 1
    # A near-miss product, a miscopied running value, a wrong final copy:
    assert first_error(chain, ["37 + 48 = 85", "85 * 3 = 254"]) == 1
    assert first_error(chain, ["37 + 48 = 85", "58 * 3 = 174"]) == 1
    assert first_error(chain, chain.gold_steps()[:-1] + ["The answer is \\boxed{197}"]) == 3
    assert first_error(chain, ["37 + 48 = 85", "I think so"]) == 1
    assert first_error(chain, ["37 + 48 = 85"]) == 1  # stopped early: the first missing step
    assert first_error(chain, ["The answer is \\boxed{196}"]) == 0  # premature answer


def test_label_policy_solution():
    problem = generate_problems(1, seed=3)[0]
    chain = parse_problem(problem.problem)
    gold = "\n\n".join(chain.gold_steps())
    lab = label_solution(problem, gold)
    assert (lab.label, lab.final_answer_correct, lab.complete) == (-1, True, True)
    truncated = label_solution(problem, "\n\n".join(chain.gold_steps()[:2]))
    assert (truncated.label, truncated.complete) == (-1, False)


@pytest.mark.parametrize("kwargs", [dict(ops=("%",)), dict(min_ops=0), dict(min_ops=4, max_ops=2),
                                    dict(add_range=(9, 1)), dict(mul_range=(0, 3))])
def test_bad_config_is_rejected(kwargs):
    with pytest.raises(ValueError):
        ChainConfig(**kwargs)


def test_apply_rejects_unknown_op():
    with pytest.raises(ValueError, match="unknown operation"):
        apply(1, "^", 2)
