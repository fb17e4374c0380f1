"""The arithmetic-chain task: "Start with 37. Add 48. Multiply by 3. ... What is the result?"

The gold solution has one step per paragraph, a sentence around its equation as a chat model writes
it ("Adding 48 to 37 gives 37 + 48 = 85."), then ``The answer is \\boxed{N}.``
Every step's truth is checkable exactly, which is what makes the testbed useful: policy samples
can be labelled step by step, and a ProcessBench-format set has known first-error indices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from tts.grading.boxed import last_boxed
from tts.grading.steps import DEFAULT_DELIMITER, split_steps
from tts.tasks.records import Problem

OPS = ("+", "-", "*", "//")

_PHRASE = {"+": "Add {}.", "-": "Subtract {}.", "*": "Multiply by {}.", "//": "Divide by {}, rounding down."}
_PROBLEM_RE = re.compile(r"Start with (-?\d+)\.((?:\s*(?:Add|Subtract|Multiply by|Divide by) -?\d+(?:, rounding down)?\.)+)\s*What is the result\?")
_OP_RE = re.compile(r"(Add|Subtract|Multiply by|Divide by) (-?\d+)")
_WORD_OP = {"Add": "+", "Subtract": "-", "Multiply by": "*", "Divide by": "//"}
# A step's equation, wherever it stands in its sentence (the last one counts).
EQUATION_RE = re.compile(r"(-?\d+)\s*(//|[+\-*])\s*(-?\d+)\s*=\s*(-?\d+)")
# Two phrasings per operation, picked by the operands' parity, so the policy sees (and samples)
# varied sentences around the same equation, as a real model writes them.
_SENTENCES = {
    "+": ("Adding {b} to {a} gives {eq}.", "Next we add {b}, so {eq}."),
    "-": ("Subtracting {b} from {a} gives {eq}.", "Next we subtract {b}, so {eq}."),
    "*": ("Multiplying {a} by {b} gives {eq}.", "Next we multiply by {b}, so {eq}."),
    "//": ("Dividing {a} by {b} and rounding down gives {eq}.", "Next we divide by {b}, rounding down, so {eq}."),
}


def apply(a: int, op: str, b: int) -> int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "//":
        return a // b
    raise ValueError(f"unknown operation {op!r}; expected one of {OPS}")


def format_step(a: int, op: str, b: int, c: int) -> str:
    return _SENTENCES[op][(a + b) % 2].format(a=a, b=b, eq=f"{a} {op} {b} = {c}")


def parse_equation(step: str) -> tuple[int, str, int, int] | None:
    """(a, op, b, c) of the step's equation, or None when it states none."""
    found = EQUATION_RE.findall(step)
    if not found:
        return None
    a, op, b, c = found[-1]
    return int(a), op, int(b), int(c)


def format_answer(value: int | str) -> str:
    return f"The answer is \\boxed{{{value}}}."


@dataclass(frozen=True)
class Chain:
    start: int
    ops: tuple[tuple[str, int], ...]  # (operation, operand) pairs

    @property
    def values(self) -> list[int]:
        """The running value before the first and after every operation."""
        out = [self.start]
        for op, b in self.ops:
            out.append(apply(out[-1], op, b))
        return out

    @property
    def answer(self) -> int:
        return self.values[-1]

    def problem_text(self) -> str:
        ops = " ".join(_PHRASE[op].format(b) for op, b in self.ops)
        return f"Start with {self.start}. {ops} What is the result?"

    def gold_steps(self) -> list[str]:
        v = self.values
        steps = [format_step(v[i], op, b, v[i + 1]) for i, (op, b) in enumerate(self.ops)]
        return steps + [format_answer(self.answer)]


def parse_problem(text: str) -> Chain:
    """The chain a problem text describes; ``ValueError`` if it is not an arithmetic chain."""
    m = _PROBLEM_RE.search(text)
    if not m:
        raise ValueError(f"not an arithmetic-chain problem: {text[:80]!r}")
    ops = tuple((_WORD_OP[w], int(b)) for w, b in _OP_RE.findall(m.group(2)))
    return Chain(start=int(m.group(1)), ops=ops)


@dataclass
class ChainConfig:
    """Knobs of the generator. Values stay within ``[0, max_value]`` at every step. The defaults
    are the training grid of the shipped models: what a user would call ordinary chains."""

    min_ops: int = 1
    max_ops: int = 10
    start_range: tuple[int, int] = (1, 999)
    add_range: tuple[int, int] = (1, 99)  # operand range for + and -
    mul_range: tuple[int, int] = (2, 9)  # operand range for * and //
    ops: tuple[str, ...] = OPS
    max_value: int = 999

    def __post_init__(self) -> None:
        bad = [op for op in self.ops if op not in OPS]
        if bad or not self.ops:
            raise ValueError(f"ops must be a non-empty subset of {OPS}, got {self.ops}")
        if not 1 <= self.min_ops <= self.max_ops:
            raise ValueError(f"need 1 <= min_ops <= max_ops, got {self.min_ops}, {self.max_ops}")
        for name in ("start_range", "add_range", "mul_range"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name} must be (low, high) with low <= high, got {(lo, hi)}")
        if self.mul_range[0] < 1:
            raise ValueError(f"mul_range must be positive (it divides), got {self.mul_range}")
        if self.start_range[1] > self.max_value:
            raise ValueError(f"start_range {self.start_range} exceeds max_value {self.max_value}")


