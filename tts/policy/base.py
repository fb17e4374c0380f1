"""The policy interface: propose the next step (or the rest of the solution) for many prefixes.

Every backend (vLLM offline, Hugging Face, OpenAI-compatible HTTP) implements ``Policy`` and is
checked by the same test suite.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from tts.grading.boxed import last_boxed
from tts.grading.steps import DEFAULT_DELIMITER
from tts.policy.prompts import render_prompt


@dataclass(frozen=True)
class Prefix:
    """A partial solution: the problem and the steps written so far."""

    problem: str
    steps: tuple[str, ...] = ()
    # A refinement's earlier (solution, critique) turns, shown to the policy before the new
    # solution. PRMs never read it: they judge the steps.
    feedback: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.8
    top_p: float = 1.0
    top_k: int = 0  # 0: off
    max_tokens: int = 128  # per call: one step, or the rest of the solution
    seed: int | None = None  # None: the backend's own seeded stream

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must lie in (0, 1], got {self.top_p}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


GREEDY = Sampling(temperature=0.0)

# Why a candidate stopped.
STOP_DELIMITER = "delimiter"  # the step delimiter (not included in the text)
STOP_EOS = "eos"  # the model ended the solution
STOP_LENGTH = "length"  # max_tokens ran out
STOP_CONTEXT = "context"  # the model's context filled up: it cannot go on
STOP_PROMPT_TOO_LONG = "prompt_too_long"  # the prompt alone fills the context: nothing generated
CONTEXT_FULL = (STOP_CONTEXT, STOP_PROMPT_TOO_LONG)


@dataclass
class StepCandidate:
    text: str  # the step (or the rest of the solution), without the delimiter
    finish_reason: str
    prompt_tokens: int
    generated_tokens: int  # tokens generated, the delimiter/EOS token included
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)  # per generated token (raw model distribution)
    # Per generated token, the ``k`` most likely token ids and their log-probs (``complete(...,
    # top_logprobs=k)``; empty otherwise). The PRMs read Yes/No probabilities here.
    top_logprobs: list[dict[int, float]] = field(default_factory=list)
    stop: str | None = None  # the stop string that ended it, if any
    # Of ``prompt_tokens``, those the engine served from its prefix cache instead of computing
    # (vLLM's ``num_cached_tokens``, the HF engine's prefix cache, a server's cached-token usage).
    cached_tokens: int = 0

    @property
    def finished(self) -> bool:
        """The solution ended here: EOS, a final ``\\boxed{}`` answer, or no room left."""
        return self.finish_reason in (STOP_EOS, *CONTEXT_FULL) or last_boxed(self.text) is not None

    @property
    def context_full(self) -> bool:
        """The model's context ran out (the prompt alone, or the prompt and this output)."""
        return self.finish_reason in CONTEXT_FULL

    @property
    def cumulative_logprob(self) -> float:
        return float(sum(self.logprobs))

    @property
    def mean_logprob(self) -> float:
        return self.cumulative_logprob / len(self.logprobs) if self.logprobs else -math.inf


@runtime_checkable
class Policy(Protocol):
    """Proposes candidate steps.

    ``delimiter`` separates steps: it joins the steps so far in the prompt, and generation stops
    at it (it is left out of the text). ``stop_at_step=False`` generates to the end of the
    solution instead (rollouts, best-of-N samples).
    """

    name: str

    def generate(
        self,
        prefixes: Sequence[Prefix],
        n: int,
        sampling: Sampling,
        delimiter: str = DEFAULT_DELIMITER,
        stop_at_step: bool = True,
    ) -> list[list[StepCandidate]]:
        """``n`` candidates for each prefix, in order: ``result[i][j]`` is candidate j of prefix i.
        An empty prefix list gives an empty list."""
        ...

    def close(self) -> None: ...


def too_long(prompt_tokens: int, n: int) -> list[StepCandidate]:
    """The candidates of a prompt that fills the context: a defined result, not a failed batch."""
    return [StepCandidate("", STOP_PROMPT_TOO_LONG, prompt_tokens, 0) for _ in range(n)]


