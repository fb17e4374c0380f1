import pytest

from tts.policy import Prefix
from tts.tasks.arithmetic import parse_problem
from tts.prm import DiscriminativePRM, load_prm

PROBLEM = "Start with 37. Add 48. Multiply by 3. Divide by 4, rounding down. What is the result?"
RIGHT = tuple(parse_problem(PROBLEM).gold_steps())  # sentences around equations, as the policy writes


@pytest.fixture(scope="module")
def dprm():
    return load_prm("dprm")


def test_one_reward_per_step(dprm):
    empty, one, full = dprm.score([Prefix(PROBLEM, ()), Prefix(PROBLEM, RIGHT[:1]), Prefix(PROBLEM, RIGHT)])
    assert empty.rewards == [] and len(one.rewards) == 1 and len(full.rewards) == 4
    assert all(0 <= r <= 1 for r in full.rewards)
    # Causal model: a step's reward does not depend on the steps after it.
    assert one.rewards[0] == pytest.approx(full.rewards[0], abs=1e-5)


def test_batching_does_not_change_rewards(dprm):
    prefixes = [Prefix(PROBLEM, RIGHT[:k]) for k in range(1, 5)]
    together = [s.rewards for s in dprm.score(prefixes)]
    alone = [dprm.score([p])[0].rewards for p in prefixes]
    for a, b in zip(together, alone, strict=True):
        assert a == pytest.approx(b, abs=1e-5)


def test_bad_input(dprm):
    undecodable = b"37 + 48 = \xff85".decode("utf-8", "surrogateescape")
    huge, bad = dprm.score([Prefix(PROBLEM, ("7" * 100_000, "8 + 1 = 9")), Prefix(PROBLEM, (undecodable,))])
    assert len(huge.rewards) == 2 and len(bad.rewards) == 1


def test_missing_checkpoint_is_named():
    with pytest.raises(FileNotFoundError, match="no-such-dir"):
        DiscriminativePRM("./no-such-dir")
