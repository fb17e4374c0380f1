"""Self-consistency: sample N full solutions, answer by majority vote (no PRM)."""

from __future__ import annotations

from tts import Expand, Outcome, Prefix, StepSettings, last_boxed, vote_index


def majority_vote(n: int = 8, steps: StepSettings | None = None):
    steps = steps or StepSettings()

    def strategy(problem):
        [cands] = yield Expand([Prefix(problem.problem)], n, steps.solution(), to_end=True, delimiter=steps.delimiter)
        answers = [last_boxed(c.text) for c in cands]
        best = vote_index(answers)
        if best is None:
            return Outcome(steps.split(cands[0].text) if cands else [], extra={"answers": answers})
        return Outcome(steps.split(cands[best].text), score=answers.count(answers[best]) / len(answers),
                       extra={"answers": answers})

    return strategy
