import subprocess
import sys

from tts.cli import main
from tts.tasks import first_error, load_problems, load_processbench, parse_problem


def test_testbed_command_writes_consistent_files(tmp_path, capsys):
    assert main(["testbed", "--out", str(tmp_path), "--num-problems", "40", "--num-processbench", "60"]) == 0
    problems = load_problems(tmp_path / "problems.jsonl")
    samples = load_processbench(tmp_path / "processbench.jsonl")
    assert len(problems) == 40 and len(samples) == 60
    assert {p.problem for p in problems}.isdisjoint({s.problem for s in samples})
    for s in samples:
        assert first_error(parse_problem(s.problem), s.steps) == s.label
    assert "wrote 40 problems" in capsys.readouterr().out


def test_bad_knobs_give_one_line_error(tmp_path, capsys):
    assert main(["testbed", "--out", str(tmp_path), "--min-ops", "5", "--max-ops", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tts testbed: error:") and "min_ops" in err and "Traceback" not in err


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "tts.cli", "--help"], capture_output=True, text=True, check=True)
    assert "testbed" in out.stdout
