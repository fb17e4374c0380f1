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
    # Of policy_prompt / prm_prompt, the tokens engines served from their prefix caches: counted
    # in the prompt totals (the uncached count), not in the computed ones nor in the FLOPs.
    policy_cached: int = 0
    prm_cached: int = 0

    @property
    def tokens(self) -> int:
        return self.policy_prompt + self.policy_generated + self.prm_prompt + self.prm_generated

    @property
    def computed_tokens(self) -> int:
        """Tokens the engines actually ran through their models: prompts less what their prefix
        caches served, and every generated token."""
        return self.tokens - self.policy_cached - self.prm_cached

    @property
    def flops(self) -> float:
        return self.policy_flops + self.prm_flops

    def add(self, other: Spend) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    def to_dict(self) -> dict:
        return asdict(self) | {"tokens": self.tokens, "computed_tokens": self.computed_tokens, "flops": self.flops}


@dataclass(frozen=True)
class Budget:
    """``per_problem``: generated policy tokens each problem may spend (None: unlimited).
    ``total``: a cap shared by all problems of a run (None: none).
    ``per_problem_compute``: tokens each problem may have computed by policy and PRM together
    (``Spend.computed_tokens``: prompts less prefix-cache hits, and generated tokens), so a
    compute-equal comparison counts the verifier; ``per_problem_flops``: the same in FLOPs. A
    problem asks for nothing more once it has reached a compute cap, and its expansions are cut
    to what is left; a PRM call's cost is known only after it, so the call that crosses the cap
    is paid in full (records show the spend)."""

    per_problem: int | None = None
    total: int | None = None
    per_problem_compute: int | None = None
    per_problem_flops: float | None = None

    def __post_init__(self) -> None:
        for name in ("per_problem", "total", "per_problem_compute"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"Budget.{name} must be a positive integer or None, got {v!r}")
        v = self.per_problem_flops
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0):
            raise ValueError(f"Budget.per_problem_flops must be a positive number or None, got {v!r}")
