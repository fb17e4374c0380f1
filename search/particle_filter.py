"""Particle filtering: ``particles`` partial solutions advance one step per round; after each
round they are resampled in proportion to their PRM weight (the last step's reward), so weak
partial solutions die and strong ones multiply. Finished particles leave the population."""

from __future__ import annotations

import zlib

import numpy as np

from tts import BudgetExhausted, Expand, Outcome, Prefix, Sampling, Score, aggregate


def particle_filter(particles: int = 8, max_depth: int = 12, aggregation: str = "min", temperature: float = 1.0,
                    seed: int = 0, sampling: Sampling | None = None):
    if particles < 1:
        raise ValueError(f"particles must be >= 1, got {particles}")
    sampling = sampling or Sampling(temperature=0.8, max_tokens=64)
    aggregate([], aggregation)

    def strategy(problem):
        # zlib.crc32, not hash(): str hashes change from process to process (PYTHONHASHSEED).
        rng = np.random.default_rng([seed, zlib.crc32(problem.id.encode())])
        live = [()] * particles
        done: list[tuple[float, tuple[str, ...]]] = []
        try:
            for _ in range(max_depth):
                if not live:
                    break
                cands = yield Expand([Prefix(problem.problem, s) for s in live], 1, sampling)
                grown = [(s + (row[0].text,), row[0].finished) for s, row in zip(live, cands, strict=True)]
                scores = yield Score([Prefix(problem.problem, s) for s, _ in grown])
                weights, keep = [], []
                for (steps, finished), sc in zip(grown, scores, strict=True):
                    if finished:
                        done.append((aggregate(sc.rewards, aggregation), steps))
                    else:
                        keep.append(steps)
                        weights.append(sc.rewards[-1] if sc.rewards else 0.0)
                if not keep:
                    break
                w = np.asarray(weights) ** (1.0 / temperature)
                w = w / w.sum() if w.sum() > 0 else np.full(len(keep), 1 / len(keep))
                live = [keep[i] for i in rng.choice(len(keep), size=len(keep), p=w)]
        except BudgetExhausted:
            pass
        if not done:
            return Outcome(list(live[0]) if live else [])
        value, steps = max(done, key=lambda d: d[0])
        return Outcome(list(steps), score=value, extra={"finished": len(done)})

    return strategy
