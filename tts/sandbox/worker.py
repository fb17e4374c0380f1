"""A sandbox worker: a fork server for untrusted Python snippets, answering on a pipe.

Run as a script (``python -I worker.py CONFIG_JSON``) by ``SandboxPool``. The worker itself never
runs a snippet: it imports what verification code commonly uses (math, fractions, decimal, sympy,
numpy: paid once per worker, not per chain), raises its defences, and then forks one process per
verification chain. A chain's snippets run in its own process, one after another, so a chain sees
its own changes (variables, patched modules, ``decimal`` context, recursion limit, ``random``
state, working directory, environment, open files) and nobody else's. A chain that extends
another (a search extending a verified prefix) is forked from that chain's process: it starts
with its parent's state, copy-on-write, without replaying anything. Every chain process is the
worker's child (the worker is a child subreaper; a branch is double-forked), so the worker reaps
it and reads how it died.

Defences, in the order they are raised (each one alone stops the adversarial suite's cases that
it can; the worker's per-chain kill and the pool's wall-clock kill stop everything else):
1. a new network namespace (root only: no interface but a downed loopback) and, as root, the
   ``nobody`` user, so the file system's permissions and signal rules apply;
2. resource limits: address space, file size, open files, processes (non-root, while a snippet
   runs), no core dumps;
3. an audit hook that refuses process creation, signals to other processes, sockets, ctypes,
   threads, limit changes, and any write, delete or rename outside the private temp dir;
4. per-snippet wall and CPU timers that raise ``TimeoutError`` inside the snippet.
"""

import builtins
import gc
import io
import json
import os
import random
import resource
import signal
import socket
import sys
import time

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
NOBODY = 65534
MAX_MESSAGE = 1 << 24  # a chain's reply larger than this is corruption, not output

_BLOCKED = (
    "os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "subprocess.",
    "os.kill", "os.killpg", "signal.pthread_kill", "socket.", "ctypes.", "resource.setrlimit",
    "resource.prlimit", "_thread.start_new_thread", "os.chroot", "os.setuid", "os.setgid",
    "sys.setprofile", "sys.settrace", "os.startfile", "winreg.", "mmap.__new__", "pty.",
    "signal.setitimer", "signal.signal", "os.setpgid", "os.setsid",
)
_PATH_EVENTS = {
    "os.remove": 1, "os.rmdir": 1, "os.rename": 2, "os.replace": 2, "os.truncate": 1,
    "os.chmod": 1, "os.chown": 1, "os.link": 2, "os.symlink": 2, "os.mkdir": 1, "os.utime": 1,
    "shutil.rmtree": 1, "shutil.copyfile": 2, "os.chflags": 1, "os.lchown": 1,
}
_BLOCKED_MODULES = ("ctypes", "_ctypes", "multiprocessing", "_posixsubprocess", "pty", "cffi")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class _Capped(io.TextIOBase):
    """stdout/stderr for a snippet: keeps the first ``cap`` characters, counts the rest."""

    def __init__(self, cap):
        self.cap, self.parts, self.size = cap, [], 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        room = self.cap - self.size
        if room > 0:
            self.parts.append(s[:room])
        self.size += len(s)
        return len(s)

    def text(self):
        out = "".join(self.parts)
        if self.size > self.cap:
            out += f"\n... [output truncated: {self.size - self.cap} more characters]"
        return out


def _inside(path, root):
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return real == root or real.startswith(root + os.sep)


def _make_hook(root, active):
    def hook(event, args):
        if not active[0]:
            return
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS)
            if isinstance(path, int):
                if writing:
                    raise PermissionError("sandbox: writing to an inherited file descriptor is not allowed")
                return
            if writing and not _inside(path, root):
                raise PermissionError(f"sandbox: writing outside the private temp dir is not allowed: {path}")
            return
        if event == "import" and args and str(args[0]).split(".")[0] in _BLOCKED_MODULES:
            raise ImportError(f"sandbox: module {args[0]!r} is not available")
        if event in _PATH_EVENTS:
            for p in args[: _PATH_EVENTS[event]]:
                if isinstance(p, int) or not _inside(p, root):
                    raise PermissionError(f"sandbox: {event} outside the private temp dir is not allowed")
            return
        if event.startswith(_BLOCKED):
            raise PermissionError(f"sandbox: {event} is not allowed")

    return hook


