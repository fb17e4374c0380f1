"""A deterministic writer of verifications for the arithmetic testbed, in the PRM protocols'
formats: what a strong LLM would write for GenPRM's rationale synthesis, made exact.

The analysis quotes the problem's previous operation as an anchor, then the operation after it
("After Add 48. the problem says Multiply by 3."), then the previous paragraph's result and the
paragraph's claim: the reasoning the no-code and ThinkPRM verifiers have to go on.

The code does not rely on that reading. The first paragraph's code copies the problem into the
interpreter and computes its chain of values there; GenPRM keeps one interpreter per solution, so
every later paragraph's code is one line that checks the paragraph's equation against the values
the problem gives at that paragraph's index (``print(values[2 - 1] == 85 and values[2] == 85 * 3
== 254)``; the answer against ``values[-1]``; a paragraph past the chain's end finds no value
there, an ``IndexError``). A verifier that misquotes an operation in one analysis therefore
cannot carry the mistake into the next check: finding the right operation is the interpreter's
indexing, not a chain of the model's own quotations, and what the model writes is copies (the
problem, the paragraph number it was given, the paragraph's equation). A step is judged against
the true chain, so a right operation on a wrongly carried value is wrong, as the Monte-Carlo
labels say. The expected output is the writer's code run here, so it is what the sandbox prints.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tts.grading.boxed import last_boxed
from tts.prm import protocol as P
from tts.tasks.arithmetic import parse_equation, parse_problem

_PHRASES = re.compile(r"(Add -?\d+\.|Subtract -?\d+\.|Multiply by -?\d+\.|Divide by -?\d+, rounding down\.|What is the result\?)")


@dataclass(frozen=True)
class StepRationale:
    analysis: str  # the analysis after the forced opening
    code: str
    output: str  # what the code prints
    verdict: bool  # the code's verdict: the step is right


def _claim(step: str) -> tuple[int, tuple[int, str, int] | None] | None:
    """(the value the step claims, its equation's (a, op, b) or None for an answer), or None."""
    eq = parse_equation(step)
    if eq is not None:
        a, op, b, c = eq
        return c, (a, op, b)
    boxed = last_boxed(step)
    try:
        return (int(boxed.strip()), None) if boxed is not None else None
    except ValueError:
        return None


def chain_setup(problem: str) -> str:
    """The first paragraph's code: the problem's chain of values computed in the interpreter."""
    return ("import operator, re\n"
            f"problem = {problem!r}\n"
            'ops = {"Add": operator.add, "Subtract": operator.sub, "Multiply by": operator.mul, '
            '"Divide by": operator.floordiv}\n'
            'values = [int(re.search(r"Start with (-?\\d+)", problem).group(1))]\n'
            'for word, b in re.findall(r"(Add|Subtract|Multiply by|Divide by) (-?\\d+)", problem):\n'
            "    values.append(ops[word](values[-1], int(b)))\n")


def check_code(index: int, claim: int, equation: tuple[int, str, int] | None) -> str:
    """The check of paragraph ``index`` (1-based): an operation step's equation must start from
    the problem's value before it, compute the value after it, and state that value; an answer
    must be the chain's last value. Everything in it is copied from the step or its number."""
    if equation is None:
        return f"print(values[-1] == {claim})"
    a, op, b = equation
    return f"print(values[{index} - 1] == {a} and values[{index}] == {a} {op} {b} == {claim})"


def _output(code: str, namespace: dict) -> str:
    """What the sandbox prints for ``code`` run in a solution's interpreter (its error line as
    the sandbox writes it): the writer's own code, run here so the two cannot disagree."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(code, namespace)  # noqa: S102  (the code is this module's own, not a model's)
    except Exception as e:  # noqa: BLE001  (an error is the code's output, as in the sandbox)
        out.write(f"Code execute Error: {type(e).__name__}: {e}\n")
    return out.getvalue().strip()


def rationales(problem: str, steps: Sequence[str]) -> list[StepRationale]:
    """One verification per step of an arithmetic-chain solution."""
    chain = parse_problem(problem)
    phrases = _PHRASES.findall(problem[problem.index(".") + 1 :])
    anchors = [f"Start with {chain.start}.", *phrases]
    namespace: dict = {}
    _output(chain_setup(problem), namespace)
    previous = chain.start
    out = []
    for t, step in enumerate(steps):
        phrase = phrases[min(t, len(phrases) - 1)]
        said = f"After {anchors[min(t, len(anchors) - 2)]} the problem says {phrase}"
        setup = chain_setup(problem) if t == 0 else ""
        claimed = _claim(step)
        if claimed is None:
            out.append(StepRationale(f"{said} The paragraph claims nothing.", setup + "print(False)", "False", False))
            continue
        claim, equation = claimed
        check = check_code(t + 1, claim, equation)
        output = _output(check, namespace)
        analysis = f"{said} The previous result is {previous}. The paragraph claims {claim}."
        out.append(StepRationale(analysis, setup + check, output, output == "True"))
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
