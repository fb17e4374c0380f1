"""Token budgets and spend records.

Every token is recorded (policy prompt and generated, PRM prompt and generated) with a FLOPs
estimate (2 x parameters x tokens per model). The limit applies to policy generated tokens, the
x-axis of compute-scaling curves, because those are what a round can be clipped to in advance:
each expansion's ``max_tokens`` is cut so the round cannot exceed what is left, so the budget is
never overspent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Spend:
    policy_prompt: int = 0
    policy_generated: int = 0
    prm_prompt: int = 0
    prm_generated: int = 0
    policy_flops: float = 0.0  # 2 x policy parameters x policy tokens
    prm_flops: float = 0.0  # 2 x PRM parameters x PRM tokens
    policy_calls: int = 0
    prm_calls: int = 0
    # Candidates and verifications cut by a model's context (never run past its positions).
    policy_context_full: int = 0
    prm_context_full: int = 0
    # Rank requests: step rewards read, and steps left unverified because they could not change
    # the choice (exact pruning).
    prm_steps_verified: int = 0
    prm_steps_pruned: int = 0

    @property
    def tokens(self) -> int:
        return self.policy_prompt + self.policy_generated + self.prm_prompt + self.prm_generated

    @property
    def flops(self) -> float:
        return self.policy_flops + self.prm_flops

    def add(self, other: Spend) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    def to_dict(self) -> dict:
        return asdict(self) | {"tokens": self.tokens, "flops": self.flops}


@dataclass(frozen=True)
class Budget:
    """``per_problem``: generated policy tokens each problem may spend (None: unlimited).
    ``total``: a cap shared by all problems of a run (None: none)."""

    per_problem: int | None = None
    total: int | None = None

    def __post_init__(self) -> None:
        for name in ("per_problem", "total"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"Budget.{name} must be a positive integer or None, got {v!r}")