def _world_readable(path):
    """Whether ``nobody`` could import from ``path`` (an interpreter under /root cannot be)."""
    path = os.path.realpath(path)
    while True:
        if not os.stat(path).st_mode & 0o005 == 0o005:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _isolate(cfg):
    """Namespaces, user and limits: everything that needs privileges, before the audit hook."""
    libc = None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except (OSError, ImportError):
        pass
    if libc is not None and cfg["isolate_network"] and os.geteuid() == 0:
        try:
            libc.unshare(CLONE_NEWNET)
        except AttributeError:
            pass  # the audit hook still refuses sockets
    if libc is not None:
        # Orphaned chain processes (a branch is double-forked) become the worker's children, so it
        # reaps them and reads their exit status.
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    if os.geteuid() == 0 and cfg["drop_privileges"] and _world_readable(os.path.dirname(os.__file__)):
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    if libc is not None:
        # Set after the user change (which clears it): the worker dies with the pool's process,
        # even while it waits on a chain; its chains then see their channel close and exit.
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != cfg["owner"]:
            os._exit(1)  # the owner died before the prctl
    sys.modules.pop("ctypes", None)  # so a snippet's ``import ctypes`` meets the audit hook
    mb = 1024 * 1024
    # The worker holds one channel per live chain: its own file limit leaves room for them; each
    # chain process lowers it to the snippet's limit.
    limits = [(resource.RLIMIT_AS, cfg["memory_mb"] * mb), (resource.RLIMIT_FSIZE, cfg["max_file_mb"] * mb),
              (resource.RLIMIT_NOFILE, cfg["max_open_files"] + cfg["max_chains"] + 16), (resource.RLIMIT_CORE, 0),
              (resource.RLIMIT_CPU, cfg["worker_cpu_s"])]
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass  # a limit the platform refuses; the others and the kills still hold


def _forbid_threads():
    """A snippet's thread would outlive the snippet (and its timers); Python 3.11 raises no audit
    event for thread start, so the constructors themselves refuse."""
    import _thread
    import threading

    def refuse(*args, **kwargs):
        raise RuntimeError("sandbox: threads are not allowed")

    _thread.start_new_thread = _thread.start_new = refuse
    threading._start_new_thread = refuse


class _Timeout(BaseException):
    """Raised into a snippet by the timers; a BaseException so ``except Exception`` cannot eat it."""


def _on_timer(signum, frame):
    kind = "CPU" if signum == signal.SIGPROF else "wall-clock"
    raise _Timeout(f"{kind} time limit exceeded")


_BUILTINS = dict(vars(builtins))


def _restore_builtins():
    """Undo a snippet's changes to the ``builtins`` module, which the chain's own protocol code
    needs (``builtins.len = None`` must not kill the chain). The snippet's namespace keeps its own
    copy of the builtins, so the chain's later snippets still see what it changed there."""
    current = vars(builtins)
    for name, value in _BUILTINS.items():
        if current.get(name, _restore_builtins) is not value:
            current[name] = value
    for name in [n for n in current if n not in _BUILTINS]:
        del current[name]


def _run(code, namespace, cfg):
    out = _Capped(cfg["max_output_chars"])
    ok = True
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    signal.setitimer(signal.ITIMER_REAL, cfg["timeout_s"])
    signal.setitimer(signal.ITIMER_PROF, cfg["cpu_s"])
    try:
        exec(compile(code, "<snippet>", "exec"), namespace)  # noqa: S102  (this is the sandbox)
    except _Timeout as e:
        ok = False
        out.write(f"Code execute time out: {e}\n")
    except BaseException as e:  # noqa: BLE001  (the snippet's errors are its output)
        ok = False
        # GenPRM's format: the error's type and message, no traceback.
        out.write(f"Code execute Error: {type(e).__name__}: {e}\n")
    finally:
        _restore_builtins()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        sys.stdout, sys.stderr = saved
    return out.text(), ok


def death_note(status, elapsed, timeout_s):
    """GenPRM's error string for a snippet whose process ended (``status`` from ``waitpid``;
    None: it was still alive and had to be killed)."""
    if status is None:
        if elapsed >= timeout_s:
            return f"Code execute time out: the code ran past {timeout_s:g} s and was killed"
        return "Code execute Error: SandboxError: the code corrupted its process's output and was killed"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        hint = {"SIGXCPU": " (CPU limit)", "SIGSEGV": " (crashed)", "SIGKILL": " (killed)"}.get(name, "")
        return f"Code execute Error: SandboxError: the code's process died with {name}{hint}"
    return f"Code execute Error: SandboxError: the code's process exited with status {os.WEXITSTATUS(status)}"


# -- framing on a chain's channel (a Unix socket pair: it also carries a new chain's socket) ---------
def send_msg(sock, obj, fds=()):
    data = json.dumps(obj).encode()
    frame = len(data).to_bytes(8, "little") + data
    sent = socket.send_fds(sock, [frame], list(fds)) if fds else 0
    sock.sendall(frame[sent:])


def _recv_exact(sock, n, fds):
    buf = b""
    while len(buf) < n:
        chunk, got, _flags, _addr = socket.recv_fds(sock, n - len(buf), 2)
        fds.extend(got)
        if not chunk:
            raise EOFError("channel closed")
        buf += chunk
    return buf


