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


def test_votes_group_equivalent_answers():
    from tts.grading import answer_classes, vote_index

    answers = ["\\frac{1}{2}", "3", "\\dfrac{1}{2}", "0.5", "3", None, "1/2"]
    assert answer_classes(answers) == [0, 1, 0, 0, 1, None, 0]
    # Split by string, "3" would win 2 to 1; as one answer, 1/2 wins 4 to 2.
    assert majority_vote(answers) == "\\frac{1}{2}"
    assert vote_index(answers) == 0
    assert majority_vote(["x+1", "1+x", "2"]) == "x+1"
    # Weighted: the winning class keeps its best-weighted member.
    assert vote_index(["0.5", "3", "\\frac12"], weights=[0.2, 0.6, 0.5]) == 2
