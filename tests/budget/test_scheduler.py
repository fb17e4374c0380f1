"""The scheduler and the strategies, end to end on the shipped models (HF; vLLM in the slow set)."""

import importlib.util
from pathlib import Path

import pytest

import search
from tts import Budget, Expand, Outcome, Prefix, Sampling, StepSettings, search as run
from tts.tasks.splits import testbed_split

PROBLEMS = testbed_split("dev", limit=6)


@pytest.fixture(scope="module")
def genprm(hf_genprm_engine, sandbox):
    from tts.prm import GenerativePRM

    return GenerativePRM(hf_genprm_engine, sandbox=sandbox)


STRATEGIES = {
    "majority": lambda: search.majority_vote(4),
    "best_of_n": lambda: search.best_of_n(4),
    "best_of_n_weighted": lambda: search.best_of_n(4, aggregation="prod", weighted=True),
    "beam": lambda: search.beam_search(width=2, k=2),
    "beam_lookahead": lambda: search.beam_search(width=2, k=2, lookahead=1),
    "dvts": lambda: search.dvts(subtrees=2, k=2),
    "mcts": lambda: search.mcts(simulations=8, parallel=4, k=2),
    "particle_filter": lambda: search.particle_filter(particles=4),
    "refine": lambda: search.refine(turns=2),
}


@pytest.mark.parametrize("name", STRATEGIES)
def test_strategies_run_end_to_end_within_budget(name, hf_policy, genprm):
    budget = 300
    results = run(PROBLEMS, STRATEGIES[name](), hf_policy, genprm, budget=budget, progress=False)
    assert len(results) == len(PROBLEMS)
    for r in results:
        assert r.error is None, r.error
        assert r.spend.policy_generated <= budget  # never overspent
        assert r.steps and isinstance(r.correct, bool)
        if name != "majority":
            assert r.spend.prm_calls > 0  # (tokens may be 0: the shared PRM cached these steps in an earlier test)


def test_one_call_per_round_across_problems(hf_policy, genprm):
    calls = []

    class Counting:
        def __init__(self, inner):
            self.inner, self.model = inner, inner.model

        def generate(self, prefixes, *a, **kw):
            calls.append(len(prefixes))
            return self.inner.generate(prefixes, *a, **kw)

    results = run(PROBLEMS, search.beam_search(width=2, k=2, steps=StepSettings(max_steps=3)), Counting(hf_policy), genprm, progress=False)
    assert all(r.error is None for r in results)
    assert len(calls) <= 3 and calls[0] == len(PROBLEMS)  # all problems' beams in one call per round


def test_totals_equal_recorded_spend_and_global_cap(hf_policy):
    results = run(PROBLEMS, search.majority_vote(8), hf_policy, budget=Budget(total=900), progress=False)
    total = sum(r.spend.policy_generated for r in results)
    assert total <= 900
    assert all(r.spend.tokens == r.spend.policy_prompt + r.spend.policy_generated for r in results)
    assert all(r.spend.flops > 0 for r in results if r.spend.policy_generated)


def test_deterministic_under_a_seed():
    from tts import load_policy

    a = run(PROBLEMS, search.majority_vote(4), load_policy("hf", seed=7), progress=False)
    b = run(PROBLEMS, search.majority_vote(4), load_policy("hf", seed=7), progress=False)
    assert [r.steps for r in a] == [r.steps for r in b]


def test_a_problem_searched_alone_or_in_a_batch_gets_the_same_result(hf_policy, genprm):
    """Content-keyed seeds: a result depends on its problem, not on the batch around it (what
    lets a resumed sweep reproduce an uninterrupted one)."""
    outcomes = []
    for problems in (PROBLEMS, PROBLEMS[3:4]):
        hf_policy.restart()
        genprm.restart()
        results = run(problems, search.beam_search(width=2, k=2), hf_policy, genprm, budget=256, progress=False)
        r = next(r for r in results if r.problem.id == PROBLEMS[3].id)
        outcomes.append((r.steps, r.score, r.spend.policy_generated, r.spend.prm_generated))
    assert outcomes[0] == outcomes[1]


def test_on_result_sees_every_problem_once_as_it_finishes(hf_policy):
    seen = []

    def short_or_long(problem):
        rounds = 1 if problem.id == PROBLEMS[1].id else 3
        for _ in range(rounds):
            yield Expand([Prefix(problem.problem)], 1, Sampling(max_tokens=8))
        return Outcome([])

    results = run(PROBLEMS, short_or_long, hf_policy, progress=False, on_result=lambda r: seen.append(r.problem.id))
    assert seen[0] == PROBLEMS[1].id  # the one-round problem is reported first
    assert sorted(seen) == sorted(p.id for p in PROBLEMS) and [r.problem.id for r in results] == [p.id for p in PROBLEMS]


def test_a_failing_problem_does_not_stop_the_others(hf_policy):
    def flaky(problem):
        [[c]] = yield Expand([Prefix(problem.problem)], 1, Sampling(max_tokens=32), to_end=True)
        if problem.id == PROBLEMS[2].id:
            raise RuntimeError("boom on purpose")
        return Outcome([c.text])

    results = run(PROBLEMS, flaky, hf_policy, progress=False)
    assert "boom on purpose" in results[2].error and results[2].failed and results[2].correct is False
    assert all(r.error is None for i, r in enumerate(results) if i != 2)


