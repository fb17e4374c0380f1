"""``tts plot`` (scaling curves from result files), ``tts frontier`` (the compute-optimal choice per
difficulty) and ``tts show`` (one search tree)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="accuracy vs tokens / FLOPs curves from result JSONL files",
                       description="Accuracy vs tokens and vs FLOPs per strategy (log x), plus one panel per "
                                   "difficulty, from any set of result files; writes PNG and SVG.")
    p.add_argument("results", nargs="+", help="results JSONL files (from tts run / tts sweep)")
    p.add_argument("--out", default=None, help="output path without suffix (default: scaling beside the first file)")
    p.add_argument("--policy-only", action="store_true",
                   help="x axes count the policy's generated tokens and FLOPs only (default: every token policy and "
                        "PRM computed, prompts less prefix-cache hits)")
    p.add_argument("--title", default=None)
    p.set_defaults(func=plot_main)
    f = sub.add_parser("frontier", help="the best configuration per difficulty bin and compute level",
                       description="From any result files: for each difficulty bin and compute level, the "
                                   "configuration with the highest accuracy among those spending at most that much "
                                   "per problem (with its 95 % interval), and the gain of choosing per bin over the "
                                   "best single configuration at equal compute. Prints a table, writes PNG and SVG.")
    f.add_argument("results", nargs="+", help="results JSONL files (from tts run / tts sweep)")
    f.add_argument("--out", default=None, help="output path without suffix (default: frontier beside the first file)")
    f.add_argument("--axis", choices=["tokens", "flops"], default="tokens")
    f.add_argument("--policy-only", action="store_true", help="count the policy's compute only (default: policy + PRM)")
    f.add_argument("--bins", type=int, default=3, help="quantile bins when the dataset has no difficulty of its own")
    f.add_argument("--title", default=None)
    f.set_defaults(func=frontier_main)
    s = sub.add_parser("show", help="draw one problem's search tree (PNG + HTML)",
                       description="Render a search tree from a results file: nodes coloured by step reward, "
                                   "the chosen path in bold, every step's text in the HTML table.")
    s.add_argument("results", help="a results JSONL file")
    s.add_argument("--problem", default=None, help="problem id (or its trailing number); default: the first")
    s.add_argument("--strategy", default=None, help="strategy name (e.g. beam, mcts)")
    s.add_argument("--budget", type=int, default=None)
    s.add_argument("--out", default=None, help="output path without suffix")
    s.set_defaults(func=show_main)


def _records(files: list[str]) -> list[dict]:
    from tts.experiments.store import read_records

    records = []
    for f in files:
        if not Path(f).is_file():
            raise FileNotFoundError(f"results file not found: {f}")
        records += read_records(f)
    return records


def plot_main(args: argparse.Namespace) -> int:
    from tts.experiments.plot import plot_scaling

    records = _records(args.results)
    out = args.out or Path(args.results[0]).with_name("scaling")
    for p in plot_scaling(records, out, policy_only=args.policy_only, title=args.title):
        print(p)
    return 0


def frontier_main(args: argparse.Namespace) -> int:
    from tts.experiments.frontier import frontier, plot_frontier, print_frontier

    result = frontier(_records(args.results), axis=args.axis, policy_only=args.policy_only, quantiles=args.bins)
    print_frontier(result)
    for p in plot_frontier(result, args.out or Path(args.results[0]).with_name("frontier"), title=args.title):
        print(p)
    return 0


def show_main(args: argparse.Namespace) -> int:
    from tts.experiments.show import show

    for p in show(args.results, args.out, args.problem, args.strategy, args.budget):
        print(p)
    return 0
