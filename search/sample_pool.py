"""A sample pool: N_max full solutions drawn once and every step of each scored once, so that
majority voting, best-of-N under each aggregation and the PRM-weighted vote can be read at every
N <= N_max by subsampling the pool (``tts.experiments.pool``), without another engine call.

The problem's own answer is best-of-N_max by ``aggregation``. The pool (each sample's answer, step
rewards and tokens) is the outcome's ``extra["pool"]``; the results record keeps it."""

from __future__ import annotations

from tts import Expand, Outcome, Prefix, Score, StepSettings, aggregate, solution_answer


def sample_pool(n: int = 16, aggregation: str = "min", steps: StepSettings | None = None):
    steps = steps or StepSettings()
    aggregate([], aggregation)  # an unknown aggregation fails here, not mid-run

    def strategy(problem):
        [cands] = yield Expand([Prefix(problem.problem)], n, steps.solution(), to_end=True, delimiter=steps.delimiter)
        solutions = [steps.split(c.text) for c in cands]
        # Every sample scored in full: a subset's best-of-N needs every score, so nothing is pruned.
        scores = yield Score([Prefix(problem.problem, tuple(s)) for s in solutions])
        values = [aggregate(s.rewards, aggregation) for s in scores]
        pool = [{"answer": solution_answer(s), "rewards": list(sc.rewards), "policy_tokens": c.generated_tokens,
                 "prm_tokens": sc.tokens} for c, s, sc in zip(cands, solutions, scores, strict=True)]
        if not solutions:
            return Outcome([], extra={"pool": pool})
        best = max(range(len(values)), key=lambda i: (values[i], -i))  # ties: the first
        return Outcome(solutions[best], score=values[best], extra={"pool": pool, "aggregation": aggregation})

    return strategy
