"""Step labels by Monte Carlo estimation and Relative Progress Estimation (GenPRM).

MC(prefix) is the fraction of K policy rollouts from the prefix that reach the right answer.
RPE compares a step's MC with the one before it: P_t = MC_t / MC_{t-1}, label 1 iff P_t >= eps.
Once MC reaches 0, every later step is labelled 0. Rollouts of all prefixes go through the policy
engine together (one batched call per chunk), and prefixes shared by several samples are rolled
out once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tqdm.auto import tqdm

from tts.policy.base import Policy, Prefix, Sampling


def rpe_labels(mc: Sequence[float], eps: float = 0.8) -> list[int]:
    """Labels of steps 1..T from MC values [MC_0 (problem only), MC_1, ..., MC_T]."""
    if not 0 < eps:
        raise ValueError(f"RPE threshold eps must be > 0, got {eps}")
    labels, dead = [], False
    for t in range(1, len(mc)):
        if dead or mc[t - 1] <= 0:
            dead = True
            labels.append(0)
            continue
        ok = mc[t] / mc[t - 1] >= eps
        labels.append(int(ok))
        if mc[t] <= 0:
            dead = True
    return labels


def mc_values(policy: Policy, prefixes: Sequence[Prefix], is_correct: Callable[[Prefix, str], bool],
              rollouts: int = 8, sampling: Sampling | None = None, chunk: int = 64,
              progress: bool = True) -> dict[Prefix, float]:
    """MC estimate of every distinct prefix: ``rollouts`` completions each, through ``policy``.
    ``is_correct(prefix, completion)`` grades a rollout (the completion is the rest of the
    solution)."""
    sampling = sampling or Sampling(temperature=0.8, max_tokens=160)
    unique = list(dict.fromkeys(prefixes))
    out: dict[Prefix, float] = {}
    bar = tqdm(total=len(unique), desc="MC rollouts", unit="prefix", disable=not progress, mininterval=2.0)
    for start in range(0, len(unique), chunk):
        batch = unique[start : start + chunk]
        for prefix, cands in zip(batch, policy.generate(batch, rollouts, sampling, stop_at_step=False), strict=True):
            out[prefix] = sum(is_correct(prefix, c.text) for c in cands) / rollouts
        bar.update(len(batch))
    bar.close()
    return out
