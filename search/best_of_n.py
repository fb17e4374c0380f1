"""Best-of-N: sample N full solutions, score every step with the PRM, keep the best solution by
its aggregated score (min / last / prod / mean), or (``weighted``) the answer with the largest
summed score."""

from __future__ import annotations

from tts import Expand, Outcome, Prefix, Sampling, Score, aggregate, solution_answer, split_steps, vote_index


def best_of_n(n: int = 8, aggregation: str = "min", weighted: bool = False, sampling: Sampling | None = None):
    sampling = sampling or Sampling(temperature=0.8, max_tokens=256)
    aggregate([], aggregation)  # an unknown aggregation fails here, not mid-run

    def strategy(problem):
        [cands] = yield Expand([Prefix(problem.problem)], n, sampling, to_end=True)
        solutions = [split_steps(c.text) for c in cands]
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
