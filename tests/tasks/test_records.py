import json

import pytest

from tts.tasks import (
    JsonlError,
    generate_problems,
    load_problems,
    load_processbench,
    make_processbench,
    read_jsonl,
    save_records,
    write_jsonl,
)


def test_round_trip(tmp_path):
    problems = generate_problems(20, seed=0)
    save_records(tmp_path / "p.jsonl", problems)
    assert load_problems(tmp_path / "p.jsonl") == problems
    pb = make_processbench(problems, seed=0)
    save_records(tmp_path / "pb.jsonl", pb)
    assert load_processbench(tmp_path / "pb.jsonl") == pb


def test_real_dataset_shapes_load(tmp_path):
    rows = [
        {"problem": "What is $1+1$?", "solution": "...", "answer": "2", "subject": "Algebra", "level": 1,
         "unique_id": "test/algebra/1.json"},  # MATH-500
        {"ID": "2024-I-1", "Problem": "Find x.", "Answer": 204},  # AIME
        {"question": "Tom has 3 apples...", "answer": "He has 3+4=7.\nSo 7*2=14.\n#### 1,400"},  # GSM8K
    ]
    write_jsonl(tmp_path / "mixed.jsonl", rows)
    math500, aime, gsm = load_problems(tmp_path / "mixed.jsonl")
    assert (math500.id, math500.answer, math500.meta["subject"]) == ("test/algebra/1.json", "2", "Algebra")
    assert (aime.id, aime.problem, aime.answer) == ("2024-I-1", "Find x.", "204")
    assert gsm.answer == "1400" and gsm.steps == ["He has 3+4=7.", "So 7*2=14."]
    assert gsm.id == "mixed.jsonl-2"


def test_official_processbench_shape_loads(tmp_path):
    row = {"id": "gsm8k-0", "generator": "Qwen2-7B-Instruct", "problem": "p", "steps": ["a", "b"],
           "final_answer_correct": False, "label": 1}
    write_jsonl(tmp_path / "gsm8k.jsonl", [row])
    (s,) = load_processbench(tmp_path / "gsm8k.jsonl")
    assert (s.label, s.generator, s.final_answer_correct) == (1, "Qwen2-7B-Instruct", False)
    assert s.subset == "gsm8k"  # the split, from the file's name


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1, "problem": "p", "answer": "1"}\n\n{"id": 2, "problem": \n')
    with pytest.raises(JsonlError, match=r"bad\.jsonl:3: invalid JSON") as e:
        load_problems(path)
    assert e.value.line == 3
    path.write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(JsonlError, match=r"bad\.jsonl:2: expected a JSON object"):
        list(read_jsonl(path))
    path.write_bytes(b'{"a": 1}\n{"a": "\xff"}\n')
    with pytest.raises(JsonlError, match=r"bad\.jsonl:2: not valid UTF-8"):
        list(read_jsonl(path))


def test_torn_last_line_is_reported_not_skipped(tmp_path):
    path = tmp_path / "torn.jsonl"
    path.write_text(json.dumps({"id": "a", "problem": "p", "answer": "1"}) + "\n" + '{"id": "b", "prob')
    with pytest.raises(JsonlError, match=r"torn\.jsonl:2: .*torn write"):
        load_problems(path)


def test_record_missing_fields_names_line_and_formats(tmp_path):
    path = tmp_path / "p.jsonl"
    write_jsonl(path, [{"problem": "a", "answer": "1"}, {"problem": "no answer here"}])
    with pytest.raises(JsonlError, match=r"p\.jsonl:2: record lacks answer; known formats"):
        load_problems(path)
    write_jsonl(path, [{"problem": "a", "steps": ["x"], "label": 4}])
    with pytest.raises(JsonlError, match=r"p\.jsonl:1: .*label"):
        load_processbench(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        load_problems(tmp_path / "nope.jsonl")
