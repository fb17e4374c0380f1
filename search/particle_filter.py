"""Particle filtering (Puri et al. 2025): ``particles`` partial solutions advance one step per
round; after each round they are resampled by their PRM weight (the last step's reward r), so weak
partial solutions die and strong ones multiply. Finished particles leave the population.

Weights follow the paper, its official code and its_hub: softmax(logit(r) / T)
(``weighting="softmax"``). ``weighting="power"`` keeps the older r^(1/T), which is much flatter:
for r = (0.95, 0.5, 0.2) at T = 1 it gives (0.58, 0.30, 0.12) against the paper's (0.94, 0.05, 0.01)."""

from __future__ import annotations

import zlib

import numpy as np

from tts import BudgetExhausted, Expand, Outcome, Prefix, Score, StepSettings, aggregate

WEIGHTINGS = ("softmax", "power")
_EPS = 1e-6  # rewards of exactly 0 or 1 have infinite logits


def resampling_weights(rewards, temperature: float = 1.0, weighting: str = "softmax") -> np.ndarray:
    """Resampling probabilities of particles whose last step scored ``rewards``."""
    r = np.asarray(rewards, dtype=np.float64)
    if weighting == "softmax":
        r = np.clip(r, _EPS, 1 - _EPS)
        z = (np.log(r) - np.log1p(-r)) / temperature
        w = np.exp(z - z.max())
    elif weighting == "power":
        w = r ** (1.0 / temperature)
    else:
        raise ValueError(f"unknown weighting {weighting!r}; choose one of {WEIGHTINGS}")
    return w / w.sum() if w.sum() > 0 else np.full(len(r), 1 / len(r))


def particle_filter(particles: int = 8, aggregation: str = "min", temperature: float = 1.0,
                    weighting: str = "softmax", seed: int = 0, steps: StepSettings | None = None):
    if particles < 1:
        raise ValueError(f"particles must be >= 1, got {particles}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    resampling_weights([0.5], temperature, weighting)  # an unknown weighting fails here, not mid-run
    steps = steps or StepSettings()
    aggregate([], aggregation)

    def strategy(problem):
        # zlib.crc32, not hash(): str hashes change from process to process (PYTHONHASHSEED).
        rng = np.random.default_rng([seed, zlib.crc32(problem.id.encode())])
        live = [()] * particles
        done: list[tuple[float, tuple[str, ...]]] = []
        try:
            for _ in range(steps.max_steps):
                if not live:
                    break
                cands = yield Expand([Prefix(problem.problem, s) for s in live], 1, steps.step(), delimiter=steps.delimiter)
                grown = [(s + (row[0].text,), row[0].finished) for s, row in zip(live, cands, strict=True)]
                scores = yield Score([Prefix(problem.problem, s) for s, _ in grown])
                weights, keep = [], []
                for (path, finished), sc in zip(grown, scores, strict=True):
                    if finished:
                        done.append((aggregate(sc.rewards, aggregation), path))
                    else:
                        keep.append(path)
                        weights.append(sc.rewards[-1] if sc.rewards else 0.0)
                if not keep:
                    break
                w = resampling_weights(weights, temperature, weighting)
                live = [keep[i] for i in rng.choice(len(keep), size=len(keep), p=w)]
        except BudgetExhausted:
            pass
        if not done:
            return Outcome(list(live[0]) if live else [])
        value, path = max(done, key=lambda d: d[0])
        return Outcome(list(path), score=value, extra={"finished": len(done)})

    return strategy
