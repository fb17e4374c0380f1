"""Refinement with the generative PRM as critic (GenPRM's critic mode): the policy writes a
solution, the PRM finds its first step with reward < ``threshold``, and the policy is shown its
own solution, that paragraph and the PRM's analysis of it ("There might be some problem in this
paragraph of your reasoning, please rethink and refine your answer: ...") and writes a new
solution, up to ``turns`` times. The result is the last refined solution, as in GenPRM (not the
best-scoring turn: that would be PRM-guided selection, see ``prm_resample``). Each turn's prompt
holds every earlier (solution, critique) pair, so the prompt format needs a feedback slot."""

from __future__ import annotations

from tts import BudgetExhausted, Expand, Outcome, Prefix, Score, StepSettings, aggregate, first_wrong_step
from tts.prm.protocol import analysis_of, critique_text


def refine(turns: int = 3, threshold: float = 0.5, greedy_first: bool = True, steps: StepSettings | None = None):
    """``turns``: refinement rounds after the first solution (0: zero-shot). ``greedy_first``: the
    first solution is greedy (the zero-shot baseline); refinements are sampled."""
    if turns < 0:
        raise ValueError(f"turns must be >= 0, got {turns}")
    steps = steps or StepSettings()

    def strategy(problem):
        solution: list[str] = []
        score = None
        feedback: list[tuple[str, str]] = []
        log: list[dict] = []
        try:
            first_sampling = steps.greedy(whole=True) if greedy_first else steps.solution()
            [[first]] = yield Expand([Prefix(problem.problem)], 1, first_sampling, to_end=True, delimiter=steps.delimiter)
            solution = steps.split(first.text)
            for _ in range(turns):
                [verdict] = yield Score([Prefix(problem.problem, tuple(solution))])
                score = aggregate(verdict.rewards, "min")
                bad = first_wrong_step(verdict.rewards, threshold)
                if bad < 0:
                    break
                analysis = analysis_of(verdict.verifications[bad][0]) if verdict.verifications else ""
                feedback.append((steps.delimiter.join(solution), critique_text(solution[bad], analysis)))
                log.append({"step": bad, "analysis": analysis})
                score = None
                [[rewrite]] = yield Expand([Prefix(problem.problem, feedback=tuple(feedback))], 1, steps.solution(),
                                           to_end=True, delimiter=steps.delimiter)
                solution = steps.split(rewrite.text)
        except BudgetExhausted:
            pass  # the last complete solution stands
        return Outcome(solution, score=score, extra={"feedback": log, "turns": len(log)})

    return strategy
