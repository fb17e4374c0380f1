"""A sandbox worker: runs untrusted Python snippets, one at a time, and answers on a pipe.

Run as a script (``python -I worker.py CONFIG_JSON``) by ``SandboxPool``; it imports only the
standard library, so it starts in milliseconds and nothing of the engine's process is inside it.

Defences, in the order they are raised (each one alone stops the adversarial suite's cases that
it can; the parent's wall-clock kill stops everything else):
1. a new network namespace (root only: no interface but a downed loopback) and, as root, the
   ``nobody`` user, so the file system's permissions and signal rules apply;
2. resource limits: address space, file size, open files, processes (non-root), no core dumps;
3. an audit hook that refuses process creation, signals to other processes, sockets, ctypes,
   threads, limit changes, and any write, delete or rename outside the private temp dir;
4. per-snippet wall and CPU timers that raise ``TimeoutError`` inside the snippet.
"""

import builtins
import io
import json
import os
import resource
import signal
import sys
import time

CLONE_NEWNET = 0x40000000
NOBODY = 65534

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
    if cfg["isolate_network"] and os.geteuid() == 0:
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET)
        except (OSError, AttributeError):
            pass  # the audit hook still refuses sockets
        sys.modules.pop("ctypes", None)  # so a snippet's ``import ctypes`` meets the audit hook
    if os.geteuid() == 0 and cfg["drop_privileges"] and _world_readable(os.path.dirname(os.__file__)):
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    mb = 1024 * 1024
    limits = [(resource.RLIMIT_AS, cfg["memory_mb"] * mb), (resource.RLIMIT_FSIZE, cfg["max_file_mb"] * mb),
              (resource.RLIMIT_NOFILE, cfg["max_open_files"]), (resource.RLIMIT_CORE, 0),
              (resource.RLIMIT_CPU, cfg["worker_cpu_s"])]
    if os.geteuid() != 0:
        limits.append((resource.RLIMIT_NPROC, cfg["max_processes"]))
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass  # a limit the platform refuses; the others and the parent's kill still hold


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
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        sys.stdout, sys.stderr = saved
    return out.text(), ok


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
    namespaces = {}

    def reply(obj):
        os.write(wfd, (json.dumps(obj) + "\n").encode())

    reply({"ready": True, "pid": os.getpid()})
    for line in reader:
        req = json.loads(line)
        if req.get("op") == "forget":
            namespaces.pop(req["chain"], None)
            continue
        ns = namespaces.get(req["chain"])
        if ns is None:
            ns = namespaces[req["chain"]] = {"__name__": "__main__", "__builtins__": dict(vars(builtins))}
        start = time.perf_counter()
        active[0] = True
        try:
            for earlier in req.get("replay", ()):
                _run(earlier, ns, cfg)  # rebuild a namespace lost with a replaced worker
            output, ok = _run(req["code"], ns, cfg)
        finally:
            active[0] = False
        reply({"id": req["id"], "output": output, "ok": ok, "seconds": time.perf_counter() - start})


if __name__ == "__main__":
    main()
