import pytest

from tts.evaluation import evaluate_processbench, processbench_metrics
from tts.prm.base import PRMScore
from tts.tasks.records import ProcessBenchSample


def test_official_metric():
    labels = [-1, -1, 2, 0, 1]
    preds = [-1, 3, 2, 1, 1]
    m = processbench_metrics(labels, preds)
    assert m["correct_acc"] == pytest.approx(0.5) and m["error_acc"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert processbench_metrics([-1], [0])["f1"] == 0.0


class OraclePRM:
    """A fake PRM that knows the labels: the point is the evaluation's bookkeeping."""

    name = "oracle"

    def __init__(self, samples):
        self.labels = {(s.problem, tuple(s.steps)): s.label for s in samples}

    def score(self, prefixes):
        out = []
        for p in prefixes:
            lab = self.labels[(p.problem, p.steps)]
            out.append(PRMScore([0.1 if i == lab else 0.9 for i in range(len(p.steps))], 3, 2))
        return out


def test_evaluation_averages_subsets():
    samples = [ProcessBenchSample(f"{g}{i}", f"P{g}{i}", ["a", "b", "c"], lab, lab == -1, generator=g)
               for g in ("x", "y") for i, lab in enumerate([-1, 0, 2])]
    res = evaluate_processbench(OraclePRM(samples), samples, batch_size=2, progress=False)
    assert res.f1 == 1.0 and set(res.subsets) == {"x", "y"} and res.prm_tokens == 30
    assert res.predictions == [-1, 0, 2] * 2
    assert "average F1" in res.table()
