"""Sandbox throughput: executions/s for the shapes of work GenPRM gives the pool.

    python -m benchmarks.sandbox [--workers 2] [--n 2000]

Rows (each on the same pool, after a warm-up):
  * trivial, existing chains: ``print(85 * 3 == 255)`` in 64 chains that already ran code;
  * trivial, new chains: the same snippet, each in a chain of its own (a new verification);
  * trivial, branched chains: each in a new chain that extends a parent chain holding variables
    (a search extending a verified prefix: GenPRM's common case);
  * sympy, branched chains: a typical verification snippet (exact ``Rational`` arithmetic and
    an ``expand``) in new chains extending a parent that imported sympy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time

from tts.sandbox import SandboxPool, Snippet

TRIVIAL = "print(85 * 3 == 255)"
SYMPY_SETUP = "import sympy\nx = sympy.symbols('x')\nprev = 85 * 3"
# A typical verification: exact arithmetic and a small expansion, with distinct numbers per
# snippet so sympy's own cache does not turn the row into a lookup.
SYMPY = "print(sympy.Rational(prev, {i}) * {i} == prev, sympy.expand((x + {i})**2).coeff(x, 1) == {j})"


def _branch(pool: SandboxPool, chain, parent, code: str) -> Snippet:
    fields = {f.name for f in dataclasses.fields(Snippet)}
    if "parent" in fields:
        return Snippet(chain, code, parent=parent)
    return Snippet(chain, code, setup=pool.history(parent))  # the replay-based pool, for "before" figures


def _rate(run, n: int) -> float:
    start = time.perf_counter()
    run()
    return n / (time.perf_counter() - start)


def measure(pool: SandboxPool, n: int) -> dict[str, float]:
    out = {}
    pool.run([Snippet(("warm", i), TRIVIAL) for i in range(64)])
    out["trivial, existing chains"] = _rate(
        lambda: pool.run([Snippet(("warm", i % 64), TRIVIAL) for i in range(n)]), n)
    out["trivial, new chains"] = _rate(lambda: pool.run([Snippet(("new", i), TRIVIAL) for i in range(n)]), n)
    pool.run([Snippet(("parent", i), "a = 85\nb = 3") for i in range(16)])
    out["trivial, branched chains"] = _rate(
        lambda: pool.run([_branch(pool, ("child", i), ("parent", i % 16), "print(a * b == 255)") for i in range(n)]), n)
    pool.run([Snippet(("sym", i), SYMPY_SETUP) for i in range(16)])
    m = max(n // 10, 16)
    out["sympy, branched chains"] = _rate(
        lambda: pool.run([_branch(pool, ("symchild", i), ("sym", i % 16), SYMPY.format(i=i + 2, j=2 * (i + 2))) for i in range(m)]), m)
    if hasattr(pool, "stats"):
        out["stats"] = pool.stats()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--n", type=int, default=2000, help="executions per trivial row (sympy: n/10)")
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    with SandboxPool(workers=args.workers) as pool:
        startup = time.perf_counter() - start
        rates = measure(pool, args.n)
    if args.json:
        print(json.dumps({"startup_s": round(startup, 2), **rates}))
        return
    print(f"# sandbox on {platform.machine()}, {os.cpu_count()} cores, {args.workers} workers; "
          f"pool start-up {startup:.2f} s")
    print("| workload | executions/s |")
    print("|---|---:|")
    for name, rate in rates.items():
        if name != "stats":
            print(f"| {name} | {rate:,.0f} |")
    if "stats" in rates:
        print(f"pool stats: {rates['stats']}")


if __name__ == "__main__":
    main()
