"""``tts run`` / ``tts sweep``: search a dataset with strategies x budgets x PRM settings.

    tts run                                   # the main job: a few strategies, a few budgets
    tts run strategy=mcts budget.per_problem=256,512,1024
    tts sweep --resume                        # experiment=sweep; skip what the results file holds
    tts run experiment=smoke launcher.kind=ray launcher.workers=2

Arguments after the options are Hydra overrides of ``conf/config.yaml``; a comma list sweeps that
key (as ``--multirun`` does) and replaces the experiment's own axis for it. Each (problem, config)
is stored in the results JSONL the moment its problem finishes; the table and the scaling curve
come from that file.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

DESCRIPTION = __doc__


def add_parser(sub: argparse._SubParsersAction) -> None:
    for name, experiment in (("run", None), ("sweep", "sweep")):
        p = sub.add_parser(name, help=("search with strategies x budgets; results table, JSONL and scaling curve"
                                       if name == "run" else "tts run with experiment=sweep (a bigger grid)"),
                           description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--resume", action="store_true",
                       help="keep the results file and skip every (problem, config) it already holds")
        p.add_argument("--cfg", action="store_true", help="print the composed config of every cell and exit")
        p.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. strategy=beam budget.per_problem=256,1024")
        p.set_defaults(func=main, experiment=experiment)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cluster scheduler's stop), handled as Ctrl-C is."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def interrupts_raised():
    """SIGTERM raises like SIGINT while the run goes, so both end it the same clean way."""

    def terminate(signum, frame):
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(args: argparse.Namespace) -> int:
    import torch
    from omegaconf import OmegaConf

    from tts.experiments.grid import compose_cells
    from tts.experiments.plot import plot_scaling
    from tts.experiments.store import ResultStore
    from tts.experiments.table import print_table, summarize

    overrides = list(args.overrides)
    if args.experiment and not any(o.split("=")[0].lstrip("+~") == "experiment" for o in overrides):
        overrides.insert(0, f"experiment={args.experiment}")
    if args.resume:
        overrides.append("resume=true")
    base, cells = compose_cells(overrides)
    if args.cfg:
        for cell in cells:
            print(f"# {' '.join(cell.overrides) or '(no grid)'}\n{OmegaConf.to_yaml(cell.config, resolve=True)}")
        return 0
    if base.launcher.kind not in ("local", "ray"):
        raise ValueError(f"launcher.kind must be 'local' or 'ray', got {base.launcher.kind!r}")
    results = Path(base.results)
    if results.exists() and not base.resume:
        raise FileExistsError(f"{results} already holds results: add --resume to continue it, or choose another "
                              f"file with results=PATH (or name=NAME)")
    torch.set_num_threads(base.threads)
    store = ResultStore(results)
    print(f"{len(cells)} configs x {cells[0].config.dataset.limit or 'all'} problems -> {results}"
          + (f" ({len(store)} records already there)" if len(store) else ""), flush=True)
    try:
        with interrupts_raised():
            if base.launcher.kind == "ray":
                from tts.experiments.ray_runner import run_ray

                run_ray(cells, store, OmegaConf.to_container(base.launcher), progress=base.progress)
            else:
                from tts.experiments.runner import run_local

                run_local(cells, store, progress=base.progress)
    except KeyboardInterrupt as stop:
        # Every finished problem is already stored (one fsynced line each); say how to go on.
        kept = len(ResultStore(results))
        resume = shlex.join(["tts", args.command, *args.overrides, *([] if args.resume else ["--resume"])])
        print(f"\ntts {args.command}: interrupted; {kept} records kept in {results}; continue with: {resume}",
              file=sys.stderr, flush=True)
        return 128 + getattr(stop, "signum", signal.SIGINT)
    from tts.experiments.records import cell_id
    from tts.experiments.runner import plain

    wanted = {cell_id(plain(c.config)) for c in cells}
    records = [r for r in store if r["cell"] in wanted]
    print_table(summarize(records), title=f"{base.name}: {results}")
    if base.plot and records:
        paths = plot_scaling(records, results.with_name("scaling"), title=f"{base.name}: compute scaling")
        print("scaling curve: " + ", ".join(str(p) for p in paths))
    return 0
