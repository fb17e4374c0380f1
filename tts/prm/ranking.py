"""Exact pruning when ranking whole solutions by their aggregated step rewards.

Best-of-N keeps the solution with the largest aggregate (the first one on ties). Verifying every
step of every candidate is wasted where a candidate can no longer win: once some candidate is
fully verified with value ``v``, a candidate whose *upper bound* (the best aggregate any values of
its unverified steps could give) is below ``v`` (or equal, with a later index) is dropped. With a
incremental PRM (step ``t``'s reward depends only on steps ``<= t`` and verified steps are kept, as
GenPRM's cache does), a prefix's rewards are the full solution's first rewards and cost nothing
twice, so verifying step-major and pruning picks exactly the candidate and score that exhaustive
verification picks, for less.

``Ranker`` is the pure state machine (no engine): ``next_prefixes`` says which prefixes to score,
``feed`` takes their rewards. The scheduler drives many rankers in one PRM call per round.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from tts.policy.base import Prefix
from tts.prm.base import PRMScore, aggregate

# A mean's bound adds the unverified steps as 1.0 in a different float order than the final sum;
# the slack keeps the bound an upper bound (it can only keep a candidate longer, never drop one).
_SLACK = 1e-9


def upper_bound(rewards: Sequence[float], total_steps: int, how: str) -> float:
    """The largest aggregate a solution of ``total_steps`` steps can reach when its first steps
    have ``rewards`` (rewards lie in [0, 1])."""
    if total_steps == 0:
        return aggregate([], how)
    if len(rewards) >= total_steps:
        return aggregate(rewards[:total_steps], how)
    if how == "min":
        return float(min(rewards)) if rewards else 1.0
    if how == "prod":
        return float(math.prod(rewards))
    if how == "mean":
        return (float(sum(rewards)) + (total_steps - len(rewards))) / total_steps + _SLACK
    return 1.0  # "last": nothing is known until the last step is verified


@dataclass
class Ranking:
    """The result of a ``Rank`` request."""

    best: int  # index of the chosen solution (-1: no solutions)
    values: list[float | None]  # aggregates; None where a candidate was pruned
    scores: list[PRMScore]  # the rewards verified (a pruned candidate's first steps only)
    verified_steps: int  # step rewards read
    pruned_steps: int  # steps never verified because they could not change the choice
    bounds: list[float] = field(default_factory=list)  # each candidate's last upper bound

    @property
    def value(self) -> float | None:
        return self.values[self.best] if self.best >= 0 else None


class Ranker:
    """Ranks ``solutions`` (lists of steps) of one problem by ``aggregation``, step-major.

    ``prune=False`` (the scheduler's choice for a PRM that is not incremental) verifies every step
    in one pass."""

    def __init__(self, problem: str, solutions: Sequence[Sequence[str]], aggregation: str = "min",
                 prune: bool = True, lanes: int | None = None) -> None:
        aggregate([], aggregation)  # an unknown aggregation fails here
        self.problem = problem
        self.solutions = [tuple(s) for s in solutions]
        self.how = aggregation
        self.prune = prune
        if lanes is not None and lanes < 1:
            raise ValueError(f"lanes (candidates verified per pass) must be >= 1 or None, got {lanes}")
        self.lanes = lanes
        n = len(self.solutions)
        self.rewards: list[list[float]] = [[] for _ in range(n)]
        self.prompt_tokens = [0] * n
        self.cached_tokens = [0] * n
        self.generated_tokens = [0] * n
        self.verifications: list[list[list[str]]] = [[] for _ in range(n)]
        self.context_full = [0] * n
        self.alive = [i for i in range(n) if self.solutions[i]]
        self.best_value, self.best_index = -math.inf, -1
        for i in range(n):
            if not self.solutions[i]:  # nothing to verify: its value is known now
                self._offer(i)
        self._asked: list[int] = []

    @property
    def done(self) -> bool:
        return not self.alive

    def next_prefixes(self) -> list[Prefix]:
        """The prefixes to score this pass: one more step of the ``lanes`` most promising live
        candidates (highest bound, then most steps verified, so that one finishes early and sets
        the bar; then index), or of all of them; every step at once without pruning."""
        order = self.alive
        if self.prune and self.lanes is not None:
            order = sorted(order, key=lambda i: (-upper_bound(self.rewards[i], len(self.solutions[i]), self.how),
                                                 -len(self.rewards[i]), i))[: self.lanes]
        self._asked = list(order)
        return [Prefix(self.problem, self.solutions[i] if not self.prune else
                       self.solutions[i][: len(self.rewards[i]) + 1]) for i in self._asked]

    def feed(self, scores: Sequence[PRMScore]) -> None:
        if len(scores) != len(self._asked):
            raise ValueError(f"expected {len(self._asked)} scores, got {len(scores)}")
        for i, s in zip(self._asked, scores, strict=True):
            self.rewards[i] = list(s.rewards)
            self.verifications[i] = list(s.verifications)
            self.prompt_tokens[i] += s.prompt_tokens
            self.cached_tokens[i] += s.cached_tokens
            self.generated_tokens[i] += s.generated_tokens
            self.context_full[i] += s.context_full
            if len(self.rewards[i]) >= len(self.solutions[i]):
                self._offer(i)
        self.alive = [i for i in self.alive if len(self.rewards[i]) < len(self.solutions[i]) and self._can_win(i)]

    def _offer(self, i: int) -> None:
        v = aggregate(self.rewards[i], self.how)
        if v > self.best_value or (v == self.best_value and i < self.best_index):
            self.best_value, self.best_index = v, i

    def _can_win(self, i: int) -> bool:
        b = upper_bound(self.rewards[i], len(self.solutions[i]), self.how)
        return b > self.best_value or (b == self.best_value and i < self.best_index)

    def result(self) -> Ranking:
        n = len(self.solutions)
        values: list[float | None] = [aggregate(self.rewards[i], self.how)
                                      if len(self.rewards[i]) >= len(self.solutions[i]) else None for i in range(n)]
        scores = [PRMScore(self.rewards[i], self.prompt_tokens[i], self.generated_tokens[i], self.verifications[i],
                           self.context_full[i], self.cached_tokens[i]) for i in range(n)]
        verified = sum(len(r) for r in self.rewards)
        total = sum(len(s) for s in self.solutions)
        bounds = [upper_bound(self.rewards[i], len(self.solutions[i]), self.how) for i in range(n)]
        return Ranking(self.best_index, values, scores, verified, total - verified, bounds)


def rank_exhaustive(rewards: Sequence[Sequence[float]], aggregation: str = "min") -> int:
    """The plain reference: the index exhaustive verification picks (first maximum)."""
    values = [aggregate(r, aggregation) for r in rewards]
    return max(range(len(values)), key=lambda i: values[i], default=-1)
