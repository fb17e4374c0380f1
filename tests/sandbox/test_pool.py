"""The adversarial suite: every hostile snippet gets an error string, the pool keeps working, and
the machine (files, processes, the test process itself) is untouched."""

import os
import socket
import time

import pytest

from tts.sandbox import SandboxLimits, SandboxPool, Snippet

LIMITS = SandboxLimits(timeout_s=1.0, cpu_s=1.0, grace_s=1.0, memory_mb=512)


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=2, limits=LIMITS) as p:
        yield p


def assert_alive(pool):
    """The pool still runs code, on every worker."""
    results = pool.run([Snippet(("alive", i), "print(6 * 7 == 42)") for i in range(4)])
    assert [r.output for r in results] == ["True\n"] * 4


def test_runs_code_and_keeps_a_namespace_per_chain(pool):
    assert pool.run_one("print(85 * 3 == 254)").output == "False\n"
    pool.run([Snippet("a", "x = 5"), Snippet("b", "x = 7")])
    out = pool.run([Snippet("a", "print(x)"), Snippet("b", "print(x)"), Snippet("c", "print(x)")])
    assert [r.output for r in out[:2]] == ["5\n", "7\n"]
    assert "NameError" in out[2].output and not out[2].ok


def test_results_keep_input_order_across_workers(pool):
    out = pool.run([Snippet(i, f"print({i} * {i})") for i in range(50)])
    assert [r.output for r in out] == [f"{i * i}\n" for i in range(50)]


@pytest.mark.parametrize("code, expect", [
    ("raise ValueError('boom')", "Code execute Error: ValueError: boom"),
    ("1/0", "ZeroDivisionError"),
    ("def f(): return f()\nf()", "RecursionError"),
    ("import sys; sys.exit(3)", "SystemExit"),
    ("x = bytearray(100 * 2**30)", "MemoryError"),  # 100 GB
    ("import os; os.fork()", "not allowed"),
    ("import os; os.system('echo hi')", "not allowed"),
    ("import subprocess; subprocess.run(['ls'])", "Code execute Error"),
    ("import os; os.kill(os.getppid(), 9)", "not allowed"),
    (f"import os; os.kill({os.getpid()}, 9)", "not allowed"),
    ("import signal; signal.pthread_kill(1, 9)", "not allowed"),
    ("import socket; socket.create_connection(('127.0.0.1', 22))", "Code execute Error"),
    ("import ctypes; ctypes.CDLL(None).kill(1, 9)", "Code execute Error"),
    ("import threading; threading.Thread(target=print).start()", "Code execute Error"),
    ("open('/tmp/tts-sandbox-escape', 'w').write('x')", "not allowed"),
    ("import resource; resource.setrlimit(resource.RLIMIT_AS, (-1, -1))", "not allowed"),
])
def test_hostile_snippets_get_an_error_string(pool, code, expect):
    r = pool.run_one(code, chain=("hostile", code))
    assert not r.ok and expect in r.output, r.output
    assert_alive(pool)


def test_deleting_files_is_refused(pool, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    for code in (f"import os; os.remove({str(victim)!r})", f"import shutil; shutil.rmtree({str(tmp_path)!r})",
                 f"import os; os.rename({str(victim)!r}, 'stolen')", f"open({str(victim)!r}, 'w')"):
        r = pool.run_one(code)
        assert not r.ok and "not allowed" in r.output, (code, r.output)
    assert victim.read_text() == "keep me"
    assert not os.path.exists("/tmp/tts-sandbox-escape")


def test_private_temp_dir_is_writable(pool):
    r = pool.run_one("open('scratch.txt', 'w').write('hi'); import os; print(open('scratch.txt').read(), os.getcwd())")
    assert r.ok and r.output.startswith("hi /") and "tts-sandbox-" in r.output


def test_no_network(pool):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        r = pool.run_one(f"import socket; s = socket.socket(); s.connect(('127.0.0.1', {port})); print('connected')")
        assert not r.ok and "connected" not in r.output
    finally:
        server.close()


@pytest.mark.parametrize("code", ["while True: pass", "import time; time.sleep(60)",
                                  "while True:\n    try:\n        while True: pass\n    except BaseException: pass"])
def test_hangs_are_stopped(pool, code):
    start = time.perf_counter()
    r = pool.run_one(code, chain=("hang", code))
    assert not r.ok and "time out" in r.output
    assert time.perf_counter() - start < LIMITS.timeout_s + LIMITS.grace_s + 5
    assert_alive(pool)


@pytest.mark.parametrize("code", ["import os; os._exit(1)", "import os; os.abort()",
                                  "import os; os.write(1, b'garbage'); os.write(3, b'{\"id\": -1}\\n')"])
def test_a_dead_or_corrupted_worker_is_replaced(pool, code):
    before = pool.replaced
    r = pool.run_one(code, chain=("dead", code))
    assert not r.ok or r.worker_replaced or r.output == ""
    assert_alive(pool)
    assert pool.replaced >= before


def test_namespace_survives_worker_replacement(pool):
    pool.run_one("total = 41", chain="survivor")
    pool.run_one("import os; os._exit(1)", chain="survivor")  # kills the chain's worker
    r = pool.run_one("print(total + 1)", chain="survivor")
    assert r.output == "42\n"


def test_output_is_capped():
    with SandboxPool(workers=1, limits=SandboxLimits(max_output_chars=100)) as p:
        r = p.run_one("print('x' * 10**6)")
    assert r.ok and len(r.output) < 200 and "truncated" in r.output


def test_bad_limits_are_refused():
    with pytest.raises(ValueError, match="timeout_s"):
        SandboxLimits(timeout_s=0)
    with pytest.raises(ValueError, match="workers"):
        SandboxPool(workers=0)
