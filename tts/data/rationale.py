"""A deterministic writer of verifications for the arithmetic testbed, in the PRM protocols'
formats: what a strong LLM would write for GenPRM's rationale synthesis, made exact.

The check follows the problem, not only the step: the analysis quotes the problem where the step
under review sits, as one contiguous span, the previous operation and the one after it ("The
problem reads: Add 48. Multiply by 3."), then the previous paragraph's result, and the code
recomputes the expected value from those and compares it with the paragraph's claim
(``print(85 * 3 == 254)``). So a wrong operand, operation, carried value or final answer all print
``False``. The quote is contiguous because that is the copy a tiny model makes reliably: its first
sentence repeats the previous verification's last quoted one, and from there every token is the
one that follows in the problem. (Quoting the next operation on its own after "After X. the
problem says" made it jump back into the problem mid-sentence, and on long problems it copied the
wrong operand or phrase; without any quote it copied the operand of the step under review.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tts.grading.boxed import last_boxed
from tts.prm import protocol as P
from tts.tasks.arithmetic import apply, parse_equation, parse_problem

_PHRASES = re.compile(r"(Add -?\d+\.|Subtract -?\d+\.|Multiply by -?\d+\.|Divide by -?\d+, rounding down\.|What is the result\?)")
_WORD_OP = {"Add": "+", "Subtract": "-", "Multiply": "*", "Divide": "//"}


@dataclass(frozen=True)
class StepRationale:
    analysis: str  # the analysis after the forced opening
    code: str
    output: str  # what the code prints
    verdict: bool  # the code's verdict: the step is right


def _claim(step: str) -> int | None:
    eq = parse_equation(step)
    if eq is not None:
        return eq[3]
    boxed = last_boxed(step)
    try:
        return int(boxed.strip()) if boxed is not None else None
    except ValueError:
        return None


def _expected(phrase: str, previous: int) -> tuple[str, int | None]:
    """(the expression the code evaluates, its value) for the problem's phrase."""
    if phrase.startswith("What"):
        return str(previous), previous
    word, number = phrase.split()[0], int(re.search(r"-?\d+", phrase).group())
    op = _WORD_OP[word]
    if op == "//" and number == 0:
        return f"{previous} // {number}", None
    return f"{previous} {op} {number}", apply(previous, op, number)


def rationales(problem: str, steps: Sequence[str]) -> list[StepRationale]:
    """One verification per step of an arithmetic-chain solution."""
    chain = parse_problem(problem)
    phrases = _PHRASES.findall(problem[problem.index(".") + 1 :])
    anchors = [f"Start with {chain.start}.", *phrases]
    previous = chain.start
    out = []
    for t, step in enumerate(steps):
        phrase = phrases[min(t, len(phrases) - 1)]
        said = f"The problem reads: {anchors[min(t, len(anchors) - 2)]} {phrase}"
        claim = _claim(step)
        if claim is None:
            out.append(StepRationale(f"{said} The paragraph claims nothing.", "print(False)", "False", False))
            continue
        expr, value = _expected(phrase, previous)
        verdict = value is not None and value == claim
        analysis = f"{said} The previous result is {previous}. The paragraph claims {claim}."
        out.append(StepRationale(analysis, f"print({expr} == {claim})", str(verdict), verdict))
        previous = claim
    return out


def genprm_turn(index: int, r: StepRationale, code: bool = True) -> str:
    """The assistant turn verifying paragraph ``index`` (1-based), with or without code."""
    text = P.ANALYZE_START.format(index=index) + r.analysis + "\n" + P.ANALYZE_END
    if code:
        text += P.VERIFY_START + r.code + P.CODE_END + P.CODE_OUTPUT.format(output=r.output) + P.VERIFY_END
    return text + P.OUTPUT_START + ("{Yes}$\n" if r.verdict else "{No}$\n") + P.OUTPUT_END


def think_turn(rs: Sequence[StepRationale]) -> str:
    """A ThinkPRM verification of a whole prefix: a boxed verdict per step, then the final answer."""
    lines = [P.THINK_STEP.format(index=i + 1) + r.analysis + (" \\boxed{correct}" if r.verdict else " \\boxed{incorrect}")
             for i, r in enumerate(rs)]
    return "\n".join(lines) + "\n" + P.THINK_FINAL + ("Yes" if all(r.verdict for r in rs) else "No")
