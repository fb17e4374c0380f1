from tts.models.evaluate_policy import solution_stats
from tts.tasks.splits import testbed_split


def test_solution_stats_counts_the_first_error_hazard():
    p = testbed_split("dev", limit=1)[0]
    gold = p.steps
    right = solution_stats(p, "\n\n".join(gold))
    assert (right.correct, right.errors, right.steps_checked) == (True, 0, len(gold))
    bad = gold[:1] + ["1 + 1 = 3"] + gold[2:]
    wrong = solution_stats(p, "\n\n".join(bad))
    assert (wrong.correct, wrong.errors, wrong.steps_checked) == (True, 1, 2)  # right answer, wrong step
    none = solution_stats(p, gold[0])
    assert (none.correct, none.answer) == (False, None)


def test_splits_are_fixed():
    a = testbed_split("test")
    assert len(a) == 500 and a == testbed_split("test")
    assert {len(x.steps) - 1 for x in a} == set(range(1, 11))  # the training grid's 1-10 operations
    assert {len(x.steps) - 1 for x in testbed_split("long")} == set(range(11, 15))
