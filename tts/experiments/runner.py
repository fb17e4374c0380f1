"""Run the cells of a grid on this machine, storing each problem's record as it finishes.

Engines are loaded once per distinct policy / PRM config and restarted (seed streams, PRM
cache) before every cell, so a cell's results do not depend on which cells ran before it in this
process: a resumed sweep reproduces an uninterrupted one.
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from tts.budget.scheduler import DEFAULT_WINDOW
from tts.experiments.grid import Cell
from tts.experiments.records import cell_id, make_record, record_key
from tts.experiments.store import ResultStore
from tts.search_api import search


def plain(config: DictConfig) -> dict:
    return OmegaConf.to_container(config, resolve=True)


def make(part: dict):
    """``hydra.utils.instantiate``, with bad input surfacing as the target's own error (a missing
    dataset file, a bad strategy setting) rather than Hydra's wrapper around it."""
    try:
        return instantiate(part)
    except InstantiationException as e:
        if isinstance(e.__cause__, (ValueError, FileNotFoundError, TypeError)):
            raise e.__cause__ from None
        raise


def build_strategy(strategy_cfg: dict, steps_cfg: dict | None = None):
    """The strategy function of a strategy config (its ``name`` is a label, not an argument), with
    the run's step settings (``steps.*``) for every strategy that samples steps."""
    factory = make({k: v for k, v in strategy_cfg.items() if k != "name"} | {"_partial_": True})
    if steps_cfg is None or "steps" not in inspect.signature(factory.func).parameters:
        return factory()
    from tts.policy.steps import StepSettings

    # A command line cannot hold a newline: steps.delimiter='\n\n' means two of them.
    delimiter = steps_cfg.get("delimiter", "\n\n")
    for escaped, char in (("\\n", "\n"), ("\\t", "\t"), ("\\r", "\r")):
        delimiter = delimiter.replace(escaped, char)
    return factory(steps=StepSettings(**{**steps_cfg, "delimiter": delimiter}))


class Engines:
    """Policy and PRM engines, one per distinct config, kept for the whole run."""

    def __init__(self) -> None:
        self._cache: dict[str, object] = {}

    def get(self, part: dict):
        key = repr(sorted(part.items()))
        if key not in self._cache:
            self._cache[key] = make(part)
        return self._cache[key]

    def close(self) -> None:
        """Close every engine of the run (PRM sandboxes end here). vLLM's engine processes are
        process-wide and shared by key; they end at exit (``release_engines`` runs then)."""
        while self._cache:
            _, engine = self._cache.popitem()
            if hasattr(engine, "close"):
                engine.close()


def pending(cells: list[Cell], store: ResultStore) -> list[tuple[Cell, dict, list]]:
    """Each cell with its plain config and the problems it still has to run."""
    problems_of: dict[str, list] = {}
    out = []
    for cell in cells:
        config = plain(cell.config)
        data_key = repr(sorted(config["dataset"].items()))
        if data_key not in problems_of:
            problems_of[data_key] = make(config["dataset"])
        cid = cell_id(config)
        todo = [p for p in problems_of[data_key] if record_key(cid, p.id) not in store]
        out.append((cell, config, todo))
    return out


def search_cell(engines: Engines, config: dict, problems: list, run: str,
                on_record: Callable[[dict], None]) -> None:
    """Search one cell's problems with restarted engines; ``on_record`` gets each problem's record
    as soon as it finishes (the local and the Ray runner share this)."""
    from tts.policy.gpu_share import share_one_gpu

    policy_cfg, prm_cfg = share_one_gpu(config["policy"], config["prm"])  # both vLLM on one GPU: shares fit
    policy, prm = engines.get(policy_cfg), engines.get(prm_cfg)
    for engine in (policy, prm):
        if hasattr(engine, "restart"):
            engine.restart()
    cid, start = cell_id(config), time.perf_counter()
    search(problems, build_strategy(config["strategy"], config.get("steps")), policy, prm, budget=make(config["budget"]),
           progress=False, window=config.get("window", DEFAULT_WINDOW), on_result=lambda r: on_record(
               make_record(config, cid, r, time.perf_counter() - start, run, config["store_trees"])))


@contextmanager
def engines_closed(engines: Engines):
    try:
        yield engines
    finally:
        engines.close()


def run_local(cells: list[Cell], store: ResultStore, progress: bool = True) -> int:
    """Run every unfinished (cell, problem); returns how many records were written."""
    work = pending(cells, store)
    total = sum(len(todo) for _, _, todo in work)
    engines = Engines()
    run = uuid.uuid4().hex[:8]
    written = 0
    with engines_closed(engines), tqdm(total=total, desc="tts run", unit="problem",
                                       disable=not progress or total == 0) as bar:

        def store_one(record: dict) -> None:
            nonlocal written
            store.append(record)
            written += 1
            bar.update(1)

        for cell, config, todo in work:
            if todo:
                bar.set_postfix_str(" ".join(cell.overrides), refresh=True)
                search_cell(engines, config, todo, run, store_one)
    return written
