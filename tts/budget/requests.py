"""What a strategy asks the scheduler for. A strategy is a generator: it yields one request, the
scheduler batches it with every other live problem's request into one engine call per round,
and sends back the result."""

from __future__ import annotations

from dataclasses import dataclass, field

from tts.grading.steps import DEFAULT_DELIMITER
from tts.policy.base import Prefix, Sampling


@dataclass
class Expand:
    """``k`` candidates for each prefix: the next step, or (``to_end``) the rest of the solution.
    Result: ``list[list[StepCandidate]]``, ``k`` per prefix (fewer tokens if the budget clipped
    the round)."""

    prefixes: list[Prefix]
    k: int
    sampling: Sampling = field(default_factory=Sampling)
    to_end: bool = False
    delimiter: str = DEFAULT_DELIMITER  # what ends a step (and joins the steps of a prefix)


@dataclass
class Score:
    """Step rewards for each prefix. Result: ``list[PRMScore]``."""

    prefixes: list[Prefix]


@dataclass
class Rank:
    """Rank whole solutions of this problem by their aggregated step rewards and pick the best
    (the first on ties). ``prune``: verify step-major and stop verifying a candidate once it
    cannot win (exact: the same choice and score as verifying everything); the scheduler prunes
    only with an incremental PRM (``prm.incremental``: GenPRM). Result: a ``tts.prm.ranking.Ranking``."""

    solutions: list[list[str]]
    aggregation: str = "min"
    prune: bool = True
    lanes: int | None = 3  # candidates verified per pass when pruning (None: all live ones)


class BudgetExhausted(Exception):
    """Thrown into a strategy when its problem's budget cannot pay for another request; the
    strategy returns its best answer so far."""
