"""The leak suite: what one verification chain changes in its interpreter is seen by that chain
and the chains that branch from it, never by a sibling or a fresh chain, whichever worker they
share; and no sandbox process outlives its pool or its owner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tts.sandbox import SandboxLimits, SandboxPool, Snippet

LIMITS = SandboxLimits(timeout_s=2.0, cpu_s=2.0, grace_s=1.0, memory_mb=1024)

# (what a chain changes, what a chain prints to show the state it sees)
LEAKS = {
    "builtins": ("import builtins; builtins.print = None; builtins.len = None", "print(len([1, 2]))"),
    "module attribute": ("import math; math.pi = 3", "import math; print(math.pi)"),
    "sympy patched": ("import sympy; sympy.sqrt = lambda x: 42", "import sympy; print(sympy.sqrt(4))"),
    "decimal context": ("import decimal; decimal.getcontext().prec = 3",
                        "import decimal; print(decimal.Decimal(1) / decimal.Decimal(7))"),
    "recursion limit": ("import sys; sys.setrecursionlimit(60)", "import sys; print(sys.getrecursionlimit())"),
    "random state": ("import random; random.seed(1234)", "import random; print(random.random())"),
    "working directory": ("import os; os.mkdir('elsewhere'); os.chdir('elsewhere')",
                          "import os; print(os.getcwd() == os.path.realpath(os.environ['HOME']))"),
    "environment": ("import os; os.environ['LEAK'] = 'yes'", "import os; print(os.environ.get('LEAK'))"),
    "open files": ("handles = [open('f%d.txt' % i, 'w') for i in range(40)]",
                   "import os; print(sum(os.path.realpath('/proc/self/fd/' + f).endswith('.txt')"
                   " for f in os.listdir('/proc/self/fd')))"),
    "numpy print options": ("import numpy; numpy.set_printoptions(precision=1)",
                            "import numpy; print(numpy.array([1 / 3]))"),
}


def _expected(pool: SandboxPool, probe: str, tag: str) -> str:
    """What the probe prints in a pristine chain."""
    return pool.run_one(probe, chain=("pristine", tag)).output


@pytest.fixture(scope="module", params=[1, 3], ids=["one worker", "three workers"])
def pool(request):
    with SandboxPool(workers=request.param, limits=LIMITS) as p:
        yield p


@pytest.mark.parametrize("what", list(LEAKS))
def test_a_chain_changes_nothing_for_siblings_or_fresh_chains(pool, what):
    change, probe = LEAKS[what]
    clean = _expected(pool, probe, what)
    assert clean and "Error" not in clean, clean
    pool.run([Snippet(("parent", what), "base = 1")])
    # Two siblings branched from one parent: one changes its interpreter, the other must not see it.
    [changed] = pool.run([Snippet(("changer", what), change, parent=("parent", what))])
    assert changed.ok, changed.output
    out = pool.run([Snippet(("sibling", what), probe, parent=("parent", what)),
                    Snippet(("fresh", what), probe),
                    *[Snippet(("fresh", what, i), probe) for i in range(4)]])  # spread over the workers
    assert [r.output for r in out] == [clean] * len(out), what
    # The changing chain itself, and a child branched from it, do see the change.
    mine = pool.run([Snippet(("changer", what), probe), Snippet(("changer-child", what), probe,
                                                                  parent=("changer", what))])
    if what != "builtins":  # builtins are restored after each snippet (the chain's own code needs them)
        assert mine[0].output != clean and mine[1].output != clean, (what, mine)


def test_a_child_sees_its_parents_variables_not_its_siblings(pool):
    pool.run_one("x = 41\nimport math\nmath.tau = 1", chain="p")
    pool.run([Snippet("a", "y = 'from a'", parent="p"), Snippet("b", "z = 'from b'", parent="p")])
    out = pool.run([Snippet("a", "print(x + 1, math.tau, y)"), Snippet("b", "print('y' in dir(), z)"),
                    Snippet("a-child", "print(x, y, 'z' in dir())", parent="a")])
    assert [r.output for r in out] == ["42 1 from a\n", "False from b\n", "41 from a False\n"]


def test_the_engine_process_is_untouched(pool):
    before = (dict(os.environ), os.getcwd(), sys.getrecursionlimit())
    pool.run([Snippet(("engine", i), code) for i, (code, _) in enumerate(LEAKS.values())])
    assert (dict(os.environ), os.getcwd(), sys.getrecursionlimit()) == before


def test_evicted_chains_are_rebuilt_by_replay_and_counted():
    with SandboxPool(workers=1, limits=SandboxLimits(max_chains=3)) as pool:
        pool.run_one("a = 1", chain="root")
        pool.run_one("b = a + 1", chain="mid", parent="root")
        for i in range(4):  # push root and mid out of the live set
            pool.run_one("pass", chain=("filler", i))
        stats = pool.stats()
        assert stats["evicted"] >= 2 and stats["live"] <= 3
        r = pool.run_one("print(a, b)", chain="leaf", parent="mid")
        assert r.output == "1 2\n"
        stats = pool.stats()
        # root and mid are rebuilt as processes of their own (one snippet each), so their other
        # children fork from them again instead of replaying.
        assert stats["rebuilt"] == 2 and stats["replayed_snippets"] == 2
        assert pool.run_one("print(a * 10 + b)", chain="leaf-sibling", parent="mid").output == "12\n"
        assert pool.stats()["replayed_snippets"] == 2
        # Branching from a live parent replays nothing.
        pool.run_one("print(a + b)", chain="leaf-2", parent="leaf")
        assert pool.stats()["replayed_snippets"] == 2 and pool.stats()["branched"] >= 2


def _sandbox_pids(marker: str) -> list[int]:
    """Processes whose command line names a pool's private temp dir (workers and chains alike)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read()
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmd and state != "Z":
            found.append(int(entry))
    return found


def test_no_process_is_left_after_close():
    pool = SandboxPool(workers=2)
    pool.run([Snippet(("c", i), "x = 1") for i in range(6)] + [Snippet("kid", "y = 2", parent=("c", 0))])
    dirs = [w.tmpdir for w in pool._workers]
    assert all(_sandbox_pids(d) for d in dirs)  # workers and their chains are there...
    pool.close()
    time.sleep(0.2)
    assert not any(_sandbox_pids(d) for d in dirs)  # ...and gone


def test_no_process_is_left_when_the_owner_is_killed(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        from tts.sandbox import SandboxPool, Snippet
        pool = SandboxPool(workers=2)
        pool.run([Snippet(("c", i), "x = 1") for i in range(6)] + [Snippet("kid", "y = 2", parent=("c", 0))])
        print(" ".join(w.tmpdir for w in pool._workers), flush=True)
        pool.run([Snippet("busy", "import time; time.sleep(30)")])  # killed while a chain runs
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    dirs = owner.stdout.readline().split()
    assert len(dirs) == 2 and all(_sandbox_pids(d) for d in dirs)
    time.sleep(0.5)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 10
    while any(_sandbox_pids(d) for d in dirs) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_sandbox_pids(d) for d in dirs)
