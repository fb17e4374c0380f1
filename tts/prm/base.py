"""The PRM interface: step rewards for a batch of (problem, steps) prefixes.

A PRM scores whole frontiers at once. ``score`` returns one reward per step of every prefix and
the tokens the call spent, so the scheduler can charge them; PRMs that cache (the generative
ones) spend nothing on steps they verified before, which is what makes incremental scoring during
a search cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from tts.policy.base import Prefix

AGGREGATIONS = ("min", "last", "prod", "mean")
# Rewards are quantised to a 0.01 grid in log-odds: batch composition moves a probability by
# ~1e-9 (padding changes float sums), which must not reorder near-ties between candidates, while
# the ranking information of confident judgements (0.9999 vs 0.99999) survives, as it would not
# rounding probabilities. With it, a problem's search is the same in any batch.
# A reward never crosses 0.5 (the wrong/right threshold) by quantisation: a logit that would round
# to 0 goes to the nearest grid point on its own side.
LOGIT_DECIMALS = 2


def quantize_reward(r: float) -> float:
    r = float(r)
    if not 0.0 < r < 1.0 or r == 0.5:
        return r
    z = math.log(r) - math.log1p(-r)
    step = 10.0 ** -LOGIT_DECIMALS
    q = math.copysign(max(round(abs(z), LOGIT_DECIMALS), step), z)
    return 1.0 / (1.0 + math.exp(-q))


@dataclass
class PRMScore:
    rewards: list[float]  # one per step, in [0, 1]
    prompt_tokens: int = 0  # spent by this call on this prefix (cached steps cost nothing)
    generated_tokens: int = 0
    # Per step, the sampled verifications' texts (generative PRMs), for inspection and critique.
    verifications: list[list[str]] = field(default_factory=list)
    # Verifications of this call whose chat ran out of the verifier's context (no verdict: 0.5).
    context_full: int = 0
    # Of ``prompt_tokens``, those the engine served from its prefix cache (not computed).
    cached_tokens: int = 0

    def __post_init__(self) -> None:
        self.rewards = [quantize_reward(r) for r in self.rewards]

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.generated_tokens


@runtime_checkable
class PRM(Protocol):
    name: str
    # True when step t's reward depends only on steps <= t (a prefix's rewards are the first
    # rewards of any longer solution) and earlier steps are not paid for again when a longer
    # prefix is scored. Rank then verifies step-major and prunes exactly; otherwise it scores
    # whole solutions at once.
    incremental: bool

    def score(self, prefixes: Sequence[Prefix]) -> list[PRMScore]:
        """One ``PRMScore`` per prefix, in order; an empty prefix (no steps) has no rewards."""
        ...

    def close(self) -> None: ...


def aggregate(rewards: Sequence[float], how: str = "min") -> float:
    """A solution's score from its step rewards (best-of-N); an empty list scores 0."""
    if how not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {how!r}; choose one of {AGGREGATIONS}")
    if not rewards:
        return 0.0
    if how == "min":
        return float(min(rewards))
    if how == "last":
        return float(rewards[-1])
    if how == "prod":
        return float(math.prod(rewards))
    return float(sum(rewards) / len(rewards))


def first_wrong_step(rewards: Sequence[float], threshold: float = 0.5) -> int:
    """Index of the first step with reward below ``threshold``; -1 if none (ProcessBench)."""
    for i, r in enumerate(rewards):
        if r < threshold:
            return i
    return -1


def clean_text(text: str | bytes) -> str:
    """Text a tokenizer can take: bytes decoded as UTF-8 and lone surrogates (undecodable bytes
    smuggled through ``surrogateescape``) replaced, so bad input scores instead of crashing."""
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    return text.encode("utf-8", errors="replace").decode("utf-8")


def clean_prefix(p: Prefix) -> Prefix:
    if not isinstance(p, Prefix):
        raise TypeError(f"PRMs score tts.policy.Prefix(problem, steps) objects, got {type(p).__name__}")
    return Prefix(clean_text(p.problem), tuple(clean_text(s) for s in p.steps))
