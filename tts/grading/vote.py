"""Majority voting over final answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from fractions import Fraction


def canonical_answer(answer: str | None) -> str | None:
    """A key under which equal plain-number answers collide (``1,000`` / ``1000.0`` / ``1000``);
    other answers are compared as whitespace-free strings."""
    if answer is None:
        return None
    text = "".join(answer.split()).replace(",", "").rstrip(".")
    if not text:
        return None
    try:
        return str(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return text


def majority_vote(answers: Sequence[str | None], weights: Sequence[float] | None = None) -> str | None:
    """The answer with the largest (weighted) count; ties go to the one seen first. Missing
    answers (None) never win."""
    weights = weights if weights is not None else [1.0] * len(answers)
    if len(weights) != len(answers):
        raise ValueError(f"{len(answers)} answers but {len(weights)} weights")
    totals: Counter[str] = Counter()
    first: dict[str, str] = {}
    for ans, w in zip(answers, weights, strict=True):
        key = canonical_answer(ans)
        if key is None:
            continue
        totals[key] += w
        first.setdefault(key, ans)  # type: ignore[arg-type]
    if not totals:
        return None
    best = max(totals.values())
    for key in first:  # insertion order: the earliest of the tied answers
        if totals[key] == best:
            return first[key]
    return None


def vote_index(answers: Sequence[str | None], weights: Sequence[float] | None = None) -> int | None:
    """The solution to keep after a (weighted) vote: among those whose answer wins, the one with
    the largest weight (the first, on ties). None when no solution has an answer."""
    winner = canonical_answer(majority_vote(answers, weights))
    if winner is None:
        return None
    weights = weights if weights is not None else [1.0] * len(answers)
    return max((i for i, a in enumerate(answers) if canonical_answer(a) == winner), key=lambda i: weights[i])
