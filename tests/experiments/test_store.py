"""The results store: atomic appends, torn last lines detected and cut, other damage refused."""

from __future__ import annotations

import json

import pytest

from tts.experiments.store import ResultStore, TornRecordWarning, read_records
from tts.tasks.jsonl import JsonlError


def rec(i: int) -> dict:
    return {"key": f"cell:{i}", "value": i}


def test_records_round_trip_and_survive_reopening(tmp_path):
    path = tmp_path / "r.jsonl"
    store = ResultStore(path)
    store.extend(rec(i) for i in range(3))
    assert "cell:1" in store and "cell:9" not in store
    again = ResultStore(path)
    assert [r["value"] for r in again] == [0, 1, 2]
    assert path.read_text().count("\n") == 3


@pytest.mark.parametrize("tail", ['{"key": "cell:3", "va', '{"key": "cell:3", "value": 3}'])
def test_a_torn_last_line_is_dropped_and_cut(tmp_path, tail):
    """A killed write leaves a partial line, or a complete object without its newline: either way
    the record is not trusted, and the problem is recomputed."""
    path = tmp_path / "r.jsonl"
    ResultStore(path).extend(rec(i) for i in range(3))
    with open(path, "a") as f:
        f.write(tail)
    with pytest.warns(TornRecordWarning, match=r"r.jsonl:4"):
        store = ResultStore(path)
    assert len(store) == 3 and "cell:3" not in store
    store.append(rec(3))  # lands on its own line, not glued to the torn bytes
    assert [json.loads(line)["value"] for line in path.read_text().splitlines()] == [0, 1, 2, 3]


def test_damage_before_the_last_line_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(rec(0)) + "\n{broken\n" + json.dumps(rec(2)) + "\n")
    with pytest.raises(JsonlError, match=r"r.jsonl:2"):
        read_records(path)
