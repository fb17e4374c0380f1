"""Self-consistency: sample N full solutions, answer by majority vote (no PRM)."""

from __future__ import annotations

from tts import Expand, Outcome, Prefix, Sampling, last_boxed, split_steps
from tts.grading.vote import canonical_answer, majority_vote as vote


def majority_vote(n: int = 8, sampling: Sampling | None = None):
    sampling = sampling or Sampling(temperature=0.8, max_tokens=256)

    def strategy(problem):
        [cands] = yield Expand([Prefix(problem.problem)], n, sampling, to_end=True)
        answers = [last_boxed(c.text) for c in cands]
        winner = vote(answers)
        for c, a in zip(cands, answers, strict=True):
            if a is not None and canonical_answer(a) == canonical_answer(winner):
                return Outcome(split_steps(c.text), score=answers.count(a) / len(answers),
                               extra={"answers": answers})
        return Outcome(split_steps(cands[0].text) if cands else [], extra={"answers": answers})

    return strategy
