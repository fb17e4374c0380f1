"""Every N from one sample pool: the vectorised derivation agrees with the strategies' own rules
(``tts.vote_index``, best-of-N's first-highest) subset by subset, and costs what N samples cost."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tts import vote_index
from tts.experiments.pool import _vote, annotate, default_ns, derive, expand_pools, subsets
from tts.prm.base import aggregate


def pool_record(seed: int, n_max: int = 8, gold: str = "7") -> dict:
    rng = random.Random(seed)
    pool = [{"answer": rng.choice(["7", "7.0", "8", "9", None, "\\frac{14}{2}"]),
             "rewards": [round(rng.random(), 2) for _ in range(rng.randint(1, 4))],
             "policy_tokens": rng.randint(5, 50), "prm_tokens": rng.randint(50, 500)} for _ in range(n_max)]
    annotate(pool, gold)
    spend = {"policy_prompt": 30, "policy_generated": sum(s["policy_tokens"] for s in pool), "prm_prompt": 900,
             "prm_generated": sum(s["prm_tokens"] for s in pool) - 900, "policy_flops": 1e6, "prm_flops": 1e8,
             "policy_calls": 1, "prm_calls": 1, "tokens": 0, "flops": 1.01e8}
    return {"key": f"c:p{seed}", "cell": "c", "problem_id": f"p{seed}", "strategy": "pool", "n": n_max, "gold": gold,
            "correct": True, "spend": spend, "extra": {"pool": pool, "aggregation": "min"}, "error": None}


def test_equivalent_answers_share_a_class_and_are_graded_once_per_class():
    pool = [{"answer": a} for a in ["7", "\\frac{14}{2}", "8", None, "7.0"]]
    annotate(pool, "7")
    assert [s["class"] for s in pool] == [0, 0, 2, None, 0]
    assert [s["correct"] for s in pool] == [True, True, False, False, True]


@pytest.mark.parametrize("seed", range(6))
def test_votes_agree_with_vote_index_on_every_subset(seed):
    record = pool_record(seed)
    pool = record["extra"]["pool"]
    classes = np.array([-1 if s["class"] is None else s["class"] for s in pool])
    answers = [s["answer"] for s in pool]
    weights = np.array([aggregate(s["rewards"], "min") for s in pool])
    for n in (1, 2, 3, 5, 8):
        picks = subsets(len(pool), n, count=40, seed=seed)
        for w in (np.ones(len(pool)), weights):
            won = _vote(classes, w, picks)
            for row, c in zip(picks, won, strict=True):
                i = vote_index([answers[j] for j in row], [float(w[j]) for j in row])
                assert (c == -1) == (i is None)
                if i is not None:
                    assert classes[row[i]] == c


def test_derived_accuracy_is_the_mean_over_subsets_and_spend_scales_with_n():
    record = pool_record(3)
    pool = record["extra"]["pool"]
    out = {(r["strategy"], r["n"]): r for r in derive(record)}
    assert {n for _, n in out} == set(default_ns(8)) == {1, 2, 4, 8}
    # N=1 is every single sample once: the pool's own accuracy, for every rule.
    share = np.mean([s["correct"] for s in pool])
    for label in ("majority", "best_of_n", "best_of_n (last)", "weighted_best_of_n"):
        assert out[(label, 1)]["correct"] == pytest.approx(share)
    # N=N_max is the one full pool: best-of-N is the first highest min.
    mins = [aggregate(s["rewards"], "min") for s in pool]
    assert out[("best_of_n", 8)]["correct"] == float(pool[int(np.argmax(mins))]["correct"])
    assert out[("best_of_n", 8)]["derived"]["subsets"] == 1 and out[("best_of_n", 2)]["derived"]["subsets"] == 28
    total = sum(s["policy_tokens"] for s in pool)
    for (label, n), r in out.items():
        assert r["spend"]["policy_generated"] == pytest.approx(total * n / 8)
        assert (r["spend"]["prm_generated"] == 0) == (label == "majority")
    assert out[("best_of_n", 4)]["spend"]["prm_flops"] == pytest.approx(0.5e8)
    assert len(expand_pools([record, {"key": "x"}])) == len(out) + 1


def test_random_subsets_are_distinct_sorted_and_seeded():
    a = subsets(16, 4, count=100, seed=1)
    assert a.shape == (100, 4) and (np.diff(a, axis=1) > 0).all()
    assert (a == subsets(16, 4, count=100, seed=1)).all()
    assert len(subsets(16, 15)) == 16  # few enough: all of them
    with pytest.raises(ValueError, match="pool of 4"):
        subsets(4, 5)
