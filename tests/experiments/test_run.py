"""The main job's pieces on a real (tiny) run: records, table, scaling curves, tree viewer, Ray."""

from __future__ import annotations

import pytest

from tts.experiments.grid import compose_cells
from tts.experiments.plot import curves, plot_scaling
from tts.experiments.runner import run_local
from tts.experiments.show import pick, show
from tts.experiments.store import ResultStore, read_records
from tts.experiments.table import print_table, summarize

SMOKE = ["experiment=smoke", "strategy=majority,beam,mcts", "budget.per_problem=64,128"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "results.jsonl"
    _, cells = compose_cells(SMOKE)
    written = run_local(cells, ResultStore(path), progress=False)
    assert written == 3 * 3 * 2
    return path, cells


def test_records_hold_what_curves_and_trees_need(smoke):
    path, _ = smoke
    records = read_records(path)
    for r in records:
        assert r["spend"]["policy_generated"] <= r["budget"]  # never overspent
        assert r["difficulty"].endswith("ops")
        assert r["config"]["strategy"]["name"] == r["strategy"]
        assert (r["tree"] is not None) == (r["strategy"] in ("beam", "mcts"))
    assert len({r["key"] for r in records}) == len(records)


def test_table_has_one_row_per_cell(smoke, capsys):
    path, _ = smoke
    rows = summarize(read_records(path))
    assert [(r["strategy"], r["budget"]) for r in rows] == [
        ("beam", 64), ("beam", 128), ("majority", 64), ("majority", 128), ("mcts", 64), ("mcts", 128)]
    assert all(r["problems"] == 3 and 0 <= r["accuracy"] <= 100 for r in rows)
    print_table(rows)
    assert "majority" in capsys.readouterr().out


def test_scaling_curves_one_line_per_strategy(smoke, tmp_path):
    path, _ = smoke
    records = read_records(path)
    data = curves(records, "tokens", policy_only=True)
    assert sorted(data) == ["beam", "majority", "mcts"]
    assert all(len(points) == 2 for points in data.values())
    # The default axis counts every token, the PRM's too: PRM-guided strategies move right much
    # further than majority vote (which adds only its prompt).
    total = curves(records, "tokens")
    beam_extra = [a[0] - b[0] for a, b in zip(total["beam"], data["beam"], strict=True)]
    vote_extra = [a[0] - b[0] for a, b in zip(total["majority"], data["majority"], strict=True)]
    assert min(beam_extra) > 3 * max(vote_extra) > 0
    flops = curves(records, "flops")
    assert all(p[0] > 0 for pts in flops.values() for p in pts)
    # Every plotted point carries its 95 % interval, and the interval contains it.
    for pts in (*data.values(), *total.values(), *flops.values()):
        for _, acc, low, high, problems in pts:
            assert low <= acc <= high and problems == 3
    paths = plot_scaling(records, tmp_path / "curve")
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.stat().st_size > 1000 for p in paths)
    svg = paths[1].read_text()
    assert svg.count("difficulty:") >= 1  # the per-difficulty panel
    assert "bootstrap" in svg  # the bands are named on the figure


def test_tree_viewer_draws_the_chosen_path(smoke, tmp_path):
    path, _ = smoke
    record = pick(read_records(path), strategy="mcts", budget=128)
    png, page = show(path, tmp_path / "tree", strategy="mcts", budget=128, problem=record["problem_id"])
    assert png.stat().st_size > 1000
    text = page.read_text()
    assert record["problem_id"] in text and "<svg" in text
    for step in record["steps"]:
        assert step.split()[0] in text
    with pytest.raises(ValueError, match="keep no search tree"):
        show(path, tmp_path / "x", strategy="majority")
    with pytest.raises(FileNotFoundError, match="results file not found"):
        show(tmp_path / "missing.jsonl")


@pytest.mark.slow
def test_ray_local_cluster_of_two_workers_matches_the_local_run(smoke, tmp_path):
    ray = pytest.importorskip("ray")
    from tts.experiments.ray_runner import run_ray

    path, cells = smoke
    store = ResultStore(tmp_path / "ray.jsonl")
    try:
        run_ray(cells, store, {"workers": 2, "cpus_per_worker": 1.0, "gpus_per_worker": 0.0, "address": None},
                progress=False)
    finally:
        ray.shutdown()
    local = {r["key"]: (r["answer"], r["score"], r["spend"]["policy_generated"]) for r in read_records(path)}
    remote = {r["key"]: (r["answer"], r["score"], r["spend"]["policy_generated"]) for r in store}
    assert remote == local