class PolicyBase:
    """What every backend shares: argument checks, prompt rendering and the seed of every prompt.
    A backend implements ``_generate`` over rendered prompts.

    Seeds are keyed by content: a prompt's samples depend on the backend seed, the prompt text and
    how many times this backend has been asked for that prompt since ``restart()``, never on which
    other prompts share the batch. So a problem searched alone, in a batch of 64, or resumed after
    a crash draws the same samples (up to float noise from padding in HF batches)."""

    name = "base"

    def __init__(self, prompt_format: str = "qwen_math_chat", seed: int = 0) -> None:
        self.prompt_format = prompt_format
        self.seed = seed
        self._seen: dict[bytes, int] = {}

    def restart(self) -> None:
        """Start the seed streams afresh, as a new process would (one run of a sweep config)."""
        self._seen.clear()

    def _prompt_seeds(self, prompts: Sequence[str], sampling: Sampling) -> list[int]:
        """One seed per prompt. An explicit ``sampling.seed`` pins every prompt's draw."""
        seeds = []
        for prompt in prompts:
            key = hashlib.blake2b(prompt.encode(), digest_size=16).digest()
            if sampling.seed is not None:
                base, occurrence = sampling.seed, 0
            else:
                base, occurrence = self.seed, self._seen.get(key, 0)
                self._seen[key] = occurrence + 1
            seeds.append(keyed_seed(base, key, occurrence))
        return seeds

    def generate(
        self,
        prefixes: Sequence[Prefix],
        n: int,
        sampling: Sampling,
        delimiter: str = DEFAULT_DELIMITER,
        stop_at_step: bool = True,
    ) -> list[list[StepCandidate]]:
        check_request(prefixes, n, delimiter)
        if not prefixes:
            return []
        prompts = [render_prompt(self.prompt_format, p.problem, p.steps, delimiter, p.feedback) for p in prefixes]
        stops = (delimiter,) if stop_at_step else ()
        return self._generate(prompts, n, sampling, stops, self._prompt_seeds(prompts, sampling),
                              top_logprobs=0, include_stop=False)

    def complete(self, prompts: Sequence[str], n: int, sampling: Sampling, stop: Sequence[str] = (),
                 top_logprobs: int = 0, include_stop: bool = True,
                 max_tokens: Sequence[int] | None = None) -> list[list[StepCandidate]]:
        """Raw completion of already-rendered prompts (the PRMs' multi-turn verifications): stop at
        the first of ``stop``, keep the stop string (``include_stop``), and report the
        ``top_logprobs`` most likely tokens at every position. ``max_tokens`` caps each prompt's
        generation below ``sampling.max_tokens`` (one call for prompts with different budgets
        left)."""
        if max_tokens is not None and len(max_tokens) != len(prompts):
            raise ValueError(f"max_tokens needs one cap per prompt: {len(prompts)}, got {len(max_tokens)}")
        check_n(n)
        if top_logprobs < 0:
            raise ValueError(f"top_logprobs must be >= 0, got {top_logprobs}")
        stops = tuple(stop)
        if any(not isinstance(x, str) or not x for x in stops):
            raise ValueError(f"stop strings must be non-empty strings, got {stops!r}")
        if not prompts:
            return []
        caps = [max(1, min(int(c), sampling.max_tokens)) for c in max_tokens] if max_tokens is not None else None
        return self._generate(list(prompts), n, sampling, stops, self._prompt_seeds(prompts, sampling),
                              top_logprobs=top_logprobs,
                              include_stop=include_stop, caps=caps)

    def _cap(self, sampling: Sampling, caps: list[int] | None, i: int) -> int:
        return sampling.max_tokens if caps is None else caps[i]

    def _generate(self, prompts: list[str], n: int, sampling: Sampling, stops: tuple[str, ...],
                  seeds: list[int], top_logprobs: int = 0, include_stop: bool = False,
                  caps: list[int] | None = None) -> list[list[StepCandidate]]:
        """``n`` candidates per prompt (prompt i drawn from ``seeds[i]``), each cut at the first of
        ``stops`` (none: run to the end) and after ``caps[i]`` tokens (default ``sampling.max_tokens``)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n (candidates per prefix) must be an integer >= 1, got {n!r}")


def check_request(prefixes: Sequence[Prefix], n: int, delimiter: str) -> None:
    """The argument checks every backend shares."""
    check_n(n)
    if not isinstance(delimiter, str) or not delimiter:
        raise ValueError(f"delimiter must be a non-empty string, got {delimiter!r}")
    for i, p in enumerate(prefixes):
        if not isinstance(p, Prefix):
            raise TypeError(f"prefixes[{i}] is a {type(p).__name__}; pass tts.policy.Prefix(problem, steps)")


def first_stop(text: str, stops: Sequence[str]) -> tuple[int, str | None]:
    """(position, stop string) of the earliest stop string in ``text``; (-1, None) if none."""
    best, which = -1, None
    for s in stops:
        at = text.find(s)
        if at >= 0 and (best < 0 or at < best):
            best, which = at, s
    return best, which


def greedy_split(n: int, sampling: Sampling) -> tuple[int, int]:
    """(samples to request, copies of each): greedy candidates are identical, so engines decode
    one and it is repeated (vLLM and HF both refuse greedy n > 1)."""
    return (1, n) if sampling.greedy else (n, 1)


def repeat_candidates(row: list[StepCandidate], copies: int) -> list[StepCandidate]:
    if copies == 1:
        return row
    return [dataclasses.replace(c, token_ids=list(c.token_ids), logprobs=list(c.logprobs))
            for c in row for _ in range(copies)]


def keyed_seed(base: int, key: bytes, occurrence: int) -> int:
    """A 31-bit seed from the backend seed, a prompt digest and the prompt's occurrence count."""
    digest = hashlib.blake2b(key + f"|{base}|{occurrence}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % (2**31 - 1)


class BackendUnavailable(ImportError):
    """A backend whose package is not installed; the message names the extra to install."""
