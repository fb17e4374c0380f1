"""Named, fixed splits of the testbed, so every benchmark and model card uses the same problems."""

from __future__ import annotations

from tts.tasks.arithmetic import ChainConfig, generate_problems
from tts.tasks.records import Problem

# name -> (seed, size, chain knobs). Seeds differ from the training seeds' streams.
SPLITS = {
    "test": (20_261_123, 500, ChainConfig(min_ops=3, max_ops=5)),
    "dev": (20_261_124, 200, ChainConfig(min_ops=3, max_ops=5)),
    "wide": (20_261_125, 500, ChainConfig(min_ops=2, max_ops=6)),
}


def testbed_split(name: str = "test", limit: int | None = None) -> list[Problem]:
    if name not in SPLITS:
        raise ValueError(f"unknown testbed split {name!r}; choose one of {sorted(SPLITS)}")
    seed, size, cfg = SPLITS[name]
    problems = generate_problems(size, seed=seed, cfg=cfg, prefix=f"testbed-{name}")
    return problems[:limit] if limit is not None else problems
