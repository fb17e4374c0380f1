"""The results store: one JSONL record per (problem, config), appended when that problem finishes.

Each record is written with a single ``os.write`` on an ``O_APPEND`` descriptor and fsynced, so
a record is either wholly on disk or (killed mid-write) a torn last line without its newline.
Reading detects a torn or corrupt *last* line, reports it and cuts it off so the problem is
recomputed; a corrupt line anywhere else is damage this store cannot explain, and is an error
naming the file and line.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from tts.tasks.jsonl import JsonlError


class TornRecordWarning(UserWarning):
    """The last line of a results file was incomplete (a killed write) and was dropped."""


def read_records(path: str | os.PathLike, repair: bool = False) -> list[dict]:
    """Every complete record of a results file. A torn last line is dropped with a warning (and,
    with ``repair``, cut from the file so later appends start on a fresh line)."""
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    records, offset = [], 0
    lines = data.split(b"\n")
    for number, line in enumerate(lines, start=1):
        last = number == len(lines)
        start = offset
        offset += len(line) + 1
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if last:  # valid JSON but no newline: the write may not have finished
                raise ValueError("no newline at the end")
            if not isinstance(record, dict) or "key" not in record:
                raise ValueError("not a results record (no 'key')")
        except ValueError as e:
            tail = number >= len(lines) - 1 and all(not x.strip() for x in lines[number:])
            if not tail:
                raise JsonlError(path, number, f"corrupt results record ({e}); not a torn last write, so the "
                                 "file was damaged some other way: move it aside or delete the line") from e
            warnings.warn(f"{path}:{number}: incomplete last record dropped (a killed write); its problem "
                          "will be recomputed", TornRecordWarning, stacklevel=2)
            if repair:
                with open(path, "r+b") as f:
                    f.truncate(start)
                    f.flush()
                    os.fsync(f.fileno())
            break
        records.append(record)
    return records


class ResultStore:
    """Append-only JSONL of result records keyed by ``record['key']``."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._records = read_records(self.path, repair=True)
        self._done = {r["key"] for r in self._records}

    def __contains__(self, key: str) -> bool:
        return key in self._done

    def __iter__(self) -> Iterator[dict]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def append(self, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, line)
            if written != len(line):  # a short write on a full disk: the reader will see a torn line
                raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
            os.fsync(fd)
        finally:
            os.close(fd)
        self._records.append(record)
        self._done.add(record["key"])

    def extend(self, records: Iterable[dict]) -> None:
        for r in records:
            self.append(r)
