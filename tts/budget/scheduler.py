"""The scheduler: runs one strategy on many problems at once, one policy call and one PRM call
per round.

Each problem's strategy is a generator that yields requests (``Expand``, ``Score``, ``Rank``). A
round has two halves, as vLLM's scheduler does: ``_plan`` takes every live problem's pending
request, clips expansions to what each budget has left, and merges them into one batched policy
call and one batched PRM call; ``_update`` charges every token to its problem and sends each
generator its result, which yields its next request. A ``Rank`` may take several PRM passes
within its round (one more step of every live candidate per pass, all problems' rankings in one
call). A strategy that raises marks its problem failed with the error; the others finish.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm.auto import tqdm

from tts.budget.budget import Budget, Spend
from tts.budget.requests import BudgetExhausted, Expand, Rank, Score
from tts.grading.boxed import solution_answer
from tts.grading.equivalence import answers_equal
from tts.prm.ranking import Ranker
from tts.tasks.records import Problem


@dataclass
class Outcome:
    """What a strategy returns: the chosen solution's steps and its score."""

    steps: list[str]
    score: float | None = None
    tree: Any = None  # a SearchTree, for strategies that keep one
    extra: dict = field(default_factory=dict)


@dataclass
class ProblemResult:
    problem: Problem
    steps: list[str]
    answer: str | None
    correct: bool | None  # None: the problem has no reference answer
    score: float | None
    spend: Spend
    rounds: int
    error: str | None = None
    tree: Any = None
    extra: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.error is not None


Strategy = Callable[[Problem], Generator[Expand | Score | Rank, Any, Outcome]]


def _params(engine) -> int:
    """Parameters of an engine's model, for the FLOPs estimate: counted on the loaded model (HF),
    or on an empty copy built from the engine's config on the meta device (vLLM); 0 if unknown
    (an HTTP server)."""
    model = getattr(engine, "model", None)
    try:
        if model is not None and hasattr(model, "parameters"):
            return int(sum(p.numel() for p in model.parameters()))
        config = engine.llm.llm_engine.model_config.hf_config
    except (AttributeError, TypeError):
        return 0
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        return int(sum(p.numel() for p in AutoModelForCausalLM.from_config(config).parameters()))


DEFAULT_WINDOW = 8


