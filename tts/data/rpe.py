"""Step labels by Monte Carlo estimation and Relative Progress Estimation (GenPRM).

MC(prefix) is the fraction of K policy rollouts from the prefix that reach the right answer.
RPE compares a step's MC with the one before it: P_t = MC_t / MC_{t-1}, label 1 iff P_t >= eps.
Once MC reaches 0 the ratio is undefined, and so is every later step's label (None): the rollouts
can no longer tell a right step from a wrong one. (With a strong policy MC = 0 means an error was
made; with the testbed's weak one it often means only that the chain is too long to finish, and
labelling those steps 0 would teach a verifier to doubt long right chains.) Rollouts of all prefixes go through the policy
engine together (one batched call per chunk), and prefixes shared by several samples are rolled
out once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tqdm.auto import tqdm

from tts.policy.base import Policy, Prefix, Sampling


def rpe_labels(mc: Sequence[float | None], eps: float = 0.8) -> list[int | None]:
    """Labels of steps 1..T from MC values [MC_0 (problem only), MC_1, ..., MC_T]; None where
    MC_{t-1} is 0 or was not estimated (a prefix after a dead one need not be rolled out)."""
    if not 0 < eps:
        raise ValueError(f"RPE threshold eps must be > 0, got {eps}")
    labels: list[int | None] = []
    dead = False
    for t in range(1, len(mc)):
        dead = dead or mc[t - 1] is None or mc[t - 1] <= 0
        labels.append(None if dead else int((mc[t] or 0.0) / mc[t - 1] >= eps))
    return labels


def mc_values(policy: Policy, prefixes: Sequence[Prefix], is_correct: Callable[[Prefix, str], bool],
              rollouts: int = 8, sampling: Sampling | None = None, chunk: int = 64,
              progress: bool = True, desc: str = "MC rollouts") -> dict[Prefix, float]:
    """MC estimate of every distinct prefix: ``rollouts`` completions each, through ``policy``.
    ``is_correct(prefix, completion)`` grades a rollout (the completion is the rest of the
    solution)."""
    sampling = sampling or Sampling(temperature=0.8, max_tokens=384)
    unique = list(dict.fromkeys(prefixes))
    out: dict[Prefix, float] = {}
    bar = tqdm(total=len(unique), desc=desc, unit="prefix", disable=not progress, mininterval=2.0)
    for start in range(0, len(unique), chunk):
        batch = unique[start : start + chunk]
        for prefix, cands in zip(batch, policy.generate(batch, rollouts, sampling, stop_at_step=False), strict=True):
            out[prefix] = sum(is_correct(prefix, c.text) for c in cands) / rollouts
        bar.update(len(batch))
    bar.close()
    return out
