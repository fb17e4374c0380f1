import collections

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts.tasks import (
    CORRUPTION_KINDS,
    ChainConfig,
    corrupt_chain,
    first_error,
    generate_chain,
    generate_problems,
    label_policy_samples,
    make_processbench,
    parse_problem,
)
from tts.tasks.corrupt import _carries


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(CORRUPTION_KINDS))
def test_corruption_label_is_the_first_wrong_step(seed, kind):
    rng = np.random.default_rng(seed)
    chain = generate_chain(rng, ChainConfig())
    result = corrupt_chain(rng, chain, kind)
    if result is None:
        return  # the kind does not apply here (e.g. no carry to drop)
    steps, label = result
    assert first_error(chain, steps) == label
    assert steps[:label] == chain.gold_steps()[:label]
    assert len(steps) == len(chain.ops) + 1  # errors are carried to a final answer


def test_carries_are_real_column_carries():
    assert _carries(47, "+", 38) == [10]  # 7 + 8 carries into the tens
    assert _carries(12, "+", 13) == []
    assert _carries(52, "-", 38) == [10]  # borrow from the tens
    assert _carries(47, "*", 3) == [20, 100]  # 7*3=21 carries 2; 4*3+2=14 carries 1


def test_make_processbench_mix_and_determinism():
    problems = generate_problems(600, seed=5)
    a = make_processbench(problems, seed=1, error_fraction=0.5)
    assert [s.to_dict() for s in a] == [s.to_dict() for s in make_processbench(problems, seed=1)]
    labels = [s.label for s in a]
    assert 0.4 < sum(label >= 0 for label in labels) / len(labels) < 0.6
    kinds = collections.Counter(s.meta["kind"] for s in a if s.label >= 0)
    assert set(kinds) == set(CORRUPTION_KINDS)
    for s in a:
        assert s.final_answer_correct == (s.label == -1)
        assert first_error(parse_problem(s.problem), s.steps) == s.label


def test_label_policy_samples_drops_incomplete_and_says_so():
    problem = generate_problems(1, seed=9)[0]
    gold = problem.steps
    wrong = gold[:1] + ["1 + 1 = 3"] + gold[2:]
    samples, incomplete = label_policy_samples(problem, ["\n\n".join(gold), "\n\n".join(wrong), gold[0]])
    assert incomplete == 1
    assert [s.label for s in samples] == [-1, 1]
    assert samples[0].final_answer_correct


def test_bad_arguments():
    problems = generate_problems(3, seed=0)
    with pytest.raises(ValueError, match="error_fraction"):
        make_processbench(problems, error_fraction=1.5)
    with pytest.raises(ValueError, match="unknown corruption"):
        make_processbench(problems, kinds=["typo"])