def _feasible(x: int, cfg: ChainConfig) -> list[tuple[str, int, int]]:
    """(op, low, high) operand ranges that keep the value within [0, max_value]."""
    out = []
    lo, hi = cfg.add_range
    mlo, mhi = cfg.mul_range
    if "+" in cfg.ops and x + lo <= cfg.max_value:
        out.append(("+", lo, min(hi, cfg.max_value - x)))
    if "-" in cfg.ops and x - lo >= 0:
        out.append(("-", lo, min(hi, x)))
    if "*" in cfg.ops and x > 0 and x * mlo <= cfg.max_value:
        out.append(("*", mlo, min(mhi, cfg.max_value // x)))
    if "//" in cfg.ops and x >= mlo:
        out.append(("//", mlo, min(mhi, x)))
    return out


def generate_chain(rng: np.random.Generator, cfg: ChainConfig, max_tries: int = 100) -> Chain:
    """A random chain; a draw that paints itself into a corner (e.g. only + and * allowed and the
    value at ``max_value``) is redrawn, up to ``max_tries`` times."""
    n_ops = int(rng.integers(cfg.min_ops, cfg.max_ops + 1))
    for _ in range(max_tries):
        x = int(rng.integers(cfg.start_range[0], cfg.start_range[1] + 1))
        start, ops = x, []
        while len(ops) < n_ops:
            choices = _feasible(x, cfg)
            if not choices:
                break
            op, lo, hi = choices[int(rng.integers(len(choices)))]
            b = int(rng.integers(lo, hi + 1))
            ops.append((op, b))
            x = apply(x, op, b)
        else:
            return Chain(start=start, ops=tuple(ops))
    raise ValueError(
        f"could not build a chain of {n_ops} operations from {cfg.ops} within [0, {cfg.max_value}] "
        f"in {max_tries} tries; widen max_value or the operand ranges, or allow more operations"
    )


def generate_problems(n: int, seed: int = 0, cfg: ChainConfig | None = None, prefix: str = "arith") -> list[Problem]:
    """``n`` problems with gold steps, reproducible from ``seed``."""
    cfg = cfg or ChainConfig()
    rng = np.random.default_rng(seed)
    problems = []
    for i in range(n):
        chain = generate_chain(rng, cfg)
        problems.append(
            Problem(
                id=f"{prefix}-{seed}-{i}",
                problem=chain.problem_text(),
                answer=str(chain.answer),
                steps=chain.gold_steps(),
                meta={"task": "arithmetic", "num_ops": len(chain.ops)},
            )
        )
    return problems


# -- checking ---------------------------------------------------------------------------------
@dataclass
class StepCheck:
    """Verdict on one step. ``operand_ok`` compares with the value the previous step claimed
    (what a verifier can see), ``correct`` with the true chain."""

    index: int
    kind: str  # "operation" | "answer" | "unparsed"
    operand_ok: bool = False
    operation_ok: bool = False
    arithmetic_ok: bool = False
    correct: bool = False
    claimed: int | None = None  # the value the step claims (result, or boxed answer)
    expected: dict = field(default_factory=dict)


def _to_int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip().replace(",", ""))
    except ValueError:
        return None


def check_steps(chain: Chain, steps: list[str]) -> list[StepCheck]:
    """Check every step exactly against the chain."""
    values = chain.values
    checks: list[StepCheck] = []
    prev_claim: int | None = chain.start
    all_correct = True
    for t, text in enumerate(steps):
        eq = parse_equation(text)
        boxed = last_boxed(text)
        if eq is not None:
            a, op, b, c = eq
            want = chain.ops[t] if t < len(chain.ops) else None
            arithmetic_ok = op != "//" or b != 0
            arithmetic_ok = arithmetic_ok and apply(a, op, b) == c
            check = StepCheck(
                index=t, kind="operation", operand_ok=a == prev_claim,
                operation_ok=want is not None and (op, b) == want, arithmetic_ok=arithmetic_ok,
                claimed=c, expected={"a": prev_claim, "op": want[0] if want else None,
                                     "b": want[1] if want else None},
            )
            check.correct = all_correct and check.operand_ok and check.operation_ok and check.arithmetic_ok
            prev_claim = c
        elif boxed is not None:
            claimed = _to_int(boxed)
            ok = claimed is not None and claimed == prev_claim and t == len(chain.ops)
            check = StepCheck(index=t, kind="answer", operand_ok=claimed == prev_claim,
                              operation_ok=t == len(chain.ops), arithmetic_ok=ok, claimed=claimed,
                              expected={"answer": values[-1]})
            check.correct = all_correct and ok
        else:
            check = StepCheck(index=t, kind="unparsed")
        all_correct = check.correct
        checks.append(check)
    return checks


def first_error(chain: Chain, steps: list[str]) -> int:
    """Index of the first wrong step, or -1 when every step is right and the solution is complete
    (a solution that stops early has its error at the first missing step's index)."""
    for check in check_steps(chain, steps):
        if not check.correct:
            return check.index
    complete = len(steps) == len(chain.ops) + 1
    return -1 if complete else len(steps)


@dataclass
class LabelledSolution:
    steps: list[str]
    label: int  # first wrong step, -1 if none of the given steps is wrong
    final_answer_correct: bool
    complete: bool  # ended with a final answer


def label_solution(problem: Problem, solution: str, delimiter: str = DEFAULT_DELIMITER) -> LabelledSolution:
    """Split a policy sample of a chain problem into steps and label its first wrong step."""
    chain = parse_problem(problem.problem)
    steps = split_steps(solution, delimiter)
    label = first_error(chain, steps)
    answer = _to_int(last_boxed(steps[-1])) if steps else None
    return LabelledSolution(
        steps=steps,
        label=-1 if label >= len(steps) else label,  # right so far, but stopped early
        final_answer_correct=answer == chain.answer,
        complete=answer is not None,
    )
