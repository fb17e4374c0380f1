import pytest

from tts.grading import canonical_answer, majority_vote


def test_canonical_answers_collide_for_equal_numbers():
    assert canonical_answer("1,000") == canonical_answer("1000") == canonical_answer(" 1000.0 ")
    assert canonical_answer("1/2") == canonical_answer("0.5")
    assert canonical_answer("x+1") == "x+1"
    assert canonical_answer(None) is None and canonical_answer("  ") is None


def test_majority_vote_weights_and_ties():
    assert majority_vote(["3", "4", "4", None, None, None]) == "4"
    assert majority_vote(["3", "4"]) == "3"  # tie: first seen
    assert majority_vote(["3", "4", "4"], weights=[0.9, 0.2, 0.2]) == "3"
    assert majority_vote([None, None]) is None
    with pytest.raises(ValueError, match="weights"):
        majority_vote(["1"], weights=[1.0, 2.0])
