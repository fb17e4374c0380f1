"""Majority voting over final answers, with answers grouped by mathematical equivalence.

``\\frac{1}{2}``, ``\\dfrac{1}{2}``, ``0.5`` and ``1/2`` are one answer: a vote that keyed them by
string would split them and hand the win to a wrong answer written one way. Grouping is done
cheaply: a canonical form first (plain numbers collide exactly), then math-verify between the
classes that remain (a handful per problem), joined with a union-find.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from tts.grading.equivalence import answers_equal


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


def _is_number(key: str) -> bool:
    try:
        Fraction(key)
    except (ValueError, ZeroDivisionError):
        return False
    return True


def answer_classes(answers: Sequence[str | None]) -> list[int | None]:
    """For each answer, the index of the first answer equivalent to it (its class); None for a
    missing answer. Canonical forms first, math-verify between the remaining classes."""
    first_of_key: dict[str, int] = {}
    reps: list[int] = []  # one answer index per canonical key, in order of appearance
    numeric: dict[int, bool] = {}  # whether a class's key is a plain number
    keyed: list[int | None] = []
    for i, a in enumerate(answers):
        key = canonical_answer(a)
        if key is None:
            keyed.append(None)
            continue
        if key not in first_of_key:
            first_of_key[key] = i
            reps.append(i)
            numeric[i] = _is_number(key)
        keyed.append(first_of_key[key])
    root = {r: r for r in reps}

    def find(r: int) -> int:
        while root[r] != r:
            root[r] = root[root[r]]
            r = root[r]
        return r

    for a_pos, a in enumerate(reps):
        for b in reps[a_pos + 1:]:
            if numeric[a] and numeric[b]:
                continue  # two different plain numbers: no need to ask math-verify
            ra, rb = find(a), find(b)
            if ra != rb and answers_equal(answers[b], answers[a]):
                root[rb] = ra  # ra < rb: the earliest answer names the class
    return [None if k is None else find(k) for k in keyed]


def _tally(answers: Sequence[str | None], weights: Sequence[float] | None) -> tuple[list[int | None], dict[int, float]]:
    weights = weights if weights is not None else [1.0] * len(answers)
    if len(weights) != len(answers):
        raise ValueError(f"{len(answers)} answers but {len(weights)} weights")
    classes = answer_classes(answers)
    totals: dict[int, float] = {}
    for c, w in zip(classes, weights, strict=True):
        if c is not None:
            totals[c] = totals.get(c, 0.0) + w
    return classes, totals


def _winner(totals: dict[int, float]) -> int | None:
    if not totals:
        return None
    best = max(totals.values())
    return min(c for c, t in totals.items() if t == best)  # ties: the class seen first


def majority_vote(answers: Sequence[str | None], weights: Sequence[float] | None = None) -> str | None:
    """The answer with the largest (weighted) count over equivalence classes, written as it was
    first seen; ties go to the class seen first. Missing answers (None) never win."""
    _, totals = _tally(answers, weights)
    win = _winner(totals)
    return None if win is None else answers[win]


def vote_index(answers: Sequence[str | None], weights: Sequence[float] | None = None) -> int | None:
    """The solution to keep after a (weighted) vote: among those whose answer wins, the one with
    the largest weight (the first, on ties). None when no solution has an answer."""
    classes, totals = _tally(answers, weights)
    win = _winner(totals)
    if win is None:
        return None
    weights = weights if weights is not None else [1.0] * len(answers)
    return max((i for i, c in enumerate(classes) if c == win), key=lambda i: weights[i])
