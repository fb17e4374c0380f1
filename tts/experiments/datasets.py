"""Problem sets for search runs: the embedded testbed, or MATH-500 / AIME / GSM8K from a local
JSONL, or from the hub through ``datasets`` when one is reachable (this machine has none)."""

from __future__ import annotations

from pathlib import Path

from tts.tasks.records import Problem, load_problems, problem_from_dict
from tts.tasks.splits import testbed_split

# name -> (hub dataset id, config, split)
HUB = {
    "math500": ("HuggingFaceH4/MATH-500", None, "test"),
    "aime": ("AI-MO/aimo-validation-aime", None, "train"),
    "gsm8k": ("openai/gsm8k", "main", "test"),
}
NAMES = ("testbed", "jsonl", *HUB)


def load_dataset(name: str = "testbed", split: str = "test", path: str | None = None,
                 limit: int | None = None) -> list[Problem]:
    if limit is not None and limit < 1:
        raise ValueError(f"dataset.limit must be >= 1 or null, got {limit}")
    if path is not None:
        file = Path(path).expanduser()
        if not file.is_file():
            raise FileNotFoundError(f"dataset file not found: {file} (dataset.path={path}); give the path of a "
                                    "JSONL of problems (tts, MATH-500, AIME or GSM8K format)")
        problems = load_problems(file)
    elif name == "testbed":
        problems = testbed_split(split, limit)
    elif name in HUB:
        problems = _from_hub(name)
    elif name == "processbench":
        raise ValueError("ProcessBench holds labelled solutions, not problems to search: evaluate PRMs on it with "
                         "`tts prm eval --data FILE`")
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {NAMES}, or set dataset.path to a JSONL file")
    return problems[:limit] if limit is not None else problems


def _from_hub(name: str) -> list[Problem]:
    repo, config, split = HUB[name]
    hint = f"download it as JSONL elsewhere and pass dataset.path=FILE (hub id {repo})"
    try:
        import datasets
    except ImportError as e:
        raise FileNotFoundError(f"dataset {name!r} has no dataset.path and the `datasets` package is not installed; "
                                f"{hint}") from e
    try:
        rows = datasets.load_dataset(repo, config, split=split)
    except Exception as e:  # noqa: BLE001  (offline: many exception types, one meaning)
        raise FileNotFoundError(f"dataset {name!r}: the hub is not reachable ({type(e).__name__}); {hint}") from e
    return [problem_from_dict(dict(r), f"{name}-{i}") for i, r in enumerate(rows)]


def difficulty(problem: Problem) -> str | None:
    """A per-problem difficulty label for per-difficulty curves: MATH level, testbed operations."""
    meta = problem.meta or {}
    for key, fmt in (("level", "level {}"), ("num_ops", "{} ops"), ("difficulty", "{}")):
        if meta.get(key) is not None:
            value = meta[key]
            return fmt.format(value) if not str(value).lower().startswith("level") else str(value)
    return None
