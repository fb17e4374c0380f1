"""ProcessBench: predict the index of the first wrong step (-1: none) and score with the official
metric: accuracy on erroneous samples, accuracy on correct samples, F1 = their harmonic mean,
computed per subset and averaged over subsets."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from tts.policy.base import Prefix
from tts.prm.base import PRM, first_wrong_step
from tts.tasks.records import ProcessBenchSample


def processbench_metrics(labels: Sequence[int], predictions: Sequence[int]) -> dict[str, float]:
    """The official metric on one subset. Accuracies are fractions; F1 is 0 if either is 0."""
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} labels but {len(predictions)} predictions")
    err = [p == y for y, p in zip(labels, predictions, strict=True) if y != -1]
    cor = [p == y for y, p in zip(labels, predictions, strict=True) if y == -1]
    acc_err = sum(err) / len(err) if err else 0.0
    acc_cor = sum(cor) / len(cor) if cor else 0.0
    f1 = 2 * acc_err * acc_cor / (acc_err + acc_cor) if acc_err + acc_cor > 0 else 0.0
    return {"error_acc": acc_err, "correct_acc": acc_cor, "f1": f1, "n": len(labels),
            "n_error": len(err), "n_correct": len(cor)}


@dataclass
class ProcessBenchResult:
    subsets: dict[str, dict[str, float]]
    f1: float  # averaged over subsets
    predictions: list[int]
    rewards: list[list[float]]
    seconds: float
    prm_tokens: int
    extra: dict = field(default_factory=dict)

    def table(self) -> str:
        rows = [f"{'subset':<16} {'n':>5} {'error acc':>10} {'correct acc':>12} {'F1':>6}"]
        for name, m in self.subsets.items():
            rows.append(f"{name:<16} {m['n']:>5} {100 * m['error_acc']:>9.1f}% {100 * m['correct_acc']:>11.1f}% {100 * m['f1']:>5.1f}")
        rows.append(f"{'average F1':<16} {'':>5} {'':>10} {'':>12} {100 * self.f1:>5.1f}")
        return "\n".join(rows)


def evaluate_processbench(prm: PRM, samples: Sequence[ProcessBenchSample], threshold: float = 0.5,
                          batch_size: int = 64, progress: bool = True) -> ProcessBenchResult:
    """Score every sample's steps with ``prm`` (in batches) and compute the metric per subset
    (``sample.subset``: the split, not the model that wrote the solution)."""
    start = time.perf_counter()
    rewards: list[list[float]] = []
    tokens = 0
    bar = tqdm(total=len(samples), desc=f"ProcessBench {prm.name}", unit="sample", disable=not progress, mininterval=2.0)
    for c in range(0, len(samples), batch_size):
        batch = samples[c : c + batch_size]
        scores = prm.score([Prefix(s.problem, tuple(s.steps)) for s in batch])
        for s in scores:
            rewards.append(s.rewards)
            tokens += s.tokens
        bar.update(len(batch))
    bar.close()
    predictions = [first_wrong_step(r, threshold) for r in rewards]
    subsets: dict[str, tuple[list[int], list[int]]] = {}
    for s, p in zip(samples, predictions, strict=True):
        ys, ps = subsets.setdefault(s.subset, ([], []))
        ys.append(s.label)
        ps.append(p)
    metrics = {name: processbench_metrics(ys, ps) for name, (ys, ps) in subsets.items()}
    f1 = sum(m["f1"] for m in metrics.values()) / len(metrics) if metrics else 0.0
    return ProcessBenchResult(metrics, f1, predictions, rewards, time.perf_counter() - start, tokens)
