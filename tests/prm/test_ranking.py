"""Exact pruning of rankings: the pruned choice is the exhaustive one, and it verifies less."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import search
from tts import Problem, Rank, search as run
from tts.prm import PRMScore, aggregate
from tts.prm.base import quantize_reward
from tts.grading.steps import DEFAULT_DELIMITER
from tts.prm.ranking import Ranker, rank_exhaustive, upper_bound

AGGREGATIONS = ("min", "prod", "mean", "last")
# A coarse grid makes ties common, which is where an index-order mistake would show.
REWARD = st.sampled_from([quantize_reward(r) for r in (0.0, 0.1, 0.5, 0.9, 0.99, 1.0)])  # as PRMs give them
TABLE = st.lists(st.lists(REWARD, min_size=0, max_size=6), min_size=1, max_size=9)


def drive(table, how, prune):
    """Run a Ranker against a causal scorer that reads rewards from ``table``."""
    solutions = [[f"c{i}s{t}" for t in range(len(r))] for i, r in enumerate(table)]
    ranker = Ranker("p", solutions, how, prune)
    passes = 0
    while not ranker.done:
        asks = ranker.next_prefixes()
        ranker.feed([PRMScore(table[int(p.steps[0].split("s")[0][1:])][: len(p.steps)], 1, 1) for p in asks])
        passes += 1
    return ranker.result(), passes


@pytest.mark.parametrize("how", AGGREGATIONS)
@given(table=TABLE)
def test_pruned_choice_and_score_equal_exhaustive(how, table):
    ranking, _ = drive(table, how, prune=True)
    full, passes = drive(table, how, prune=False)
    best = rank_exhaustive(table, how)
    assert ranking.best == full.best == best
    assert ranking.value == full.value == aggregate(table[best], how)
    assert passes <= 1 and full.pruned_steps == 0
    assert ranking.verified_steps + ranking.pruned_steps == sum(map(len, table)) == full.verified_steps
    # A pruned candidate's bound could not beat the winner; a verified one has its exact value.
    for i, v in enumerate(ranking.values):
        if v is None:
            assert ranking.bounds[i] < ranking.value or (ranking.bounds[i] == ranking.value and i > best)
        else:
            assert v == aggregate(table[i], how)


@pytest.mark.parametrize("how", AGGREGATIONS)
@given(done=st.lists(REWARD, max_size=6), rest=st.lists(REWARD, max_size=6))
def test_upper_bound_bounds_every_completion(how, done, rest):
    assert aggregate(done + rest, how) <= upper_bound(done, len(done) + len(rest), how)


def test_min_pruning_skips_the_steps_after_a_losing_step():
    table = [[1.0, 1.0, 1.0], [0.1, 1.0, 1.0, 1.0, 1.0], [1.0, 0.2, 1.0, 1.0]]
    ranking, passes = drive(table, "min", prune=True)
    assert ranking.best == 0 and ranking.value == 1.0
    assert ranking.values[1] is None and ranking.values[2] is None
    # Candidate 1 is dropped once candidate 0 is done (pass 3), candidate 2 likewise.
    assert ranking.verified_steps == 3 + 3 + 3 and ranking.pruned_steps == 12 - 9 and passes == 3


def test_unknown_aggregation_is_refused():
    with pytest.raises(ValueError, match="unknown aggregation"):
        Ranker("p", [["a"]], "median")


# -- through the scheduler, with best-of-N ----------------------------------------------------
class TablePRM:
    """Rewards from step text (``...r=0.7``); incremental: charges only steps it has not seen."""

    name = "table-prm"

    def __init__(self, incremental=True):
        self.incremental = incremental
        self.seen = set()

    def score(self, prefixes):
        out = []
        for p in prefixes:
            new = {(p.problem, p.steps[: t + 1]) for t in range(len(p.steps))} - self.seen
            self.seen |= new
            out.append(PRMScore([float(s.rsplit("r=", 1)[1]) for s in p.steps], 10 * len(new), 5 * len(new)))
        return out

    def close(self):
        pass


class ListPolicy:
    """Full solutions from a fixed list (the fake is the point: rewards must be known)."""

    name = "list-policy"
    model = None

    def __init__(self, texts):
        self.texts = texts

    def generate(self, prefixes, n, sampling, delimiter="\n", stop_at_step=True):
        from tts import StepCandidate

        return [[StepCandidate(self.texts[j % len(self.texts)], "eos", 3, 7) for j in range(n)] for _ in prefixes]

    def close(self):
        pass


STEPS = [
    ["a r=0.9", "b r=0.2", "c r=0.9", "d r=0.9", "\\boxed{1} r=0.9"],
    ["a r=0.95", "b r=0.95", "c r=0.95", "\\boxed{2} r=0.95"],
    ["a r=0.3", "b r=0.9", "c r=0.9", "d r=0.9", "e r=0.9", "\\boxed{3} r=0.9"],
    ["a r=0.95", "b r=0.95", "c r=0.95", "\\boxed{2} r=0.95"],
]
TEXTS = [DEFAULT_DELIMITER.join(s) for s in STEPS]
PROBLEM = [Problem("p", "Start with 1.", "2")]


@pytest.mark.parametrize("how", ["min", "prod", "mean"])
def test_best_of_n_pruned_equals_exhaustive_and_says_what_it_skipped(how):
    [full] = run(PROBLEM, search.best_of_n(4, how, prune=False), ListPolicy(TEXTS), TablePRM(), progress=False)
    [pruned] = run(PROBLEM, search.best_of_n(4, how), ListPolicy(TEXTS), TablePRM(), progress=False)
    assert full.error is None and pruned.error is None
    assert (pruned.steps, pruned.answer, pruned.score) == (full.steps, full.answer, full.score)
    assert full.answer == "2" and full.steps == STEPS[1]
    assert full.spend.prm_steps_pruned == 0 and full.spend.prm_steps_verified == sum(map(len, STEPS))
    assert pruned.spend.prm_steps_verified + pruned.spend.prm_steps_pruned == full.spend.prm_steps_verified
    if how != "mean":
        assert pruned.spend.prm_steps_pruned > 0 and pruned.spend.prm_generated < full.spend.prm_generated


def test_no_pruning_with_a_prm_that_reads_the_whole_solution():
    [r] = run(PROBLEM, search.best_of_n(4), ListPolicy(TEXTS), TablePRM(incremental=False), progress=False)
    assert r.spend.prm_steps_pruned == 0 and r.spend.prm_calls == 1 and r.answer == "2"


def test_rank_without_prm_is_a_clear_error():
    def strategy(problem):
        yield Rank([["a"]])

    [r] = run([Problem("p", "q", "1")], strategy, ListPolicy(["x"]), prm=None, progress=False)
    assert "no prm was given" in r.error


def logit(p):
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p) - math.log1p(-p)


def test_best_of_n_on_the_shipped_models_pruned_equals_exhaustive(hf_policy, hf_genprm_engine, sandbox):
    from tts.prm import GenerativePRM
    from tts.tasks.splits import testbed_split

    problems = testbed_split("dev", limit=6)
    out = {}
    for prune in (False, True):
        prm = GenerativePRM(hf_genprm_engine, sandbox=sandbox)  # fresh cache: both pay for their own work
        hf_policy.restart()
        out[prune] = run(problems, search.best_of_n(8, prune=prune), hf_policy, prm, progress=False)
    for a, b in zip(out[False], out[True], strict=True):
        # Scores may differ by one step of the reward grid (batch composition moves a logit by
        # ~1e-6, which can cross a rounding boundary); the selection may not.
        assert (a.steps, a.answer) == (b.steps, b.answer)
        assert abs(logit(a.score) - logit(b.score)) <= 0.015
        assert math.isclose(a.spend.prm_steps_verified, b.spend.prm_steps_verified + b.spend.prm_steps_pruned)
    assert sum(r.spend.prm_generated for r in out[True]) < sum(r.spend.prm_generated for r in out[False])
