"""Every N from one sample pool: majority voting, best-of-N (each aggregation) and the PRM-weighted
vote at N <= N_max, read from a ``sample_pool`` record by subsampling without replacement and
averaging over subsets (as search-and-learn does), with no engine.

A derived record looks like a searched one (strategy, n, spend, ``correct``), except that
``correct`` is the problem's expected accuracy over the subsets and the spend is the expected
spend of N samples (N / N_max of the pool's, each sample costing its own tokens), so tables,
curves and ``tts frontier`` treat both alike. Votes follow ``tts.vote_index``: answers grouped by
equivalence class, ties to the class that appears first; best-of-N keeps the highest aggregate,
the first on ties, as the searched strategies do on their samples in order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np

from tts.budget import Spend
from tts.grading import answers_equal
from tts.grading.vote import answer_classes
from tts.prm.base import AGGREGATIONS, aggregate

SUBSETS = 256  # per N: all subsets when there are at most this many, else this many at random


def annotate(pool: list[dict], gold: str | None) -> None:
    """Add each sample's answer class and correctness (graded once per class) to a pool."""
    classes = answer_classes([s["answer"] for s in pool])
    verdict: dict[int, bool] = {}
    for s, c in zip(pool, classes, strict=True):
        if c is not None and c not in verdict:
            verdict[c] = gold not in (None, "") and answers_equal(s["answer"], gold)
        s["class"] = c
        s["correct"] = verdict.get(c, False) if c is not None else False


def default_ns(n_max: int) -> list[int]:
    """Powers of two up to ``n_max``, and ``n_max``."""
    return sorted({2**k for k in range(int(math.log2(n_max)) + 1)} | {n_max})


def subsets(n_max: int, n: int, count: int = SUBSETS, seed: int = 0) -> np.ndarray:
    """``[subsets, n]`` sorted sample indices: every n-subset when there are at most ``count``,
    else ``count`` drawn uniformly without replacement (seeded per (n_max, n))."""
    if not 1 <= n <= n_max:
        raise ValueError(f"N={n} cannot be drawn from a pool of {n_max} samples")
    if math.comb(n_max, n) <= count:
        return np.array(list(itertools.combinations(range(n_max), n)), dtype=np.int64)
    rng = np.random.default_rng([seed, n_max, n])
    return np.sort(np.argsort(rng.random((count, n_max)), axis=1)[:, :n], axis=1)


def _vote(classes: np.ndarray, weights: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """For each subset (row of ``picks``), the winning class: the largest total weight, ties to
    the class appearing first in the subset; -1 when no sample has an answer."""
    c = classes[picks]  # [S, n]; -1: no answer
    k = int(classes.max()) + 1 if classes.size and classes.max() >= 0 else 0
    if k == 0:
        return np.full(len(picks), -1)
    onehot = (c[:, :, None] == np.arange(k)[None, None, :])  # [S, n, K]
    totals = (onehot * weights[picks][:, :, None]).sum(1)  # [S, K]
    present = onehot.any(1)
    first = np.where(onehot, np.arange(c.shape[1])[None, :, None], c.shape[1]).min(1)  # [S, K]
    best = np.where(present, totals, -np.inf).max(1, keepdims=True)
    tied = present & (totals == best)
    win = np.where(tied, first, c.shape[1] + 1).argmin(1)
    return np.where(present.any(1), win, -1)


def derive(record: dict, ns: Sequence[int] | None = None, count: int = SUBSETS) -> list[dict]:
    """The derived records of one pool record: for each N, majority, best-of-N under every
    aggregation, and the PRM-weighted vote (weights: the pool's aggregation)."""
    pool = record["extra"]["pool"]
    if not pool:
        return []
    if "correct" not in pool[0]:
        annotate(pool, record.get("gold"))
    n_max = len(pool)
    classes = np.array([-1 if s["class"] is None else s["class"] for s in pool])
    correct = np.array([bool(s["correct"]) for s in pool])
    class_correct = np.zeros(max(int(classes.max()) + 1, 1), dtype=bool)
    class_correct[classes[classes >= 0]] = correct[classes >= 0]
    values = {a: np.array([aggregate(s["rewards"], a) for s in pool]) for a in AGGREGATIONS}
    weight_by = record["extra"].get("aggregation", "min")
    out = []
    for n in ns or default_ns(n_max):
        picks = subsets(n_max, n, count)
        won = _vote(classes, np.ones(n_max), picks)
        acc = {"majority": np.where(won >= 0, class_correct[np.maximum(won, 0)], False).mean()}
        for a in AGGREGATIONS:
            label = "best_of_n" if a == "min" else f"best_of_n ({a})"
            chosen = picks[np.arange(len(picks)), values[a][picks].argmax(1)]
            acc[label] = correct[chosen].mean()
        won = _vote(classes, values[weight_by], picks)
        acc["weighted_best_of_n"] = np.where(won >= 0, class_correct[np.maximum(won, 0)], False).mean()
        for label, value in acc.items():
            out.append(_derived(record, label, n, n_max, float(value), len(picks), prm=label != "majority"))
    return out


def _derived(record: dict, label: str, n: int, n_max: int, accuracy: float, count: int, prm: bool) -> dict:
    pool = record["extra"]["pool"]
    share = n / n_max
    fields = {k: v for k, v in record["spend"].items() if k in Spend.__dataclass_fields__}
    fields = {k: v if k.endswith("_calls") else v * share for k, v in fields.items()}
    fields["policy_generated"] = share * sum(s["policy_tokens"] for s in pool)
    if not prm:  # a vote without the verifier spends none of its compute
        fields = {k: 0 if k.startswith("prm_") else v for k, v in fields.items()}
    spend = Spend(**fields).to_dict()  # totals (tokens, computed, FLOPs) derived as for a searched record
    out = {k: v for k, v in record.items() if k not in ("extra", "tree", "steps", "answer", "score")}
    return out | {"key": f"{record['key']}/{label}@{n}", "cell": f"{record['cell']}/{label}@{n}",
                  "strategy": label, "n": n, "correct": accuracy, "spend": spend,
                  "derived": {"pool": record["cell"], "pool_n": n_max, "subsets": count}}


def is_pool(record: dict) -> bool:
    return isinstance(record.get("extra"), dict) and "pool" in record["extra"]


def expand_pools(records: Iterable[dict], ns: Sequence[int] | None = None) -> list[dict]:
    """The records with every pool record replaced by its derived records."""
    out = []
    for r in records:
        out.extend(derive(r, ns) if is_pool(r) else [r])
    return out
