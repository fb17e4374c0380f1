"""How every strategy samples steps: one object, so a run sets temperature, nucleus and top-k
sampling, the step and solution length caps, the step cap and the step delimiter once, and every
strategy applies them the same way (``tts run steps.max_step_tokens=512 ...``).

The defaults are what the embedded models were built for; a real checkpoint's steps run to
hundreds of tokens and its solutions to dozens of steps, so raise the caps there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tts.grading.steps import DEFAULT_DELIMITER, split_steps
from tts.policy.base import Sampling


@dataclass(frozen=True)
class StepSettings:
    temperature: float = 0.8
    top_p: float = 1.0
    top_k: int = 0  # 0: off
    max_step_tokens: int = 64  # one step (beam, DVTS, MCTS, particle filter)
    max_solution_tokens: int = 448  # a whole solution or the rest of one (samples, rollouts, rewrites)
    max_steps: int = 16  # the depth cap of step-level searches
    delimiter: str = DEFAULT_DELIMITER  # what separates steps in the policy's output

    def __post_init__(self) -> None:
        Sampling(self.temperature, self.top_p, self.top_k, max(self.max_step_tokens, 1))  # same checks
        for name in ("max_step_tokens", "max_solution_tokens", "max_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"steps.{name} must be >= 1, got {getattr(self, name)}")
        if not self.delimiter:
            raise ValueError("steps.delimiter must be a non-empty string")

    def step(self) -> Sampling:
        """Sampling for one step."""
        return Sampling(self.temperature, self.top_p, self.top_k, self.max_step_tokens)

    def solution(self) -> Sampling:
        """Sampling for a whole solution, or the rest of one."""
        return Sampling(self.temperature, self.top_p, self.top_k, self.max_solution_tokens)

    def greedy(self, whole: bool = False) -> Sampling:
        """Greedy decoding with the same caps (lookahead, a first zero-shot solution)."""
        return replace(self.solution() if whole else self.step(), temperature=0.0)

    def split(self, text: str) -> list[str]:
        return split_steps(text, self.delimiter)


DEFAULT_STEPS = StepSettings()
