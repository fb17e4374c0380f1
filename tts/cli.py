"""The ``tts`` command."""

from __future__ import annotations

import argparse
import sys

from tts.commands import evaluate, plot, prm, run, testbed, train


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tts", description="Test-time search guided by process reward models.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    testbed.add_parser(sub)
    train.add_parser(sub)
    evaluate.add_parser(sub)
    prm.add_parser(sub)
    run.add_parser(sub)
    plot.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError) as e:
        # Bad input: one clear line, not a traceback.
        print(f"tts {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
