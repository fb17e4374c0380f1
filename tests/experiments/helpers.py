"""Shared pieces of the tests that stop a running `tts run` subprocess."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def wait_for_records(proc: subprocess.Popen, path: Path, count: int, timeout: float = 300.0) -> None:
    """Wait until the results file at ``path`` holds ``count`` complete records; the run must still
    be going then (a test that interrupts it needs it mid-cell)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if path.exists() and path.read_text().count("\n") >= count:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be stopped"
