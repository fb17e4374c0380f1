"""PRM-guided resampling: sample a solution, find its first step with reward < ``threshold``,
and resample the rest of the solution from the step before it, up to ``turns`` times; keep the
best-scoring solution. The policy never sees the PRM's critique (compare ``refine``, GenPRM's
critic mode, which shows it): the PRM only chooses where to cut and which turn wins."""

from __future__ import annotations

from tts import BudgetExhausted, Expand, Outcome, Prefix, Sampling, Score, aggregate, first_wrong_step, split_steps


def prm_resample(turns: int = 3, threshold: float = 0.5, sampling: Sampling | None = None):
    if turns < 0:
        raise ValueError(f"turns must be >= 0, got {turns}")
    sampling = sampling or Sampling(temperature=0.8, max_tokens=256)

    def strategy(problem):
        best: tuple[float, list[str]] = (-1.0, [])
        cuts: list[int] = []
        try:
            [[first]] = yield Expand([Prefix(problem.problem)], 1, Sampling(temperature=0.0,
                                                                             max_tokens=sampling.max_tokens),
                                     to_end=True)
            steps = split_steps(first.text)
            best = (0.0, steps)
            for turn in range(turns + 1):
                [score] = yield Score([Prefix(problem.problem, tuple(steps))])
                value = aggregate(score.rewards, "min")
                if value > best[0] or not best[1]:
                    best = (value, steps)
                bad = first_wrong_step(score.rewards, threshold)
                if bad < 0 or turn == turns:
                    break
                cuts.append(bad)
                [[rest]] = yield Expand([Prefix(problem.problem, tuple(steps[:bad]))], 1, sampling, to_end=True)
                steps = steps[:bad] + split_steps(rest.text)
        except BudgetExhausted:
            pass  # the best solution scored so far stands
        return Outcome(list(best[1]), score=best[0] if best[1] else None, extra={"cuts": cuts})

    return strategy
