"""Problems in flight: a window of problems vs every problem at once, side by side.

    python -m benchmarks.window [--problems 256] [--strategy majority] [--n 16] [--windows 8 all]

Each setting runs in a fresh subprocess (so each has its own peak RSS) on the same problems with
the same seeds, and reports the time to the first finished problem (what a results file sees
first), the wall time, tokens/s (policy, and policy + PRM) and the peak resident memory. The
records must be identical across settings (content-keyed seeds); the script checks it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time


def one(args: argparse.Namespace) -> dict:
    import torch

    import search
    from tts import load_policy, search as run
    from tts.prm import load_prm
    from tts.tasks.splits import testbed_split

    torch.set_num_threads(args.threads)
    problems = testbed_split("test", limit=args.problems)
    policy = load_policy("hf", seed=0)
    prm = load_prm("genprm", backend="hf") if args.strategy != "majority" else None
    strategy = {"majority": lambda: search.majority_vote(args.n),
                "best_of_n": lambda: search.best_of_n(args.n)}[args.strategy]()
    window = None if args.window == "all" else int(args.window)
    first = []
    start = time.perf_counter()
    results = run(problems, strategy, policy, prm, budget=args.budget, progress=False, window=window,
                  on_result=lambda r: first.append(time.perf_counter() - start) if not first else None)
    wall = time.perf_counter() - start
    policy_tokens = sum(r.spend.policy_generated + r.spend.policy_prompt for r in results)
    all_tokens = sum(r.spend.tokens for r in results)
    digest = hashlib.sha1(json.dumps([(r.steps, r.score) for r in results]).encode()).hexdigest()[:12]
    if prm is not None:
        prm.close()
    return {"window": args.window, "first_s": first[0], "wall_s": wall, "policy_tok_s": policy_tokens / wall,
            "total_tok_s": all_tokens / wall, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "records": digest}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", type=int, default=256)
    ap.add_argument("--strategy", choices=["majority", "best_of_n"], default="majority")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--budget", type=int, default=4096)
    ap.add_argument("--windows", nargs="+", default=["8", "all"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--window", help=argparse.SUPPRESS)  # one setting, in a subprocess
    args = ap.parse_args(argv)
    if args.window is not None:
        print(json.dumps(one(args)))
        return
    rows = []
    for window in args.windows:
        cmd = [sys.executable, "-m", "benchmarks.window", "--problems", str(args.problems), "--strategy", args.strategy,
               "--n", str(args.n), "--budget", str(args.budget), "--threads", str(args.threads), "--window", window]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(f"# window={window} done", file=sys.stderr, flush=True)
    print(f"# {args.strategy} n={args.n} on {args.problems} testbed problems, HF, {args.threads} threads, "
          f"{platform.machine()} {os.cpu_count()} cores")
    print("| window | first record s | first record / wall | wall s | policy tokens/s | all tokens/s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['window']} | {r['first_s']:.1f} | {100 * r['first_s'] / r['wall_s']:.0f} % | {r['wall_s']:.1f} | "
              f"{r['policy_tok_s']:,.0f} | {r['total_tok_s']:,.0f} | {r['peak_rss_mib']:,.0f} |")
    same = len({r["records"] for r in rows}) == 1
    print(f"records identical across windows: {same}")
    if not same:
        raise SystemExit("records differ between windows")


if __name__ == "__main__":
    main()
