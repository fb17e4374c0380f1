"""``tts plot`` (scaling curves from result files) and ``tts show`` (one search tree)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="accuracy vs tokens / FLOPs curves from result JSONL files",
                       description="Accuracy vs tokens and vs FLOPs per strategy (log x), plus one panel per "
                                   "difficulty, from any set of result files; writes PNG and SVG.")
    p.add_argument("results", nargs="+", help="results JSONL files (from tts run / tts sweep)")
    p.add_argument("--out", default=None, help="output path without suffix (default: scaling beside the first file)")
    p.add_argument("--prm-compute", action="store_true", help="count the PRM's tokens and FLOPs on the x axes")
    p.add_argument("--title", default=None)
    p.set_defaults(func=plot_main)
    s = sub.add_parser("show", help="draw one problem's search tree (PNG + HTML)",
                       description="Render a search tree from a results file: nodes coloured by step reward, "
                                   "the chosen path in bold, every step's text in the HTML table.")
    s.add_argument("results", help="a results JSONL file")
    s.add_argument("--problem", default=None, help="problem id (or its trailing number); default: the first")
    s.add_argument("--strategy", default=None, help="strategy name (e.g. beam, mcts)")
    s.add_argument("--budget", type=int, default=None)
    s.add_argument("--out", default=None, help="output path without suffix")
    s.set_defaults(func=show_main)


def plot_main(args: argparse.Namespace) -> int:
    from tts.experiments.plot import plot_scaling
    from tts.experiments.store import read_records

    records = []
    for f in args.results:
        if not Path(f).is_file():
            raise FileNotFoundError(f"results file not found: {f}")
        records += read_records(f)
    out = args.out or Path(args.results[0]).with_name("scaling")
    for p in plot_scaling(records, out, prm_compute=args.prm_compute, title=args.title):
        print(p)
    return 0


def show_main(args: argparse.Namespace) -> int:
    from tts.experiments.show import show

    for p in show(args.results, args.out, args.problem, args.strategy, args.budget):
        print(p)
    return 0
