"""``tts eval policy``: accuracy table of a policy on a testbed split (greedy, sampled, maj@k, pass@k)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate a model on the testbed", description=__doc__)
    which = p.add_subparsers(dest="target", required=True, metavar="TARGET")
    pol = which.add_parser("policy", help="policy accuracy by chain length")
    pol.add_argument("--model", default="tiny-policy", help="shipped name or checkpoint path")
    pol.add_argument("--backend", default=None, choices=["hf", "vllm", "http"], help="default: the machine's")
    pol.add_argument("--base-url", default="http://127.0.0.1:8000", help="for --backend http")
    pol.add_argument("--split", default="test")
    pol.add_argument("--limit", type=int, default=None, help="first N problems of the split")
    pol.add_argument("--samples", type=int, default=16)
    pol.add_argument("--temperature", type=float, default=0.8)
    pol.add_argument("--seed", type=int, default=0)
    pol.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    pol.add_argument("--out", type=Path, default=None, help="write the table as JSON here")
    pol.set_defaults(func=run_policy)


def run_policy(args: argparse.Namespace) -> int:
    import torch

    from tts.models.evaluate_policy import evaluate_policy, format_table
    from tts.policy import load_policy
    from tts.tasks.splits import testbed_split

    if args.threads:
        torch.set_num_threads(args.threads)
    problems = testbed_split(args.split, args.limit)
    kwargs = {"base_url": args.base_url} if args.backend == "http" else {}
    policy = load_policy(args.backend, args.model, seed=args.seed, **kwargs)
    start = time.perf_counter()
    table = evaluate_policy(policy, problems, samples=args.samples, temperature=args.temperature)
    elapsed = time.perf_counter() - start
    print(f"policy {args.model} on testbed split {args.split!r} ({len(problems)} problems), backend "
          f"{policy.name}, {args.samples} samples at T={args.temperature}, {elapsed:.0f} s")
    print(format_table(table))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"model": str(args.model), "split": args.split, "backend": policy.name,
                                        "samples": args.samples, "temperature": args.temperature,
                                        "seconds": round(elapsed, 1), "table": table}, indent=2) + "\n")
    return 0
