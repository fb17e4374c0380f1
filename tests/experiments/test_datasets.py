"""Datasets from a path (MATH-500 / AIME / GSM8K formats), the testbed, and clear errors."""

from __future__ import annotations

import json

import pytest

from tts.experiments.datasets import difficulty, load_dataset


def test_testbed_needs_no_file():
    problems = load_dataset("testbed", "test", limit=5)
    assert len(problems) == 5 and difficulty(problems[0]).endswith("ops")


@pytest.mark.parametrize(("record", "answer"), [
    ({"problem": "What is $1/2$?", "answer": "\\frac{1}{2}", "unique_id": "test/x/1.json", "level": 3}, "\\frac{1}{2}"),
    ({"ID": "2024-I-1", "Problem": "Find x.", "Answer": 204}, "204"),
    ({"question": "Tom has 3 apples and buys 2. How many?", "answer": "3 + 2 = <<3+2=5>>5\n#### 5"}, "5"),
])
def test_known_formats_load_from_a_path(tmp_path, record, answer):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps(record) + "\n")
    [p] = load_dataset("jsonl", path=str(path))
    assert p.answer == answer
    if "level" in record:
        assert difficulty(p) == "level 3"


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "math500.jsonl"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_dataset("math500", path=str(missing))


def test_hub_datasets_without_a_path_say_how_to_give_one(monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match="dataset.path"):
        load_dataset("gsm8k")
    with pytest.raises(ValueError, match="tts prm eval"):
        load_dataset("processbench")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("mathh")
