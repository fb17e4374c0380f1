"""What a record spent, on the axes curves, tables and the frontier share."""

from __future__ import annotations


def compute(record: dict, axis: str = "tokens", policy_only: bool = False) -> float:
    """A record's compute per problem. ``tokens``: every token the policy and the PRM computed
    (prompts less what prefix caches served, and generated tokens), or with ``policy_only`` the
    policy's generated tokens (what the token budget caps). ``flops``: 2 x parameters x computed
    tokens, both models or the policy's."""
    s = record["spend"]
    if axis == "tokens":
        if policy_only:
            return s["policy_generated"]
        return (s["policy_prompt"] - s.get("policy_cached", 0) + s["policy_generated"]
                + s["prm_prompt"] - s.get("prm_cached", 0) + s["prm_generated"])
    if axis == "flops":
        return s["policy_flops"] + (0 if policy_only else s["prm_flops"])
    raise ValueError(f"unknown compute axis {axis!r}; choose 'tokens' or 'flops'")