class Scheduler:
    """``window``: problems in flight at once (None: all). New problems enter as others finish,
    so results stream out steadily and memory follows the window, not the dataset; results do
    not depend on it (sampling seeds are keyed by content, not by batch)."""

    def __init__(self, policy, prm=None, budget: Budget | None = None, progress: bool = True,
                 window: int | None = DEFAULT_WINDOW) -> None:
        if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
            raise ValueError(f"window (problems in flight) must be a positive integer or None, got {window!r}")
        self.policy = policy
        self.prm = prm
        self.budget = budget or Budget()
        self.progress = progress
        self.window = window
        # FLOPs estimate: 2 x parameters x tokens (the engines' own models, when they expose them).
        self.policy_params = _params(policy)
        self.prm_params = _params(getattr(prm, "engine", prm)) if prm is not None else 0
        self.spent_total = 0  # generated policy tokens, all problems

    def run(self, problems: Sequence[Problem], strategy: Strategy,
            on_result: Callable[[ProblemResult], None] | None = None) -> list[ProblemResult]:
        """``on_result`` sees each problem's result as soon as that problem finishes (to store it
        before a crash can lose it), in finishing order."""
        waiting = list(enumerate(problems))[::-1]  # popped from the end: input order
        flying: dict[int, _Live] = {}
        results: dict[int, ProblemResult] = {}
        bar = tqdm(total=len(waiting), desc="search", unit="problem", disable=not self.progress, mininterval=1.0)
        while waiting or flying:
            while waiting and (self.window is None or len(flying) < self.window):
                i, problem = waiting.pop()
                flying[i] = _Live(problem)
                flying[i].start(strategy)
            for i in [i for i, s in flying.items() if s.finished]:
                results[i] = flying.pop(i).result()
                self._release(results[i].problem, flying.values())
                bar.update(1)
                if on_result is not None:
                    on_result(results[i])
            live = [s for s in flying.values() if not s.finished]
            if live:
                self._round(live)
        bar.close()
        return [results[i] for i in range(len(results))]

    def _release(self, problem: Problem, flying) -> None:
        """Let a PRM drop what it kept for a finished problem (its verification cache, sandbox
        chains), so memory follows the window; kept while a problem with the same text flies."""
        release = getattr(self.prm, "release", None)
        if release is not None and not any(s.problem.problem == problem.problem for s in flying):
            release(problem.problem)

    # -- one round ----------------------------------------------------------------------------
    def _left(self, s: _Live, reserved: int) -> int | None:
        """What this problem may still generate: its own allowance, and the shared total less
        what earlier problems of this round were promised (which is no concern of the
        per-problem allowance)."""
        caps = []
        if self.budget.per_problem is not None:
            caps.append(self.budget.per_problem - s.spend.policy_generated)
        if self.budget.total is not None:
            caps.append(self.budget.total - self.spent_total - reserved)
        if self.budget.per_problem_compute is not None:
            caps.append(self.budget.per_problem_compute - s.spend.computed_tokens)
        if self.budget.per_problem_flops is not None and self.policy_params:
            caps.append(int((self.budget.per_problem_flops - s.spend.flops) // (2.0 * self.policy_params)))
        return min(caps) if caps else None

    def _compute_spent(self, s: _Live) -> str | None:
        """Why this problem may ask for nothing more (a compute cap reached), or None."""
        b = self.budget
        if b.per_problem_compute is not None and s.spend.computed_tokens >= b.per_problem_compute:
            return f"compute budget spent: {s.spend.computed_tokens} of {b.per_problem_compute} tokens computed"
        if b.per_problem_flops is not None and s.spend.flops >= b.per_problem_flops:
            return f"compute budget spent: {s.spend.flops:.3g} of {b.per_problem_flops:.3g} FLOPs"
        return None

    def _plan(self, live: list[_Live]) -> tuple[list[tuple[_Live, Expand]], list[tuple[_Live, Score | Rank]]]:
        expands, scores = [], []
        reserved = 0  # of the shared total, promised to earlier problems this round
        for s in live:
            req = s.pending
            spent = self._compute_spent(s)
            if spent is not None:
                s.throw(BudgetExhausted(spent))
                continue
            if isinstance(req, (Score, Rank)):
                if self.prm is None:
                    s.fail(ValueError("the strategy asked for PRM scores but no prm was given to search()"))
                else:
                    scores.append((s, req))
                continue
            if not isinstance(req, Expand):
                s.fail(TypeError(f"a strategy must yield Expand or Score requests, got {type(req).__name__}"))
                continue
            rows = len(req.prefixes) * req.k
            if rows == 0:
                s.send([[] for _ in req.prefixes])  # one (empty) row per prefix, as always
                continue
            left = self._left(s, reserved)
            if left is not None:
                cap = left // rows  # worst case: every row generates max_tokens
                if cap < 1:
                    s.throw(BudgetExhausted(f"budget spent: {s.spend.policy_generated} generated tokens"))
                    continue
                if cap < req.sampling.max_tokens:
                    req = dataclasses.replace(req, sampling=dataclasses.replace(req.sampling, max_tokens=cap))
                reserved += rows * req.sampling.max_tokens
            expands.append((s, req))
        return expands, scores

    def _round(self, live: list[_Live]) -> None:
        expands, scores = self._plan(live)
        # One policy call per distinct (k, sampling, to_end, delimiter): in practice one per round.
        groups: dict[tuple, list[tuple[_Live, Expand]]] = {}
        for s, req in expands:
            groups.setdefault((req.k, req.sampling, req.to_end, req.delimiter), []).append((s, req))
        results: dict[int, Any] = {}
        for (k, sampling, to_end, delimiter), group in groups.items():
            prefixes = [p for _, req in group for p in req.prefixes]
            cands = self.policy.generate(prefixes, k, sampling, delimiter=delimiter, stop_at_step=not to_end)
            at = 0
            for s, req in group:
                mine = cands[at : at + len(req.prefixes)]
                at += len(req.prefixes)
                spend = Spend(policy_calls=1)
                for row in mine:
                    # The prompt is processed once per prefix (n samples share it).
                    spend.policy_prompt += max(row[0].prompt_tokens, 0) if row else 0
                    spend.policy_cached += getattr(row[0], "cached_tokens", 0) if row else 0
                    spend.policy_generated += sum(c.generated_tokens for c in row)
                    spend.policy_context_full += sum(bool(getattr(c, "context_full", False)) for c in row)
                spend.policy_flops = 2.0 * self.policy_params * (spend.policy_prompt - spend.policy_cached
                                                                 + spend.policy_generated)
                s.spend.add(spend)
                self.spent_total += spend.policy_generated
                results[id(s)] = mine
        if scores:
            results.update(self._verify(scores))
        for s in live:
            if id(s) in results and not s.finished:
                s.rounds += 1
                s.send(results[id(s)])

    def _verify(self, requests: list[tuple[_Live, Score | Rank]]) -> dict[int, Any]:
        """Every Score and every Rank of the round through the PRM: one call per pass. Scores are
        answered by the first pass; each Rank gets one more step of its live candidates per pass
        until its choice is settled (one pass without pruning)."""
        incremental = bool(getattr(self.prm, "incremental", False))
        rankers = {id(s): Ranker(s.problem.problem, req.solutions, req.aggregation, req.prune and incremental,
                                req.lanes)
                   for s, req in requests if isinstance(req, Rank)}
        results: dict[int, Any] = {}
        first = True
        while True:
            asks = [(s, req.prefixes if isinstance(req, Score) else rankers[id(s)].next_prefixes())
                    for s, req in requests if (first and isinstance(req, Score))
                    or (isinstance(req, Rank) and not rankers[id(s)].done)]
            first = False
            if not asks:
                break
            out = self.prm.score([p for _, prefixes in asks for p in prefixes])
            at = 0
            for s, prefixes in asks:
                mine = out[at : at + len(prefixes)]
                at += len(prefixes)
                spend = Spend(prm_calls=1, prm_prompt=sum(x.prompt_tokens for x in mine),
                              prm_generated=sum(x.generated_tokens for x in mine),
                              prm_context_full=sum(getattr(x, "context_full", 0) for x in mine),
                              prm_cached=sum(getattr(x, "cached_tokens", 0) for x in mine))
                spend.prm_flops = 2.0 * self.prm_params * (spend.prm_prompt - spend.prm_cached + spend.prm_generated)
                s.spend.add(spend)
                if id(s) in rankers:
                    rankers[id(s)].feed(mine)
                else:
                    results[id(s)] = mine
        for s, req in requests:
            if id(s) in rankers:
                ranking = rankers[id(s)].result()
                s.spend.add(Spend(prm_steps_verified=ranking.verified_steps, prm_steps_pruned=ranking.pruned_steps))
                results[id(s)] = ranking
        return results


class _Live:
    """One problem's strategy generator and what it has spent."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.spend = Spend()
        self.rounds = 0
        self.pending: Any = None
        self.outcome: Outcome | None = None
        self.error: str | None = None
        self.finished = False
        self.gen: Generator | None = None

    def start(self, strategy: Strategy) -> None:
        try:
            self.gen = strategy(self.problem)
            self.pending = next(self.gen)
        except StopIteration as stop:
            self._finish(stop.value)
        except Exception as e:  # noqa: BLE001  (one problem's failure must not stop the others)
            self.fail(e)

    def send(self, value: Any) -> None:
        self._step(lambda: self.gen.send(value))

    def throw(self, exc: BaseException) -> None:
        self._step(lambda: self.gen.throw(exc))

    def _step(self, advance: Callable[[], Any]) -> None:
        try:
            self.pending = advance()
        except StopIteration as stop:
            self._finish(stop.value)
        except BudgetExhausted:
            self._finish(None)  # the strategy let the budget end it without an answer
        except Exception as e:  # noqa: BLE001
            self.fail(e)

    def _finish(self, outcome: Outcome | None) -> None:
        if outcome is not None and not isinstance(outcome, Outcome):
            self.fail(TypeError(f"a strategy must return an Outcome, got {type(outcome).__name__}"))
            return
        self.outcome = outcome or Outcome(steps=[])
        self.finished = True

    def fail(self, e: BaseException) -> None:
        self.error = f"{type(e).__name__}: {e}\n" + "".join(traceback.format_tb(e.__traceback__)[-3:])
        self.finished = True
        if self.gen is not None:
            self.gen.close()

    def result(self) -> ProblemResult:
        o = self.outcome or Outcome(steps=[])
        answer = solution_answer(o.steps)
        gold = self.problem.answer
        correct = answers_equal(answer, gold) if gold not in (None, "") and self.error is None else (
            False if self.error is not None else None)
        return ProblemResult(self.problem, list(o.steps), answer, correct, o.score, self.spend, self.rounds,
                             self.error, o.tree, dict(o.extra))
