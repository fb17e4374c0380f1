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
    samples = [ProcessBenchSample(f"{g}{i}", f"P{g}{i}", ["a", "b", "c"], lab, lab == -1, subset=g)
               for g in ("x", "y") for i, lab in enumerate([-1, 0, 2])]
    res = evaluate_processbench(OraclePRM(samples), samples, batch_size=2, progress=False)
    assert res.f1 == 1.0 and set(res.subsets) == {"x", "y"} and res.prm_tokens == 30
    assert res.predictions == [-1, 0, 2] * 2
    assert "average F1" in res.table()


def test_subsets_are_the_splits_not_the_models_that_wrote_the_solutions(tmp_path):
    """Real ProcessBench files are one split each, and ``generator`` is the model that wrote the
    solution: F1 must be averaged over the splits (the official number), not over the models."""
    from tts.tasks.jsonl import write_jsonl
    from tts.tasks.records import load_processbench

    def rows(split, labels):
        return [{"id": f"{split}-{i}", "generator": model, "problem": f"{split} problem {i}",
                 "steps": ["a", "b", "c"], "final_answer_correct": lab == -1, "label": lab}
                for i, (lab, model) in enumerate(zip(labels, ["Qwen2-7B-Instruct", "Meta-Llama-3-70B-Instruct"] * 4))]

    write_jsonl(tmp_path / "gsm8k.jsonl", rows("gsm8k", [-1, 0, 2, -1]))
    write_jsonl(tmp_path / "math.jsonl", rows("math", [1, -1, 1, 0]))
    samples = load_processbench(tmp_path / "gsm8k.jsonl") + load_processbench(tmp_path / "math.jsonl")
    assert {s.subset for s in samples} == {"gsm8k", "math"}
    assert {s.generator for s in samples} == {"Qwen2-7B-Instruct", "Meta-Llama-3-70B-Instruct"}

    class Oracle:  # right on gsm8k, always says "no error" on math
        name = "oracle"

        def score(self, prefixes):
            out = []
            for p in prefixes:
                s = next(s for s in samples if s.problem == p.problem)
                bad = s.label if s.subset == "gsm8k" else -1
                out.append(PRMScore([0.1 if i == bad else 0.9 for i in range(len(p.steps))]))
            return out

    res = evaluate_processbench(Oracle(), samples, progress=False)
    assert set(res.subsets) == {"gsm8k", "math"}
    assert res.subsets["gsm8k"]["f1"] == 1.0 and res.subsets["math"]["f1"] == 0.0 and res.f1 == 0.5
    # A file with no split in its name or records gets the one given (``tts prm eval --subset``).
    write_jsonl(tmp_path / "mine.jsonl", rows("x", [-1]))
    assert load_processbench(tmp_path / "mine.jsonl", subset="omnimath")[0].subset == "omnimath"
    write_jsonl(tmp_path / "tagged.jsonl", [dict(rows("x", [-1])[0], split="olympiadbench")])
    assert load_processbench(tmp_path / "tagged.jsonl", subset="ignored")[0].subset == "olympiadbench"
