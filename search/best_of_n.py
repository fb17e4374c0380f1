"""Best-of-N: sample N full solutions, score every step with the PRM, keep the best solution by
its aggregated score (min / last / prod / mean), or (``weighted``) the answer with the largest
summed score."""

from __future__ import annotations

from tts import Expand, Outcome, Prefix, Score, StepSettings, aggregate, solution_answer, vote_index


def best_of_n(n: int = 8, aggregation: str = "min", weighted: bool = False, steps: StepSettings | None = None):
    steps = steps or StepSettings()
    aggregate([], aggregation)  # an unknown aggregation fails here, not mid-run

    def strategy(problem):
        [cands] = yield Expand([Prefix(problem.problem)], n, steps.solution(), to_end=True, delimiter=steps.delimiter)
        solutions = [steps.split(c.text) for c in cands]
        scores = yield Score([Prefix(problem.problem, tuple(s)) for s in solutions])
        values = [aggregate(s.rewards, aggregation) for s in scores]
        answers = [solution_answer(s) for s in solutions]
        if weighted:
            best = vote_index(answers, values)
            best = 0 if best is None else best
        else:
            best = max(range(len(values)), key=lambda i: values[i], default=0)
        return Outcome(solutions[best] if solutions else [], score=values[best] if values else None,
                       extra={"scores": values, "answers": answers})

    return strategy
