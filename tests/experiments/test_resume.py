"""A sweep killed with SIGKILL and resumed ends with the same results as an uninterrupted one;
a torn last record is detected and its problem recomputed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.experiments.helpers import wait_for_records
from tts.experiments.store import TornRecordWarning, read_records
from tts.experiments.table import summarize

# particle_filter draws its own random numbers: they too must not depend on the process.
GRID = ["experiment=smoke", "dataset.limit=4", "strategy=majority,beam,particle_filter", "budget.per_problem=64,128,256"]
TOTAL = 4 * 3 * 3


def tts_run(results, *extra, **kwargs):
    cmd = [sys.executable, "-m", "tts.cli", "run", *GRID, f"results={results}", "progress=false", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, **kwargs)


def outcome(records):
    """Everything a curve is drawn from, per record (wall times aside)."""
    return {r["key"]: (r["answer"], r["correct"], r["score"], r["spend"]["policy_generated"],
                       r["spend"]["prm_generated"], r["spend"]["prm_prompt"], r["steps"]) for r in records}


def table(records):
    return [{k: v for k, v in row.items() if k != "wall_s"} for row in summarize(records)]


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    full = tmp_path / "full.jsonl"
    proc = tts_run(full)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    reference = read_records(full)
    assert len(reference) == TOTAL

    killed = tmp_path / "killed.jsonl"
    proc = tts_run(killed)
    wait_for_records(proc, killed, 6)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = read_records(killed)
    assert 6 <= len(done) < TOTAL
    # A write cut short by the kill: half a record without its newline.
    with open(killed, "a") as f:
        f.write('{"key": "torn-record", "strategy": "be')

    with pytest.warns(TornRecordWarning):
        read_records(killed)
    proc = tts_run(killed, "--resume")
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    resumed = read_records(killed)
    assert len(resumed) == TOTAL and "torn-record" not in {r["key"] for r in resumed}
    assert len({r["run"] for r in resumed}) == 2  # the first run's records were kept, not recomputed
    assert outcome(resumed) == outcome(reference)
    assert table(resumed) == table(reference)


def test_an_existing_results_file_needs_resume(tmp_path):
    results = tmp_path / "r.jsonl"
    results.write_text("")
    proc = tts_run(results)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "--resume" in out
