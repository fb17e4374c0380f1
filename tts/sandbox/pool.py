"""A pool of warm sandbox workers that run model-written Python in parallel.

Each verification chain (one sampled GenPRM verification of one solution) keeps its own
namespace, as GenPRM keeps one per solution: a chain is pinned to one worker, and if that worker
has to be replaced the chain's earlier snippets are replayed into the new one before its next
snippet runs. A snippet that crashes, hangs or breaks its worker gets an error string as output;
the pool replaces the worker and carries on.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

WORKER = Path(__file__).with_name("worker.py")


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 5.0  # wall clock per snippet (raised inside it); the worker dies at +grace_s
    cpu_s: float = 5.0  # CPU time per snippet
    grace_s: float = 2.0
    memory_mb: int = 1024  # address space of a worker
    max_output_chars: int = 4000  # stdout+stderr kept per snippet
    max_file_mb: int = 16
    max_open_files: int = 64
    max_processes: int = 0  # non-root only (RLIMIT_NPROC); the audit hook refuses forks anyway
    worker_cpu_s: int = 3600  # a worker's lifetime CPU; it is replaced when spent
    isolate_network: bool = True
    drop_privileges: bool = True  # as root, run snippets as ``nobody``

    def __post_init__(self) -> None:
        for name in ("timeout_s", "cpu_s", "memory_mb", "max_output_chars"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SandboxLimits.{name} must be > 0, got {getattr(self, name)}")


@dataclass
class ExecResult:
    output: str  # what the snippet printed, or the error it raised, or why its worker died
    ok: bool  # ran to the end without an exception
    seconds: float
    worker_replaced: bool = False


@dataclass(frozen=True)
class Snippet:
    chain: Hashable  # the verification chain whose namespace it runs in
    code: str
    # Run first, silently, when the chain is new: a chain that branches from another (a search
    # extending a verified prefix) starts from the namespace its parent's code built.
    setup: tuple[str, ...] = ()


class _Worker:
    def __init__(self, limits: SandboxLimits, preload: Sequence[str]) -> None:
        self.tmpdir = tempfile.mkdtemp(prefix="tts-sandbox-")
        if os.geteuid() == 0 and limits.drop_privileges:
            os.chown(self.tmpdir, 65534, 65534)
        cfg = asdict(limits) | {"tmpdir": self.tmpdir, "preload": list(preload)}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8"}
        # -I: no user site, no PYTHON* variables, no cwd on sys.path; its own session, so a
        # signal to the worker's group never reaches the engine.
        self.proc = subprocess.Popen([sys.executable, "-I", str(WORKER), json.dumps(cfg)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, cwd=self.tmpdir, start_new_session=True)
        self.buffer = b""
        self.chains: set[Hashable] = set()
        ready = self.read(timeout=60.0)
        if not ready or not ready.get("ready"):
            self.kill()
            raise RuntimeError(f"sandbox worker failed to start ({sys.executable} -I {WORKER})")

    def send(self, obj: dict) -> None:
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def read(self, timeout: float) -> dict | None:
        """The next reply, or None if the worker died, hung past ``timeout`` or spoke garbage."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
            if len(self.buffer) > 1 << 24:
                return None
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            return None
        return reply if isinstance(reply, dict) else None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class SandboxPool:
    """``run(snippets)`` executes a batch in parallel over ``workers`` warm processes and returns
    one ``ExecResult`` per snippet, in order. Thread-safe for one caller at a time."""

    def __init__(self, workers: int = 2, limits: SandboxLimits | None = None,
                 preload: Sequence[str] = ("math", "fractions")) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.limits = limits or SandboxLimits()
        self.preload = tuple(preload)
        self._workers = [_Worker(self.limits, self.preload) for _ in range(workers)]
        self._home: dict[Hashable, int] = {}  # chain -> worker index
        self._history: dict[Hashable, list[str]] = {}  # chain -> snippets that ran to completion
        self._lost: set[Hashable] = set()  # chains whose namespace died with a worker
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox")
        self.replaced = 0  # workers replaced so far

    @property
    def size(self) -> int:
        return len(self._workers)

    def run(self, snippets: Sequence[Snippet]) -> list[ExecResult]:
        with self._lock:
            groups: dict[int, list[int]] = {}
            for i, s in enumerate(snippets):
                if s.chain not in self._home:
                    self._home[s.chain] = min(range(self.size), key=lambda w: len(self._workers[w].chains))
                    self._workers[self._home[s.chain]].chains.add(s.chain)
                groups.setdefault(self._home[s.chain], []).append(i)
            results: list[ExecResult | None] = [None] * len(snippets)
            futures = [self._executor.submit(self._run_group, w, [(i, snippets[i]) for i in idx], results)
                       for w, idx in groups.items()]
            for f in futures:
                f.result()
            return results  # type: ignore[return-value]

    def run_one(self, code: str, chain: Hashable = "default") -> ExecResult:
        return self.run([Snippet(chain, code)])[0]

    def history(self, chain: Hashable) -> tuple[str, ...]:
        """The snippets that built ``chain``'s namespace (its setup and the ones that ran through)."""
        return tuple(self._history.get(chain, ()))

    def forget(self, chains: Sequence[Hashable]) -> None:
        """Drop the namespaces of finished chains (their memory is the workers')."""
        with self._lock:
            for chain in chains:
                w = self._home.pop(chain, None)
                self._history.pop(chain, None)
                self._lost.discard(chain)
                if w is not None:
                    self._workers[w].chains.discard(chain)
                    try:
                        self._workers[w].send({"op": "forget", "chain": str(chain)})
                    except OSError:
                        pass

    def _run_group(self, w: int, jobs: list[tuple[int, Snippet]], results: list) -> None:
        for i, s in jobs:
            if s.chain in self._lost:
                replay = self._history.get(s.chain, [])
            elif s.chain not in self._history:
                replay = list(s.setup)
                self._history[s.chain] = list(s.setup)
            else:
                replay = []
            self._lost.discard(s.chain)
            job_id = next(self._ids)
            start = time.perf_counter()
            worker = self._workers[w]
            timeout = (self.limits.timeout_s + self.limits.grace_s) * (1 + len(replay))
            try:
                worker.send({"id": job_id, "chain": str(s.chain), "code": s.code, "replay": replay})
                reply = worker.read(timeout)
            except OSError:
                reply = None
            if reply is not None and reply.get("id") == job_id:
                results[i] = ExecResult(str(reply["output"]), bool(reply["ok"]), time.perf_counter() - start)
                if reply["ok"]:
                    self._history.setdefault(s.chain, []).append(s.code)
                continue
            results[i] = ExecResult(self._death_note(worker, time.perf_counter() - start), False,
                                    time.perf_counter() - start, worker_replaced=True)
            self._replace(w)

    def _death_note(self, worker: _Worker, elapsed: float) -> str:
        code = worker.proc.poll()
        if code is None:
            if elapsed >= self.limits.timeout_s:
                return f"Code execute time out: the code ran past {self.limits.timeout_s:g} s and was killed"
            return "Code execute Error: SandboxError: the code corrupted its worker's output and was killed"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            hint = {"SIGXCPU": " (CPU limit)", "SIGSEGV": " (crashed)", "SIGKILL": " (killed)"}.get(name, "")
            return f"Code execute Error: SandboxError: the code's process died with {name}{hint}"
        return f"Code execute Error: SandboxError: the code's process exited with status {code}"

    def _replace(self, w: int) -> None:
        old = self._workers[w]
        old.kill()
        self._lost |= old.chains
        new = _Worker(self.limits, self.preload)
        new.chains = old.chains
        self._workers[w] = new
        self.replaced += 1

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for worker in self._workers:
            worker.kill()
        self._workers = []

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_workers", None):
            for worker in self._workers:
                try:
                    worker.kill()
                except Exception:  # noqa: BLE001  (interpreter shutdown)
                    pass
