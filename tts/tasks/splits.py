"""Named, fixed splits of the testbed, so every benchmark and model card uses the same problems.

``test`` and ``dev`` are drawn from the shipped models' training grid (``ChainConfig()``); the
other splits are families *outside* it, for measuring how the models hold off their grid:
``long`` has more operations than any training chain, ``large`` adds and subtracts three-digit
operands (training operands of + and - stop at 99)."""

from __future__ import annotations

from tts.tasks.arithmetic import ChainConfig, generate_problems
from tts.tasks.records import Problem

GRID = ChainConfig()
# name -> (seed, size, chain knobs). Seeds differ from the training seeds' streams.
SPLITS = {
    "test": (20_261_123, 500, GRID),
    "dev": (20_261_124, 200, GRID),
    "long": (20_261_126, 300, ChainConfig(min_ops=11, max_ops=14)),
    "large": (20_261_127, 300, ChainConfig(add_range=(100, 999))),
}
IN_GRID = ("test", "dev")
OUT_OF_GRID = ("long", "large")


def testbed_split(name: str = "test", limit: int | None = None) -> list[Problem]:
    if name not in SPLITS:
        raise ValueError(f"unknown testbed split {name!r}; choose one of {sorted(SPLITS)}")
    seed, size, cfg = SPLITS[name]
    problems = generate_problems(size, seed=seed, cfg=cfg, prefix=f"testbed-{name}")
    return problems[:limit] if limit is not None else problems