def recv_msg(sock):
    """(message, received fds); EOFError when the other side is gone, ValueError on garbage."""
    fds = []
    size = int.from_bytes(_recv_exact(sock, 8, fds), "little")
    if size > MAX_MESSAGE:
        raise ValueError("message too large")
    obj = json.loads(_recv_exact(sock, size, fds))
    if not isinstance(obj, dict):
        raise ValueError("not a message")
    return obj, fds


# -- a chain's process ---------------------------------------------------------------------------
def _close_all_but(keep):
    top = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    os.closerange(3, keep)
    os.closerange(keep + 1, max(top, keep + 1))


def _become_chain(fd, cfg, parent_channel=None):
    """In a freshly forked chain process: take its channel and the snippet's file limit. Forked
    from the worker, it keeps no other descriptor; forked from a chain, it drops only that
    chain's channel (the files the parent's snippets opened are part of the state it extends)."""
    if parent_channel is None:
        _close_all_but(fd)
    else:
        os.close(parent_channel)
    n = cfg["max_open_files"]
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    except (ValueError, OSError):
        pass
    sock = socket.socket(fileno=fd)
    sock.setblocking(True)
    send_msg(sock, {"ready": True, "pid": os.getpid()})
    return sock


def _snippet_nproc(cfg, on):
    """Non-root: no processes while a snippet runs (the chain itself must fork to branch)."""
    if os.geteuid() == 0:
        return
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (cfg["max_processes"] if on else hard, hard))
    except (ValueError, OSError):
        pass


def _chain_loop(sock, namespace, cfg, active):
    """Serve one chain: run its snippets in ``namespace``; fork a branch when asked."""
    while True:
        try:
            msg, fds = recv_msg(sock)
        except (EOFError, OSError, ValueError):
            os._exit(0)  # the worker is gone
        if msg.get("op") == "fork":
            if len(fds) != 1:
                os._exit(1)
            state = random.getstate()
            middle = os.fork()
            if middle == 0:
                if os.fork() == 0:  # the branch: a copy of this chain, on its own channel
                    sock = _become_chain(fds[0], cfg, parent_channel=sock.detach())
                    random.setstate(state)  # ``random`` reseeds itself in a forked child: undo that
                    continue
                os._exit(0)  # the branch is orphaned to the worker (a subreaper), which reaps it
            os.waitpid(middle, 0)
            os.close(fds[0])
            send_msg(sock, {"seq": msg["seq"], "forked": True})
            continue
        start = time.perf_counter()
        active[0] = True
        _snippet_nproc(cfg, True)
        try:
            for earlier in msg.get("replay", ()):
                _run(earlier, namespace, cfg)  # rebuild a chain that was evicted or lost
            output, ok = _run(msg["code"], namespace, cfg)
        finally:
            active[0] = False
            _snippet_nproc(cfg, False)
        send_msg(sock, {"seq": msg["seq"], "output": output, "ok": ok, "seconds": time.perf_counter() - start})


class _Chain:
    def __init__(self, pid, sock):
        self.pid, self.sock = pid, sock


