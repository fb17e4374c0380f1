"""Ctrl-C (and SIGTERM) end a run cleanly: exit 130 (143), one line with the resume command, no
traceback, no process left; resuming gives the records an uninterrupted run gives. And a window of
problems in flight changes when records arrive, never what they are."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import search
from tests.experiments.helpers import wait_for_records
from tts import search as run
from tts.experiments.store import read_records
from tts.tasks.splits import testbed_split

GRID = ["experiment=smoke", "dataset.limit=6", "strategy=beam,particle_filter", "budget.per_problem=96,192", "window=2"]
TOTAL = 6 * 2 * 2


def tts_run(results, *extra):
    cmd = [sys.executable, "-m", "tts.cli", "run", *GRID, f"results={results}", "progress=false", *extra]
    # SIGINT at its default disposition (a shell's background job would ignore it).
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def outcome(records):
    return {r["key"]: (r["answer"], r["correct"], r["score"], r["spend"]["policy_generated"],
                       r["spend"]["prm_generated"], r["steps"]) for r in records}


@pytest.mark.slow
@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_keeps_records_and_resume_completes_them(tmp_path, sig, status):
    stopped = tmp_path / "stopped.jsonl"
    proc = tts_run(stopped)
    wait_for_records(proc, stopped, 3)
    family = descendants(proc.pid)
    assert family, "the run should hold sandbox workers"
    sent = time.time()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == status and time.time() - sent < 10, (proc.returncode, err)
    assert "Traceback" not in err and "Traceback" not in out, err
    [line] = [ln for ln in err.splitlines() if "interrupted" in ln]
    assert str(stopped) in line and "--resume" in line and "tts run" in line
    time.sleep(0.5)
    assert not [p for p in family if alive(p)], "processes outlived the run"
    kept = read_records(stopped)
    assert 3 <= len(kept) < TOTAL

    proc = tts_run(stopped, "--resume")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    full = tmp_path / "full.jsonl"
    proc = tts_run(full)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert outcome(read_records(stopped)) == outcome(read_records(full))


PROBLEMS = testbed_split("dev", limit=8)


def test_a_window_changes_when_results_arrive_not_what_they_are(hf_policy, hf_genprm_engine, sandbox):
    from tts.prm import GenerativePRM

    outcomes, orders = [], []
    for window in (None, 1):
        hf_policy.restart()
        prm = GenerativePRM(hf_genprm_engine, sandbox=sandbox)
        seen = []
        results = run(PROBLEMS, search.beam_search(width=2, k=2), hf_policy, prm, budget=192, progress=False,
                      window=window, on_result=lambda r: seen.append(r.problem.id))
        outcomes.append([(r.steps, r.score, r.spend.policy_generated, r.spend.prm_generated) for r in results])
        orders.append(seen)
        assert prm._cache == {}  # each finished problem's verifications were released
    assert outcomes[0] == outcomes[1]
    assert orders[1] == [p.id for p in PROBLEMS]  # one at a time: each stored as soon as it is done


def test_bad_window_is_refused(hf_policy):
    with pytest.raises(ValueError, match="window"):
        run(PROBLEMS[:1], search.majority_vote(2), hf_policy, window=0)
