"""Self-consistency: sample N full solutions, answer by majority vote (no PRM)."""

from __future__ import annotations

from tts import Expand, Outcome, Prefix, Sampling, last_boxed, split_steps, vote_index


def majority_vote(n: int = 8, sampling: Sampling | None = None):
    sampling = sampling or Sampling(temperature=0.8, max_tokens=256)

    def strategy(problem):
        [cands] = yield Expand([Prefix(problem.problem)], n, sampling, to_end=True)
        answers = [last_boxed(c.text) for c in cands]
        best = vote_index(answers)
        if best is None:
            return Outcome(split_steps(cands[0].text) if cands else [], extra={"answers": answers})
        return Outcome(split_steps(cands[best].text), score=answers.count(answers[best]) / len(answers),
                       extra={"answers": answers})

    return strategy
