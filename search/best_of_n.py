"""Best-of-N: sample N full solutions, score every step with the PRM, keep the best solution by
its aggregated score (min / last / prod / mean), or (``weighted``) the answer with the largest
summed score.

The ranking prunes exactly (``prune``): candidates are verified step-major and a candidate that
can no longer beat the best fully verified one is not verified further; the choice and its score
are those of verifying everything. A PRM-weighted vote needs every score, so it never prunes."""

from __future__ import annotations

from tts import Expand, Outcome, Prefix, Rank, Score, StepSettings, aggregate, solution_answer, vote_index


def best_of_n(n: int = 8, aggregation: str = "min", weighted: bool = False, prune: bool = True,
              lanes: int | None = 3, steps: StepSettings | None = None):
    """``lanes``: candidates verified per pass when pruning (more: fewer engine calls, less pruned;
    None: every live candidate each pass)."""
    steps = steps or StepSettings()
    aggregate([], aggregation)  # an unknown aggregation fails here, not mid-run

    def strategy(problem):
        [cands] = yield Expand([Prefix(problem.problem)], n, steps.solution(), to_end=True, delimiter=steps.delimiter)
        solutions = [steps.split(c.text) for c in cands]
        answers = [solution_answer(s) for s in solutions]
        if weighted:
            scores = yield Score([Prefix(problem.problem, tuple(s)) for s in solutions])
            values = [aggregate(s.rewards, aggregation) for s in scores]
            best = vote_index(answers, values)
            best = 0 if best is None else best
        else:
            ranking = yield Rank(solutions, aggregation, prune=prune, lanes=lanes)
            values, best = ranking.values, max(ranking.best, 0)
        return Outcome(solutions[best] if solutions else [], score=values[best] if values else None,
                       extra={"scores": values, "answers": answers})

    return strategy
