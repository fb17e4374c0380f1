"""One N=16 sample pool on 32 problems reads majority and best-of-N at N = 1, 2, 4, 8 as well as
direct runs at those N measure them (within their intervals), for the tokens of the one run."""

from __future__ import annotations

import pytest

from tts import StepSettings
from tts.experiments.grid import compose_cells
from tts.experiments.runner import run_local
from tts.experiments.store import ResultStore, read_records
from tts.experiments.table import summarize

PROBLEMS = 32
POOL = 16
# The budget fits POOL whole solutions at the solution cap, so no sample of the pool is cut short
# by its share of it, and sample i of the pool is sample i of a direct run. The derivation does
# not depend on which PRM scored the samples; the discriminative twin scores a solution in one
# forward pass, where the GenPRM would spend most of the suite's time verifying ~1,000 solutions.
BUDGET = POOL * StepSettings().max_solution_tokens
BASE = ["experiment=smoke", f"dataset.limit={PROBLEMS}", f"budget.per_problem={BUDGET}", "store_trees=false", "prm=dprm"]


@pytest.mark.slow
def test_pool_derived_accuracies_agree_with_direct_runs(tmp_path):
    path = tmp_path / "results.jsonl"
    store = ResultStore(path)
    _, pool_cells = compose_cells([*BASE, "strategy=pool", f"n={POOL}"])
    _, direct_cells = compose_cells([*BASE, "strategy=majority,best_of_n", "n=1,2,4,8"])
    run_local(pool_cells + direct_cells, store, progress=False)
    records = read_records(path)
    pools = [r for r in records if r["strategy"] == "pool"]
    assert len(pools) == PROBLEMS and all(len(r["extra"]["pool"]) == 16 for r in pools)

    direct_cells_ids = {r["cell"] for r in records if r["strategy"] in ("majority", "best_of_n")}
    direct = {}
    for cell in direct_cells_ids:
        rs = [r for r in records if r["cell"] == cell]
        direct[(rs[0]["strategy"], rs[0]["n"])] = summarize(rs)[0]
    from_pool = summarize(pools)
    pooled = {(r["strategy"], r["n"]): r for r in from_pool}
    assert {(s, n) for s in ("majority", "best_of_n") for n in (1, 2, 4, 8, 16)} <= set(pooled)
    for key, d in direct.items():
        # A direct run at N is one draw of N samples per problem; the pool averages every subset,
        # so its estimate must lie inside the direct run's interval, and the intervals overlap.
        p = pooled[key]
        lo_d, hi_d = d["interval"]
        lo_p, hi_p = p["interval"]
        assert lo_d <= p["accuracy"] <= hi_d and lo_p <= hi_d and lo_d <= hi_p, (key, d, p)

    # The pool's samples are the direct runs' samples (same seeds per sample index), so what a
    # direct N-sample run spends is the first N pool samples' tokens; the whole sweep over N
    # costs the pool run alone.
    by_problem = {r["problem_id"]: r["extra"]["pool"] for r in pools}
    for r in records:
        if r["strategy"] == "majority":
            assert r["spend"]["policy_generated"] == sum(s["policy_tokens"] for s in by_problem[r["problem_id"]][: r["n"]])
    pool_tokens = sum(r["spend"]["policy_generated"] for r in pools)
    assert pooled[("majority", 16)]["policy_tokens"] == pytest.approx(pool_tokens / PROBLEMS, abs=0.1)
    for n in (1, 2, 4, 8):  # derived N costs N/16 of the pool, as N of its samples do on average
        assert pooled[("best_of_n", n)]["policy_tokens"] == pytest.approx(pool_tokens / PROBLEMS * n / 16, abs=0.1)
