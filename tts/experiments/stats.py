"""Confidence intervals for accuracies: a percentile bootstrap over problems (scipy)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
                  seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high) of ``values`` (one per problem: 0/1 correctness, or a problem's expected
    accuracy over pool subsets), the interval by a percentile bootstrap over problems. Seeded, so
    a table printed twice shows the same interval."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("no values to average: a cell without problems has no accuracy")
    mean = float(x.mean())
    if x.size == 1 or np.all(x == x[0]):
        return mean, mean, mean  # nothing to resample: every bootstrap mean is the mean
    res = stats.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=resamples, method="percentile",
                          vectorized=True, random_state=np.random.default_rng(seed))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return mean, min(low, mean), max(high, mean)


def accuracy_values(records: Sequence[dict]) -> list[float]:
    """Per-record correctness as a number: 1/0 for a searched problem (None, no reference answer,
    counts as wrong), the expected accuracy for a record derived from a sample pool."""
    return [float(r["correct"]) if r["correct"] is not None else 0.0 for r in records]
