"""``tts testbed``: write the arithmetic-chain problems and a ProcessBench-format set as JSONL."""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

from tts.tasks import CORRUPTION_KINDS, ChainConfig, generate_problems, make_processbench, save_records


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("testbed", help="generate the arithmetic-chain testbed (problems + ProcessBench set)",
                       description=__doc__)
    p.add_argument("--out", type=Path, default=Path("data/testbed"), help="output directory")
    p.add_argument("--num-problems", type=int, default=500)
    p.add_argument("--num-processbench", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    grid = ChainConfig()  # the shipped models' training grid
    p.add_argument("--min-ops", type=int, default=grid.min_ops)
    p.add_argument("--max-ops", type=int, default=grid.max_ops)
    p.add_argument("--ops", nargs="+", default=list(grid.ops), help="operations to draw from")
    p.add_argument("--max-start", type=int, default=grid.start_range[1], help="largest start value")
    p.add_argument("--max-value", type=int, default=grid.max_value)
    p.add_argument("--error-fraction", type=float, default=0.5, help="share of ProcessBench samples with an error")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = ChainConfig(min_ops=args.min_ops, max_ops=args.max_ops, ops=tuple(args.ops), max_value=args.max_value,
                      start_range=(1, args.max_start))
    problems = generate_problems(args.num_problems, seed=args.seed, cfg=cfg, prefix="arith")
    # A disjoint seed stream for the ProcessBench problems, so neither set leaks into the other.
    pb_problems = generate_problems(args.num_processbench, seed=args.seed + 1_000_003, cfg=cfg, prefix="pb")
    samples = make_processbench(pb_problems, seed=args.seed, error_fraction=args.error_fraction)
    out: Path = args.out
    save_records(out / "problems.jsonl", problems)
    save_records(out / "processbench.jsonl", samples)

    lengths = collections.Counter(p.meta["num_ops"] for p in problems)
    kinds = collections.Counter(s.meta["kind"] for s in samples if s.label >= 0)
    n_err = sum(s.label >= 0 for s in samples)
    print(f"wrote {len(problems)} problems -> {out / 'problems.jsonl'}")
    print("  operations per problem: " + ", ".join(f"{k}: {lengths[k]}" for k in sorted(lengths)))
    print(f"wrote {len(samples)} ProcessBench samples -> {out / 'processbench.jsonl'}")
    print(f"  with an error: {n_err} ({n_err / max(len(samples), 1):.0%}); correct: {len(samples) - n_err}")
    print("  error kinds: " + ", ".join(f"{k}: {kinds[k]}" for k in CORRUPTION_KINDS))
    print(f"example: {problems[0].problem}")
    for step in problems[0].steps or []:
        print(f"    {step}")
    return 0