def test_score_without_prm_is_a_clear_error(hf_policy):
    results = run(PROBLEMS[:1], search.best_of_n(2), hf_policy, prm=None, progress=False)
    assert "no prm" in results[0].error


def test_bad_budget():
    with pytest.raises(ValueError, match="per_problem"):
        Budget(per_problem=0)
    with pytest.raises(ValueError, match="per_problem_flops"):
        Budget(per_problem_flops=-1.0)


def test_a_compute_cap_counts_the_verifier_and_stops_asking_once_reached(hf_policy, hf_genprm_engine, sandbox):
    """Beam search under a cap on policy + PRM tokens computed, set below what every problem
    computes uncapped: each stops asking early and answers from what it has; computed tokens are
    the engines' counts (prompts less their prefix caches' hits)."""
    from tts.prm import GenerativePRM

    prm = GenerativePRM(hf_genprm_engine, sandbox=sandbox)  # its own cache: every step computed here

    def once(budget):
        for engine in (hf_policy, hf_genprm_engine, prm):
            engine.restart()  # cold caches for both runs
        return run(PROBLEMS, search.beam_search(width=2, k=2), hf_policy, prm, budget=budget, progress=False)

    free = once(None)
    cap = min(r.spend.computed_tokens for r in free) // 2
    capped = once(Budget(per_problem_compute=cap))
    for a, b in zip(free, capped, strict=True):
        assert b.error is None and b.steps
        assert b.rounds < a.rounds and b.spend.computed_tokens < a.spend.computed_tokens
        assert b.spend.computed_tokens == b.spend.tokens - b.spend.policy_cached - b.spend.prm_cached
    assert sum(b.spend.prm_cached for b in capped) > 0  # GenPRM's stages continue one cached chat


def test_beam_search_keeps_an_exportable_tree(hf_policy, genprm):
    [r] = run(PROBLEMS[:1], search.beam_search(width=2, k=2), hf_policy, genprm, progress=False)
    g = r.tree.to_networkx()
    assert g.number_of_nodes() == len(r.tree) > 1


def test_example_custom_strategy_runs(hf_policy, genprm):
    path = Path(__file__).parents[2] / "examples" / "greedy_then_vote.py"
    spec = importlib.util.spec_from_file_location("greedy_then_vote", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    results = run(PROBLEMS, mod.greedy_then_vote(n=2), hf_policy, genprm, budget=600, progress=False)
    assert all(r.error is None and r.answer is not None for r in results)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(STRATEGIES))
def test_strategies_on_vllm(name, vllm_policy, genprm):
    results = run(PROBLEMS[:3], STRATEGIES[name](), vllm_policy, genprm, budget=300, progress=False)
    assert all(r.error is None and r.spend.policy_generated <= 300 and r.steps for r in results)
    assert all(r.spend.flops > 0 for r in results)  # parameters read from the vLLM engine's config


def test_mcts_bookkeeping_agrees_with_the_plain_python_tree(hf_genprm_engine, sandbox):
    """The same MCTS run (HF is deterministic under its seed; the PRM is greedy) with the Numba
    kernels and with the plain-Python references gives the same tree: visits, values, priors."""
    from tts import load_policy
    from tts.prm import GenerativePRM

    trees = []
    for reference in (False, True):
        policy = load_policy("hf", seed=3)
        prm = GenerativePRM(hf_genprm_engine, sandbox=sandbox)
        [r] = run(PROBLEMS[:1], search.mcts(simulations=12, parallel=4, k=2, reference_tree=reference), policy, prm,
                  budget=2000, progress=False)
        assert r.error is None, r.error
        trees.append(r.tree)
    kernel, ref = trees
    assert len(kernel) == len(ref) > 1 and kernel.texts == ref.texts
    n = len(kernel)
    for row in ("visits", "virtual_loss", "num_children", "parent"):
        assert (getattr(kernel.arrays, row)[:n] == getattr(ref.arrays, row)[:n]).all(), row
    for row in ("value_sum", "value_max", "prior", "reward"):
        assert getattr(kernel.arrays, row)[:n] == pytest.approx(getattr(ref.arrays, row)[:n], nan_ok=True), row
    assert kernel.arrays.virtual_loss[:n].sum() == 0  # every selection's virtual loss was taken back


def test_mcts_runs_within_budget(hf_policy, genprm):
    results = run(PROBLEMS[:3], search.mcts(simulations=8, parallel=4, k=2), hf_policy, genprm, budget=150,
                  progress=False)
    for r in results:
        assert r.error is None and r.spend.policy_generated <= 150 and r.tree is not None


def test_scheduler_total_is_the_sum_of_recorded_spend(hf_policy):
    from tts import Scheduler

    sched = Scheduler(hf_policy, budget=Budget(per_problem=200, total=700), progress=False)
    results = sched.run(PROBLEMS, search.majority_vote(4))
    assert sched.spent_total == sum(r.spend.policy_generated for r in results) <= 700
    assert all(r.spend.policy_generated <= 200 for r in results)
