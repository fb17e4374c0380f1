"""ProcessBench-format samples for the arithmetic testbed, by corrupting gold solutions.

Each corruption imitates a mistake a model makes: a near-miss digit, an off-by-one, a dropped
carry or borrow, the wrong operation or operand, a miscopied running value, a miscopied final
answer. Later steps carry the error forward (computed correctly from the wrong value), as a
policy that made the mistake would, so only the first wrong step is the label.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tts.tasks.arithmetic import (
    Chain,
    apply,
    first_error,
    format_answer,
    format_step,
    parse_problem,
)
from tts.tasks.records import Problem, ProcessBenchSample

Rng = np.random.Generator
# A corruption of operation step t: returns (a, op, b, c) as written, or None if it cannot apply.
StepCorruption = Callable[[Rng, int, str, int], "tuple[int, str, int, int] | None"]


def _change_digit(rng: Rng, x: int) -> int:
    digits = str(abs(x))
    pos = int(rng.integers(len(digits)))
    d = int(digits[pos])
    # Nudge by one; a leading 1 of a multi-digit number goes up, so the length does not change.
    new = d + 1 if d == 0 or (d == 1 and pos == 0 and len(digits) > 1) or (d < 9 and rng.random() < 0.5) else d - 1
    changed = int(digits[:pos] + str(new) + digits[pos + 1 :])
    return -changed if x < 0 else changed


def _digit(rng: Rng, a: int, op: str, b: int):
    return a, op, b, _change_digit(rng, apply(a, op, b))


def _off_by_one(rng: Rng, a: int, op: str, b: int):
    return a, op, b, apply(a, op, b) + (1 if rng.random() < 0.5 else -1)


def _carries(a: int, op: str, b: int) -> list[int]:
    """Place values (10, 100, ...) of each carry (or borrow) a column-wise computation makes."""
    if a < 0 or b < 0:
        return []
    places, carry, place = [], 0, 1
    if op == "+":
        while a or b or carry:
            s = a % 10 + b % 10 + carry
            carry = s // 10
            if carry:
                places.append(place * 10)
            a, b, place = a // 10, b // 10, place * 10
    elif op == "-":
        if a < b:
            return []
        while a or b:
            d = a % 10 - b % 10 - carry
            carry = 1 if d < 0 else 0
            if carry:
                places.append(place * 10)
            a, b, place = a // 10, b // 10, place * 10
    elif op == "*" and b < 10:
        while a:
            p = (a % 10) * b + carry
            carry = p // 10
            if carry:
                places.append(place * 10 * carry)  # dropping it loses carry * 10^(k+1)
            a, place = a // 10, place * 10
    return places


def _carry(rng: Rng, a: int, op: str, b: int):
    places = _carries(a, op, b)
    if not places:
        return None
    dropped = places[int(rng.integers(len(places)))]
    c = apply(a, op, b)
    return a, op, b, c + dropped if op == "-" else c - dropped


# The confusions a solver makes: the inverse operation, written with the right operand.
_CONFUSED = {"+": "-", "-": "+", "*": "//", "//": "*"}


def _wrong_operation(rng: Rng, a: int, op: str, b: int):
    wrong = _CONFUSED[op]
    c = apply(a, wrong, b)
    return (a, wrong, b, c) if c != apply(a, op, b) else None


def _wrong_operand(rng: Rng, a: int, op: str, b: int):
    wrong = _change_digit(rng, b)
    if wrong == 0 and op == "//":
        return None
    c = apply(a, op, wrong)
    return (a, op, wrong, c) if c != apply(a, op, b) else None


def _copy(rng: Rng, a: int, op: str, b: int):
    digits = str(a)
    if len(digits) > 1 and digits[0] != digits[1] and rng.random() < 0.5:
        wrong = int(digits[1] + digits[0] + digits[2:])  # transposed digits
        if digits[1] == "0":
            wrong = _change_digit(rng, a)
    else:
        wrong = _change_digit(rng, a)
    if op == "//" and wrong < 0:
        return None
    c = apply(wrong, op, b)
    return (wrong, op, b, c) if c != apply(a, op, b) else None


STEP_CORRUPTIONS: dict[str, StepCorruption] = {
    "digit": _digit,
    "off_by_one": _off_by_one,
    "carry": _carry,
    "wrong_operation": _wrong_operation,
    "wrong_operand": _wrong_operand,
    "copy": _copy,
}
KINDS = (*STEP_CORRUPTIONS, "final_copy")


def corrupt_chain(rng: Rng, chain: Chain, kind: str, step: int | None = None) -> tuple[list[str], int] | None:
    """Steps of ``chain`` with one ``kind`` error at ``step`` (random if None), the error carried
    forward; returns (steps, label) or None if that corruption cannot apply there."""
    if kind not in KINDS:
        raise ValueError(f"unknown corruption {kind!r}; choose from {KINDS}")
    n = len(chain.ops)
    values = chain.values
    if kind == "final_copy":
        wrong = _change_digit(rng, values[-1])
        steps = chain.gold_steps()[:-1] + [format_answer(wrong)]
        return steps, n
    t = int(rng.integers(n)) if step is None else step
    if not 0 <= t < n:
        raise ValueError(f"step {t} is not an operation step (0..{n - 1})")
    op, b = chain.ops[t]
    written = STEP_CORRUPTIONS[kind](rng, values[t], op, b)
    if written is None:
        return None
    steps = chain.gold_steps()[:t] + [format_step(*written)]
    x = written[3]
    for op2, b2 in chain.ops[t + 1 :]:
        if op2 == "//" and b2 == 0:
            return None
        y = apply(x, op2, b2)
        steps.append(format_step(x, op2, b2, y))
        x = y
    steps.append(format_answer(x))
    label = first_error(chain, steps)
    return (steps, label) if label == t else None


def make_processbench(
    problems: Sequence[Problem],
    seed: int = 0,
    error_fraction: float = 0.5,
    kinds: Sequence[str] = KINDS,
    subset: str = "testbed-corruption",
) -> list[ProcessBenchSample]:
    """One sample per problem: a corrupted solution with probability ``error_fraction`` (kinds
    drawn uniformly, falling back to another kind where one cannot apply), else the gold one."""
    if not 0.0 <= error_fraction <= 1.0:
        raise ValueError(f"error_fraction must lie in [0, 1], got {error_fraction}")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"unknown corruption kinds {unknown}; choose from {KINDS}")
    rng = np.random.default_rng(seed)
    samples = []
    for p in problems:
        chain = parse_problem(p.problem)
        meta = {"source_id": p.id, "num_ops": len(chain.ops), "kind": None}
        result = None
        if rng.random() < error_fraction:
            for kind in rng.permutation(np.array(kinds)).tolist():
                result = corrupt_chain(rng, chain, kind)
                if result is not None:
                    meta["kind"] = kind
                    break
        steps, label = result if result is not None else (chain.gold_steps(), -1)
        samples.append(
            ProcessBenchSample(id=f"pb-{p.id}", problem=p.problem, steps=steps, label=label,
                               final_answer_correct=label == -1, generator="reference",
                               subset=subset, meta=meta)
        )
    return samples
