"""The standard records that every dataset loads into: problems, and ProcessBench samples.

Real datasets are recognised by their field names (MATH-500, AIME, GSM8K, ProcessBench), so
their JSONL files load without conversion.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tts.tasks.jsonl import JsonlError, read_jsonl, write_jsonl


@dataclass
class Problem:
    id: str
    problem: str
    answer: str
    steps: list[str] | None = None  # a reference solution, one entry per step, if known
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ProcessBenchSample:
    """ProcessBench format: ``label`` is the index of the first wrong step, -1 if none is wrong.
    ``subset`` is the split whose F1 is averaged with the others (the official subsets are gsm8k,
    math, olympiadbench and omnimath); ``generator`` is the model that wrote the solution."""

    id: str
    problem: str
    steps: list[str]
    label: int
    final_answer_correct: bool
    generator: str = "unknown"
    subset: str = "default"
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _first(d: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in d and d[key] is not None:
            return d[key]
    return None


def _gsm8k_answer(answer: str) -> tuple[str, list[str]]:
    """GSM8K answers are a worked solution ending in ``#### 72``."""
    work, _, final = answer.rpartition("####")
    steps = [line.strip() for line in work.strip().splitlines() if line.strip()]
    return final.strip().replace(",", ""), steps


def problem_from_dict(d: dict[str, Any], fallback_id: str) -> Problem:
    """A ``Problem`` from a record in our format, MATH-500, AIME or GSM8K. Raises ``ValueError``
    naming what is missing."""
    text = _first(d, "problem", "Problem", "question", "Question")
    answer = _first(d, "answer", "Answer", "final_answer", "expected_answer")
    steps = d.get("steps")
    if text is None or answer is None:
        missing = [name for name, v in (("problem/question", text), ("answer", answer)) if v is None]
        raise ValueError(
            f"record lacks {' and '.join(missing)}; known formats: tts (id, problem, answer[, steps]), "
            "MATH-500 (problem, answer, unique_id), AIME (ID, Problem, Answer), GSM8K (question, answer)"
        )
    answer = str(answer)
    if "question" in d and "####" in answer:
        answer, steps = _gsm8k_answer(answer)
    pid = _first(d, "id", "ID", "unique_id", "idx")
    known = {"id", "ID", "unique_id", "idx", "problem", "Problem", "question", "Question", "answer",
             "Answer", "final_answer", "expected_answer", "steps", "meta"}
    meta = dict(d.get("meta") or {})
    meta.update({k: v for k, v in d.items() if k not in known})
    return Problem(id=str(pid if pid is not None else fallback_id), problem=str(text), answer=answer,
                   steps=list(steps) if steps is not None else None, meta=meta)


def processbench_from_dict(d: dict[str, Any], fallback_id: str, subset: str = "default") -> ProcessBenchSample:
    """``subset``: the split of a record that names none (Qwen/ProcessBench's files are one split
    each and say so only in their names)."""
    missing = [k for k in ("problem", "steps", "label") if k not in d]
    if missing:
        raise ValueError(f"ProcessBench record lacks {', '.join(missing)} (needs problem, steps, label)")
    steps, label = d["steps"], d["label"]
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        raise ValueError("ProcessBench 'steps' must be a list of strings")
    if not isinstance(label, int) or not -1 <= label < max(len(steps), 1):
        raise ValueError(f"ProcessBench 'label' must be -1 or a step index below {len(steps)}, got {label!r}")
    return ProcessBenchSample(
        id=str(d.get("id", fallback_id)), problem=str(d["problem"]), steps=steps, label=label,
        final_answer_correct=bool(d.get("final_answer_correct", label == -1)),
        generator=str(d.get("generator", "unknown")), subset=str(_first(d, "subset", "split") or subset),
        meta=dict(d.get("meta") or {}),
    )


def _load(path, build) -> Iterator:
    for i, d in enumerate(read_jsonl(path)):
        try:
            yield build(d, f"{os.path.basename(os.fspath(path))}-{i}")
        except ValueError as e:
            # Re-locate the error: which file and line, not just what was wrong.
            raise JsonlError(path, _line_of_record(path, i), str(e)) from e


def _line_of_record(path, index: int) -> int:
    """1-based line of the index-th non-blank line (read_jsonl skips blank lines)."""
    seen = -1
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if raw.strip():
                seen += 1
                if seen == index:
                    return lineno
    return index + 1


def load_problems(path: str | os.PathLike) -> list[Problem]:
    return list(_load(path, problem_from_dict))


def load_processbench(path: str | os.PathLike, subset: str | None = None) -> list[ProcessBenchSample]:
    """Samples of a ProcessBench JSONL. A record's own ``subset`` (or ``split``) field names its
    subset; otherwise ``subset``, else the file's name without extension (``gsm8k.jsonl`` ->
    ``gsm8k``), as the official files are one split each."""
    name = subset if subset is not None else Path(path).name.split(".")[0]
    return list(_load(path, lambda d, fid: processbench_from_dict(d, fid, name)))


def save_records(path: str | os.PathLike, records: list[Problem] | list[ProcessBenchSample]) -> int:
    return write_jsonl(path, (r.to_dict() for r in records))
