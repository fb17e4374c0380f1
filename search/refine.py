"""Refinement with the generative PRM as critic (GenPRM): sample a solution, find the first step
with reward < 0.5, and have the policy rewrite from that step, up to ``turns`` times; the
critic's analysis of the flagged step is kept as the feedback of each turn.

The testbed's prompt format has no place for feedback text, so the rewrite is a fresh sample
from the prefix before the flagged step; a chat policy would get the feedback in its prompt
(GenPRM's "There might be some problem in this paragraph..." turn)."""

from __future__ import annotations

from tts import Expand, Outcome, Prefix, Sampling, Score, aggregate, first_wrong_step, split_steps
from tts.prm.protocol import analysis_of


def refine(turns: int = 3, threshold: float = 0.5, sampling: Sampling | None = None):
    if turns < 0:
        raise ValueError(f"turns must be >= 0, got {turns}")
    sampling = sampling or Sampling(temperature=0.8, max_tokens=256)

    def strategy(problem):
        [[first]] = yield Expand([Prefix(problem.problem)], 1, Sampling(temperature=0.0, max_tokens=256),
                                 to_end=True)
        steps = split_steps(first.text)
        feedback = []
        best = (0.0, steps)
        for _ in range(turns + 1):
            [score] = yield Score([Prefix(problem.problem, tuple(steps))])
            value = aggregate(score.rewards, "min")
            best = max(best, (value, steps), key=lambda b: b[0])
            bad = first_wrong_step(score.rewards, threshold)
            if bad < 0 or len(feedback) == turns:
                break
            feedback.append({"step": bad, "analysis": analysis_of(score.verifications[bad][0]) if score.verifications else ""})
            [[rewrite]] = yield Expand([Prefix(problem.problem, tuple(steps[:bad]))], 1, sampling, to_end=True)
            steps = steps[:bad] + split_steps(rewrite.text)
        return Outcome(list(best[1]), score=best[0], extra={"feedback": feedback})

    return strategy
