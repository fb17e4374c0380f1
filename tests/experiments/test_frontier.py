"""The compute-optimal frontier: per-bin choices, the gain over one strategy, oracle bins."""

from __future__ import annotations

from tts.cli import main as cli
from tts.experiments.frontier import difficulty_bins, frontier


def rec(strategy, n, problem, correct, tokens, difficulty=None):
    spend = {"policy_prompt": 0, "policy_generated": tokens, "prm_prompt": 0, "prm_generated": 0,
             "policy_flops": 2.0 * tokens, "prm_flops": 0.0}
    return {"key": f"{strategy}{n}:{problem}", "cell": f"{strategy}{n}", "strategy": strategy, "n": n, "budget": None,
            "prm": "genprm", "prm_samples": 1, "problem_id": problem, "correct": correct, "spend": spend,
            "difficulty": difficulty, "error": None}


def two_strategies():
    """'wide' is right on easy problems only, 'deep' on hard ones only, at the same cost."""
    records = []
    for i in range(20):
        level = "easy" if i < 10 else "hard"
        records.append(rec("wide", 4, f"p{i}", level == "easy", 100, level))
        records.append(rec("deep", 4, f"p{i}", level == "hard", 100, level))
        records.append(rec("deep", 16, f"p{i}", level == "hard", 400, level))
    return records


def test_choosing_per_bin_beats_any_single_strategy_at_equal_compute():
    f = frontier(two_strategies())
    assert f.bins == ["easy", "hard"] and f.basis == "the dataset's difficulty"
    top = max(f.levels)
    assert f.best[("easy", top)].strategy == "wide" and f.best[("hard", top)].strategy == "deep"
    assert f.per_bin[top][0] == 100.0 and f.single[top].accuracy == 50.0
    assert f.gain[top][0] == 50.0 and f.gain[top][1] > 0  # paired over problems: clearly positive
    low = min(f.levels)  # 100 tokens: deep n=16 (400) does not qualify
    assert f.best[("hard", low)].config == "deep n=4"
    for c in f.best.values():
        assert c is None or c.low <= c.accuracy <= c.high


def test_without_a_dataset_difficulty_bins_are_the_measured_pass_rate():
    records = [dict(r, difficulty=None) for r in two_strategies()]
    labels, basis = difficulty_bins(records, quantiles=2)
    assert "oracle" in basis and len(set(labels.values())) >= 1
    assert len(set(labels.values())) <= 2


def test_cli_prints_the_table_and_writes_the_figure(tmp_path, capsys):
    import json

    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in two_strategies()))
    assert cli(["frontier", str(path), "--out", str(tmp_path / "f")]) == 0
    out = capsys.readouterr().out
    assert "compute-optimal" in out and "wide n=4" in out and "+50.0" in out
    assert (tmp_path / "f.png").stat().st_size > 1000
    assert cli(["frontier", str(tmp_path / "missing.jsonl")]) == 2


def test_the_table_does_not_depend_on_string_hashing(tmp_path):
    """The bootstrap is seeded; the problems it resamples must come in the same order in every
    process, whatever PYTHONHASHSEED is."""
    import json
    import os
    import subprocess
    import sys

    # Enough problems, with mixed outcomes, that a reordering would move the percentiles.
    records = [rec(s, 4, f"p{i}", (i * 7 + k) % 5 < 2, 100, "easy" if i % 2 else "hard")
               for i in range(300) for k, s in enumerate(("wide", "deep"))]
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    outs = []
    for seed in ("1", "2"):
        proc = subprocess.run([sys.executable, "-m", "tts.cli", "frontier", str(path), "--out", str(tmp_path / seed)],
                              capture_output=True, text=True, env=os.environ | {"PYTHONHASHSEED": seed}, check=True)
        outs.append(proc.stdout.replace(str(tmp_path / seed), "OUT"))
    assert outs[0] == outs[1] and "[" in outs[0]
