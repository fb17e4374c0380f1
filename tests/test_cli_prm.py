"""The PRM commands, end to end on small inputs."""

import json

from tts.cli import main
from tts.tasks.jsonl import read_jsonl


def test_synth_train_and_eval_commands(tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    assert main(["prm", "synth", "--out", str(data), "--backend", "hf", "--problems", "4", "--samples", "2",
                 "--rollouts", "2"]) == 0
    records = list(read_jsonl(data))
    assert records and all(len(r["rpe"]) == len(r["steps"]) == len(r["keep"]) for r in records)
    assert json.loads(data.with_suffix(".stats.json").read_text())["solutions"] == len(records)
    for kind in ("genprm", "dprm"):
        out = tmp_path / kind
        assert main(["train", kind, "--data", str(data), "--out", str(out), "--steps", "2"]) == 0
        assert (out / "config.json").is_file() and (out / "training.json").is_file()
    result = tmp_path / "pb.json"
    assert main(["prm", "eval", "--kind", "dprm", "--model", str(tmp_path / "dprm"), "--limit", "4",
                 "--out", str(result)]) == 0
    assert "average F1" in capsys.readouterr().out
    from tts.evaluation.testbed_set import testbed_processbench

    assert len(json.loads(result.read_text())["predictions"]) == len(testbed_processbench(4))  # 4 per subset


def test_shipped_genprm_eval_command(capsys):
    assert main(["prm", "eval", "--kind", "genprm", "--backend", "hf", "--limit", "3"]) == 0
    assert "testbed-policy" in capsys.readouterr().out


def test_missing_inputs_are_named(tmp_path, capsys):
    assert main(["train", "genprm", "--data", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "m")]) == 2
    assert "nope.jsonl" in capsys.readouterr().err
    assert main(["prm", "eval", "--kind", "dprm", "--data", str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
