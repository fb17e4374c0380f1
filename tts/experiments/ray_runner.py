"""Run the cells of a grid on Ray: each actor holds its own engine replicas (policy and PRM) and
searches chunks of problems; the driver stores each chunk's records as they come back.

On one machine ``ray.init`` starts a local cluster with ``workers x cpus_per_worker`` CPUs. On a
GPU cluster start Ray there (``ray start --head`` / ``ray start --address=HEAD:6379`` on each
node), then run with ``launcher.kind=ray launcher.address=auto launcher.workers=<GPUs>
launcher.gpus_per_worker=1``: every actor then holds one vLLM engine on its own GPU.

Chunks are small, so a killed driver loses at most the chunks in flight; content-keyed seeds
make a problem's result the same whichever actor and chunk searched it.
"""

from __future__ import annotations

import math
import uuid

from tqdm.auto import tqdm

from tts.experiments.grid import Cell
from tts.experiments.runner import Engines, pending, search_cell
from tts.experiments.store import ResultStore


class SearchWorker:
    """One engine replica set; ``run`` searches a chunk of one cell's problems."""

    def __init__(self, threads: int = 1) -> None:
        import torch

        torch.set_num_threads(threads)
        self.engines = Engines()

    def run(self, config: dict, problems: list, run: str) -> list[dict]:
        records: list[dict] = []
        search_cell(self.engines, config, problems, run, records.append)
        return records


def run_ray(cells: list[Cell], store: ResultStore, launcher: dict, progress: bool = True) -> int:
    try:
        import ray
        from ray.util import ActorPool
    except ImportError as e:
        raise ValueError("launcher.kind=ray needs Ray: pip install 'tts-search[ray]' (or ray)") from e
    workers = int(launcher["workers"])
    if workers < 1:
        raise ValueError(f"launcher.workers must be >= 1, got {workers}")
    if not ray.is_initialized():
        if launcher.get("address"):
            ray.init(address=launcher["address"], log_to_driver=False)
        else:
            ray.init(num_cpus=math.ceil(workers * launcher["cpus_per_worker"]), include_dashboard=False,
                     log_to_driver=False)
    remote = ray.remote(num_cpus=launcher["cpus_per_worker"], num_gpus=launcher["gpus_per_worker"])(SearchWorker)
    actors = [remote.remote(max(1, int(launcher["cpus_per_worker"]))) for _ in range(workers)]
    run = uuid.uuid4().hex[:8]
    tasks = []
    for _, config, todo in pending(cells, store):
        size = max(1, math.ceil(len(todo) / (2 * workers)))  # two chunks per actor per cell
        tasks += [(config, todo[i : i + size]) for i in range(0, len(todo), size)]
    total, written = sum(len(t[1]) for t in tasks), 0
    pool = ActorPool(actors)
    try:
        with tqdm(total=total, desc="tts run (ray)", unit="problem", disable=not progress or total == 0) as bar:
            for records in pool.map_unordered(lambda actor, task: actor.run.remote(task[0], task[1], run), tasks):
                for record in records:
                    store.append(record)
                    written += 1
                bar.update(len(records))
    finally:  # finished or interrupted: the actors (and their engines) go
        for actor in actors:
            ray.kill(actor)
    return written
