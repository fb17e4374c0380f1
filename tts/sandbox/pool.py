"""A pool of warm sandbox workers that run model-written Python in parallel.

Each verification chain (one sampled GenPRM verification of one solution path) runs in its own
process, forked by its worker from a warm, pristine parent (see ``worker.py``), so no chain sees
another's changes; a chain that extends another is forked from that chain's process and starts
from its state without replay. Live chain processes are capped per worker: the least recently
used is ended, and if it is needed again it is rebuilt by replaying its snippets (and its
ancestors'), which ``stats()`` counts. A snippet that crashes, hangs or breaks its process gets
an error string as output; a worker that dies is replaced and its chains are rebuilt on demand.
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
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from tts.sandbox.worker import death_note

WORKER = Path(__file__).with_name("worker.py")
# What verification code commonly imports, loaded once per worker so no chain pays for it.
PRELOAD = ("math", "fractions", "decimal", "random", "itertools", "sympy", "numpy")


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 5.0  # wall clock per snippet (raised inside it); the worker dies at +grace_s
    cpu_s: float = 5.0  # CPU time per snippet
    grace_s: float = 2.0
    memory_mb: int = 1024  # address space of each chain's process
    max_output_chars: int = 4000  # stdout+stderr kept per snippet
    max_file_mb: int = 16
    max_open_files: int = 64
    max_processes: int = 0  # while a snippet runs, non-root only (RLIMIT_NPROC); the audit hook refuses forks anyway
    worker_cpu_s: int = 3600  # a worker's lifetime CPU; it is replaced when spent
    isolate_network: bool = True
    drop_privileges: bool = True  # as root, run snippets as ``nobody``
    max_chains: int = 64  # live chain processes per worker; the least recently used is ended past it

    def __post_init__(self) -> None:
        for name in ("timeout_s", "cpu_s", "memory_mb", "max_output_chars", "max_chains"):
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
    chain: Hashable  # the verification chain whose process it runs in
    code: str
    # When the chain is new: the chain it extends (a search extending a verified prefix), whose
    # state (variables, imports, module changes) it starts from. None: a pristine interpreter.
    parent: Hashable | None = None


class _Worker:
    def __init__(self, limits: SandboxLimits, preload: Sequence[str]) -> None:
        self.tmpdir = tempfile.mkdtemp(prefix="tts-sandbox-")
        if os.geteuid() == 0 and limits.drop_privileges:
            os.chown(self.tmpdir, 65534, 65534)
        cfg = asdict(limits) | {"tmpdir": self.tmpdir, "preload": list(preload), "owner": os.getpid()}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8"}
        # -I: no user site, no PYTHON* variables, no cwd on sys.path; its own session, so a
        # signal to the worker's group never reaches the engine.
        self.proc = subprocess.Popen([sys.executable, "-I", str(WORKER), json.dumps(cfg)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, cwd=self.tmpdir, start_new_session=True)
        self.buffer = b""
        self.live: OrderedDict[Hashable, None] = OrderedDict()  # chains with a process, least recent first
        ready = self.read(timeout=120.0)
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

    def shutdown(self) -> None:
        """End the chains and the worker; the worker reaps its chains, so none is left behind."""
        if self.proc.poll() is None:
            try:
                self.send({"op": "shutdown"})
                self.read(timeout=5.0)
            except OSError:
                pass
        self.kill()

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
                 preload: Sequence[str] = PRELOAD) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.limits = limits or SandboxLimits()
        self.preload = tuple(preload)
        self._workers = [_Worker(self.limits, self.preload) for _ in range(workers)]
        self._home: dict[Hashable, int] = {}  # chain -> worker index
        self._history: dict[Hashable, list[str]] = {}  # chain -> its own snippets that ran through
        # chain -> (the chain it extends, how many of that chain's snippets had run when it branched)
        self._parent: dict[Hashable, tuple[Hashable, int]] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox")
        self.replaced = 0  # workers replaced so far
        self._last_death = ""
        self._closing = False
        self._inflight: list = []
        self._stats = {"chains": 0, "branched": 0, "evicted": 0, "rebuilt": 0, "replayed_snippets": 0}

    @property
    def size(self) -> int:
        return len(self._workers)

    def stats(self) -> dict[str, int]:
        """Chains started (``branched``: of those, forked from their parent's process), chains
        ended to stay under ``max_chains`` (``evicted``), and chains rebuilt by replay after an
        eviction or a lost worker, with the snippets replayed; plus live processes now."""
        return dict(self._stats, live=sum(len(w.live) for w in self._workers), workers_replaced=self.replaced)

    def run(self, snippets: Sequence[Snippet]) -> list[ExecResult]:
        with self._lock:
            groups: dict[int, list[int]] = {}
            for i, s in enumerate(snippets):
                if s.chain not in self._home:
                    self._place(s)
                groups.setdefault(self._home[s.chain], []).append(i)
            results: list[ExecResult | None] = [None] * len(snippets)
            futures = [self._executor.submit(self._run_group, w, [(i, snippets[i]) for i in idx], results)
                       for w, idx in groups.items()]
            self._inflight = futures
            for f in futures:
                f.result()
            return results  # type: ignore[return-value]

    def run_one(self, code: str, chain: Hashable = "default", parent: Hashable | None = None) -> ExecResult:
        return self.run([Snippet(chain, code, parent)])[0]

    def forget(self, chains: Sequence[Hashable]) -> None:
        """End finished chains' processes and drop what the pool kept to rebuild them."""
        with self._lock:
            per_worker: dict[int, list[str]] = {}
            for chain in chains:
                w = self._home.pop(chain, None)
                self._history.pop(chain, None)
                self._parent.pop(chain, None)
                if w is not None and chain in self._workers[w].live:
                    del self._workers[w].live[chain]
                    per_worker.setdefault(w, []).append(str(chain))
            for w, names in per_worker.items():
                self._send_forget(self._workers[w], names)

    # -- placement and rebuilding ---------------------------------------------------------------
    def _place(self, s: Snippet) -> None:
        """A new chain lives on its parent's worker (it is forked from the parent's process), or on
        the worker with the fewest live chains."""
        self._stats["chains"] += 1
        if s.parent is not None and s.parent in self._home:
            self._parent[s.chain] = (s.parent, None)  # the parent's state when the chain first runs
            self._home[s.chain] = self._home[s.parent]
        else:
            self._home[s.chain] = min(range(self.size), key=lambda w: len(self._workers[w].live))

    def _source(self, chain: Hashable, w: int) -> tuple[Hashable | None, list[str]]:
        """What a chain without a process is forked from and what is replayed on top: its parent's
        process (revived first if it was evicted, so its other children fork from it too) and the
        chain's own snippets, which are none for a new chain. A parent that ran on after the chain
        branched cannot serve: its snippets up to the branch point are replayed instead."""
        own = list(self._history.get(chain, ()))
        link = self._parent.get(chain)
        if link is None:
            return None, own
        parent, upto = link
        if upto is None:  # first run: it branches from the parent as it is now
            upto = len(self._history.get(parent, ()))
            self._parent[chain] = (parent, upto)
        if self._home.get(parent) == w and len(self._history.get(parent, ())) == upto and self._revive(parent, w):
            return parent, own
        source, replay = self._source(parent, w)
        return source, replay[: len(replay) - len(self._history.get(parent, ())) + upto] + own

    def _revive(self, chain: Hashable, w: int) -> bool:
        """Make sure ``chain`` has a live process on worker ``w``, rebuilding it by replay."""
        worker = self._workers[w]
        if chain in worker.live:
            return True
        source, replay = self._source(chain, w)
        reply = self._request(w, chain, "pass", source, replay, live=False)
        if reply is None or not reply.get("forked") or reply.get("died"):
            return False
        worker.live[chain] = None
        self._count_fork(source, replay)
        self._evict(self._workers[w], keep=chain)
        return True

    def _request(self, w: int, chain: Hashable, code: str, source: Hashable | None, replay: list[str],
                 live: bool) -> dict | None:
        """One run request to worker ``w``; None if the worker died or hung (it is replaced)."""
        worker = self._workers[w]
        job_id = next(self._ids)
        timeout = (self.limits.timeout_s + self.limits.grace_s) * (1 + len(replay)) + 15.0
        start = time.perf_counter()
        try:
            worker.send({"op": "run", "id": job_id, "chain": str(chain), "code": code, "live": live,
                         "from": None if source is None else str(source), "replay": replay})
            reply = worker.read(timeout)
        except OSError:
            reply = None
        if reply is None or reply.get("id") != job_id:
            self._last_death = self._worker_death(worker, time.perf_counter() - start)
            self._replace(w)
            return None
        return reply

    def _count_fork(self, source: Hashable | None, replay: list[str]) -> None:
        if replay:
            self._stats["rebuilt"] += 1
            self._stats["replayed_snippets"] += len(replay)
        elif source is not None:
            self._stats["branched"] += 1

    def _run_group(self, w: int, jobs: list[tuple[int, Snippet]], results: list) -> None:
        for i, s in jobs:
            if self._closing:  # the caller gave up on this batch (interrupted): stop here
                return
            results[i] = self._run_snippet(w, s)

    def _run_snippet(self, w: int, s: Snippet) -> ExecResult:
        start = time.perf_counter()
        for _ in range(3):  # a stale view of the worker's chains is corrected and retried
            worker = self._workers[w]
            live = s.chain in worker.live
            source, replay = (None, []) if live else self._source(s.chain, w)
            reply = self._request(w, s.chain, s.code, source, replay, live)
            if reply is None:
                return ExecResult(self._last_death, False, time.perf_counter() - start, worker_replaced=True)
            if reply.get("stale"):
                worker.live.pop(s.chain, None)
                if source is not None:
                    worker.live.pop(source, None)
                continue
            if reply.get("forked"):
                worker.live[s.chain] = None
                self._count_fork(source, replay)
            if reply.get("died"):
                worker.live.pop(s.chain, None)
            else:
                worker.live.move_to_end(s.chain)
                if reply["ok"]:
                    self._history.setdefault(s.chain, []).append(s.code)
            self._evict(worker, keep=s.chain)
            return ExecResult(str(reply["output"]), bool(reply["ok"]), time.perf_counter() - start)
        return ExecResult("Code execute Error: SandboxError: the chain could not be started", False,
                          time.perf_counter() - start)

    def _evict(self, worker: _Worker, keep: Hashable) -> None:
        over = len(worker.live) - self.limits.max_chains
        if over <= 0:
            return
        names = [c for c in list(worker.live)[: over + 1] if c != keep][:over]
        for c in names:
            del worker.live[c]
        self._stats["evicted"] += len(names)
        self._send_forget(worker, [str(c) for c in names])

    @staticmethod
    def _send_forget(worker: _Worker, names: list[str]) -> None:
        try:
            worker.send({"op": "forget", "chains": names})
        except OSError:
            pass

    def _worker_death(self, worker: _Worker, elapsed: float) -> str:
        code = worker.proc.poll()
        # Popen's code as a wait status: -N for signal N, else the exit status.
        status = None if code is None else (-code if code < 0 else code << 8)
        return death_note(status, elapsed, self.limits.timeout_s)

    def _replace(self, w: int) -> None:
        old = self._workers[w]
        old.kill()
        if self._closing:
            return
        self._workers[w] = _Worker(self.limits, self.preload)  # its chains are rebuilt when next used
        self.replaced += 1

    def close(self) -> None:
        """End every worker and chain. Called while a batch still runs (its caller was
        interrupted), the workers are killed at once instead of finishing their snippets."""
        self._closing = True
        if any(not f.done() for f in self._inflight):
            for worker in self._workers:
                worker.kill()
        self._executor.shutdown(wait=True, cancel_futures=True)
        for worker in self._workers:
            worker.shutdown()
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
