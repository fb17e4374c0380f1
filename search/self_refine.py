"""Self-refinement, the baseline of GenPRM's critic experiment: the same loop and prompts as
``refine``, but no verifier. The policy picks the paragraph itself, the one it wrote with the least
confidence (the lowest mean token log-prob), and is sent back to it with the critique's words and
no analysis. With no verifier there is no signal to stop on, so every turn rewrites; the last
solution is the answer.

Solutions are written step by step (one ``Expand`` per step), so each step carries its own token
log-probs; at T=0 that is the same text a whole-solution call writes."""

from __future__ import annotations

from tts import BudgetExhausted, Expand, Outcome, Prefix, StepSettings
from tts.prm.protocol import critique_text


def self_refine(turns: int = 3, greedy_first: bool = True, steps: StepSettings | None = None):
    """``turns``: rewrites after the first solution (0: zero-shot). ``greedy_first``: the first
    solution is greedy (the zero-shot baseline); rewrites are sampled, as in ``refine``."""
    if turns < 0:
        raise ValueError(f"turns must be >= 0, got {turns}")
    steps = steps or StepSettings()

    def write(problem: str, feedback: tuple[tuple[str, str], ...], greedy: bool):
        """A whole solution, step by step: (steps, mean token log-prob of each)."""
        sampling = steps.greedy() if greedy else steps.step()
        solution: list[str] = []
        confidence: list[float] = []
        for _ in range(steps.max_steps):
            [[cand]] = yield Expand([Prefix(problem, tuple(solution), feedback=feedback)], 1, sampling,
                                    delimiter=steps.delimiter)
            if cand.text.strip():
                solution.append(cand.text.strip())
                confidence.append(sum(cand.logprobs) / max(1, len(cand.logprobs)))
            if cand.finished:
                break
        return solution, confidence

    def strategy(problem):
        solution: list[str] = []
        feedback: list[tuple[str, str]] = []
        log: list[dict] = []
        try:
            solution, confidence = yield from write(problem.problem, (), greedy_first)
            for _ in range(turns):
                if not solution:
                    break
                bad = min(range(len(solution)), key=confidence.__getitem__)
                feedback.append((steps.delimiter.join(solution), critique_text(solution[bad], "")))
                log.append({"step": bad, "confidence": round(confidence[bad], 4)})
                solution, confidence = yield from write(problem.problem, tuple(feedback), False)
        except BudgetExhausted:
            pass  # the last complete solution stands
        return Outcome(solution, extra={"picked": log, "turns": len(log)})

    return strategy
