import threading

import pytest

from tts.grading import answers_equal, grade_solution, last_boxed, split_steps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is \\boxed{196}", "196"),
        ("\\boxed{1} then \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("\\boxed{\\frac{\\sqrt{2}}{2}}.", "\\frac{\\sqrt{2}}{2}"),
        ("set \\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
        ("\\fbox{7}", "7"),
        ("so \\boxed 5 is it", "5"),
        ("no box at all", None),
        ("cut off \\boxed{\\frac{1}{2", None),
    ],
)
def test_last_boxed(text, expected):
    assert last_boxed(text) == expected


@pytest.mark.parametrize(
    ("pred", "gold"),
    [("0.5", "\\frac{1}{2}"), ("1/2", "0.5"), ("\\frac12", "0.5"), ("\\dfrac{3}{4}", "0.75"),
     ("5 cm", "5"), ("5\\text{ cm}", "5"), ("1,000", "1000"), ("196", "196"), ("-7", "-7"),
     ("10\\%", "10"), ("\\sqrt{2}/2", "\\frac{\\sqrt2}{2}")],
)
def test_equivalent_answers(pred, gold):
    assert answers_equal(pred, gold)


@pytest.mark.parametrize(("pred", "gold"), [("196", "197"), ("3", "-3"), ("0.5", "0.25"), (None, "1"), ("", "1")])
def test_different_answers(pred, gold):
    assert not answers_equal(pred, gold)


def test_grade_solution_uses_last_box():
    assert grade_solution("x = \\boxed{3}\n\nActually \\boxed{\\frac{1}{2}}", "0.5")
    assert not grade_solution("no answer", "0.5")


def test_grading_works_off_the_main_thread():
    out = []
    t = threading.Thread(target=lambda: out.append(answers_equal("1/2", "0.5")))
    t.start()
    t.join()
    assert out == [True]


def test_split_steps():
    assert split_steps("a\n\nb\n\n\n\nc  \n\n") == ["a", "b", "c"]
    assert split_steps("a\nb", delimiter="\n") == ["a", "b"]
    text = "Intro.\nStep 1: add.\nmore\n## Step 2. sub\n**Step 3:** done"
    assert split_steps(text, delimiter=None) == ["Intro.", "add.\nmore", "sub", "done"]
    with pytest.raises(ValueError, match="delimiter"):
        split_steps("a", delimiter="")