class _Server:
    """The worker's side: a live process per chain, forked fresh or from its parent chain."""

    def __init__(self, cfg, active):
        self.cfg, self.active = cfg, active
        self.chains = {}
        self.spare = None
        self.dying = []  # killed chains not yet reaped
        self.seq = 0
        # Seeded, so a chain's random numbers depend on its code, not on the process that ran it.
        random.seed(0)
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed(0)
        self.pristine_random = random.getstate()

    def _handshake(self, sock):
        sock.settimeout(10.0)
        msg, _ = recv_msg(sock)
        sock.settimeout(None)
        return int(msg["pid"])

    def fork_fresh(self):
        """A pristine chain: the spare one forked while the pool was busy, or a new one."""
        spare, self.spare = self.spare, None
        return spare if spare is not None else self._fork_pristine()

    def refill(self):
        """Fork the next pristine chain ahead of need (between requests, while the pool reads)."""
        if self.spare is None:
            self.spare = self._fork_pristine()
        self.reap()

    def reap(self, block=False):
        """Collect the exit of chains ``forget`` killed."""
        left = []
        for pid in self.dying:
            try:
                if os.waitpid(pid, 0 if block else os.WNOHANG)[0] == 0:
                    left.append(pid)
            except ChildProcessError:
                pass
        self.dying = left

    def _fork_pristine(self):
        mine, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            mine.detach()  # its fd is closed with the rest
            sock = _become_chain(theirs.detach(), self.cfg)
            random.setstate(self.pristine_random)  # every fresh chain draws the same numbers
            _chain_loop(sock, {"__name__": "__main__", "__builtins__": dict(vars(builtins))}, self.cfg, self.active)
        theirs.close()
        self._handshake(mine)
        return _Chain(pid, mine)

    def fork_from(self, parent):
        mine, theirs = socket.socketpair()
        self.seq += 1
        try:
            parent.sock.settimeout(10.0)
            send_msg(parent.sock, {"op": "fork", "seq": self.seq}, fds=[theirs.fileno()])
            theirs.close()
            reply, _ = recv_msg(parent.sock)
            parent.sock.settimeout(None)
            if reply.get("seq") != self.seq or not reply.get("forked"):
                raise ValueError("bad fork reply")
            return _Chain(self._handshake(mine), mine)
        except (OSError, EOFError, ValueError):
            mine.close()
            theirs.close()
            return None

    def kill(self, chain, status_wait=0.0):
        """End a chain's process; its wait status if it ended by itself within ``status_wait`` s."""
        status = None
        deadline = time.monotonic() + status_wait
        while True:
            try:
                pid, st = os.waitpid(chain.pid, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                status = st
                break
            if time.monotonic() >= deadline:
                try:
                    os.kill(chain.pid, signal.SIGKILL)
                    os.waitpid(chain.pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
                break
            time.sleep(0.005)
        chain.sock.close()
        return status

    def forget(self, names):
        # Killed without waiting: a large process takes a while to tear down, and nothing needs
        # its status; ``reap`` collects it between requests.
        for name in names:
            chain = self.chains.pop(name, None)
            if chain is not None:
                try:
                    os.kill(chain.pid, signal.SIGKILL)
                    self.dying.append(chain.pid)
                except ProcessLookupError:
                    pass
                chain.sock.close()

    def run(self, req):
        name = req["chain"]
        chain = self.chains.get(name)
        forked = False
        if chain is None:
            if req.get("live"):
                return {"stale": True}  # the pool thought it alive: it must rebuild it
            parent = self.chains.get(req["from"]) if req.get("from") is not None else None
            if req.get("from") is not None and parent is None:
                return {"stale": True}
            chain = self.fork_from(parent) if parent is not None else self.fork_fresh()
            if chain is None:
                return {"stale": True}
            self.chains[name] = chain
            forked = True
        replay = req.get("replay", []) if forked else []
        budget = (self.cfg["timeout_s"] + self.cfg["grace_s"]) * (1 + len(replay))
        self.seq += 1
        start = time.perf_counter()
        try:
            chain.sock.settimeout(budget)
            send_msg(chain.sock, {"seq": self.seq, "code": req["code"], "replay": replay})
            reply, fds = recv_msg(chain.sock)
            for fd in fds:
                os.close(fd)
            if reply.get("seq") != self.seq or not isinstance(reply.get("output"), str):
                raise ValueError("bad reply")
            return {"output": reply["output"], "ok": bool(reply.get("ok")), "forked": forked, "pid": chain.pid}
        except (OSError, EOFError, ValueError, KeyError):
            elapsed = time.perf_counter() - start
            del self.chains[name]
            status = self.kill(chain, status_wait=0.0 if elapsed >= budget else 0.5)
            return {"output": death_note(status, elapsed, self.cfg["timeout_s"]), "ok": False, "forked": forked,
                    "died": True}

    def close(self):
        self.forget(list(self.chains))
        if self.spare is not None:
            self.kill(self.spare)
        self.reap(block=True)


def main():
    cfg = json.loads(sys.argv[1])
    root = os.path.realpath(cfg["tmpdir"])
    # The protocol runs on private copies of stdin/stdout; fds 0-2 then point at /dev/null, so a
    # snippet writing to fd 1 cannot corrupt the protocol stream.
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    reader = os.fdopen(rfd, "r", encoding="utf-8", errors="replace")
    for name in cfg["preload"]:
        try:
            __import__(name)
        except ImportError:
            pass
    _isolate(cfg)
    os.chdir(root)
    os.environ["TMPDIR"] = os.environ["HOME"] = root
    sys.dont_write_bytecode = True
    _forbid_threads()
    signal.signal(signal.SIGALRM, _on_timer)
    signal.signal(signal.SIGPROF, _on_timer)
    active = [False]
    sys.addaudithook(_make_hook(root, active))
    server = _Server(cfg, active)
    gc.collect()
    gc.freeze()  # fewer copy-on-write faults in every forked chain

    def reply(obj):
        os.write(wfd, (json.dumps(obj) + "\n").encode())

    reply({"ready": True, "pid": os.getpid()})
    for line in reader:
        req = json.loads(line)
        op = req.get("op")
        if op == "forget":
            server.forget(req["chains"])
            continue
        if op == "shutdown":
            break
        start = time.perf_counter()
        out = server.run(req)
        reply({"id": req["id"], "seconds": time.perf_counter() - start, **out})
        server.refill()
    server.close()
    reply({"closed": True})


if __name__ == "__main__":
    main()
