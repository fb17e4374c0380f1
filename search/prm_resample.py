"""PRM-guided resampling: sample a solution, find its first step with reward < ``threshold``,
and resample the rest of the solution from the step before it, up to ``turns`` times; keep the
best-scoring solution. The policy never sees the PRM's critique (compare ``refine``, GenPRM's
critic mode, which shows it): the PRM only chooses where to cut and which turn wins."""

from __future__ import annotations

from tts import BudgetExhausted, Expand, Outcome, Prefix, Score, StepSettings, aggregate, first_wrong_step


def prm_resample(turns: int = 3, threshold: float = 0.5, steps: StepSettings | None = None):
    if turns < 0:
        raise ValueError(f"turns must be >= 0, got {turns}")
    steps = steps or StepSettings()

    def strategy(problem):
        best: tuple[float, list[str]] = (-1.0, [])
        cuts: list[int] = []
        try:
            [[first]] = yield Expand([Prefix(problem.problem)], 1, steps.greedy(whole=True), to_end=True,
                                     delimiter=steps.delimiter)
            solution = steps.split(first.text)
            best = (0.0, solution)
            for turn in range(turns + 1):
                [score] = yield Score([Prefix(problem.problem, tuple(solution))])
                value = aggregate(score.rewards, "min")
                if value > best[0] or not best[1]:
                    best = (value, solution)
                bad = first_wrong_step(score.rewards, threshold)
                if bad < 0 or turn == turns:
                    break
                cuts.append(bad)
                [[rest]] = yield Expand([Prefix(problem.problem, tuple(solution[:bad]))], 1, steps.solution(),
                                        to_end=True, delimiter=steps.delimiter)
                solution = solution[:bad] + steps.split(rest.text)
        except BudgetExhausted:
            pass  # the best solution scored so far stands
        return Outcome(list(best[1]), score=best[0] if best[1] else None, extra={"cuts": cuts})

    return strategy
