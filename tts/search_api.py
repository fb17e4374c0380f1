"""``tts.search``: run a strategy on many problems under one budget."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tts.budget import Budget, ProblemResult, Scheduler, Strategy
from tts.budget.scheduler import DEFAULT_WINDOW
from tts.tasks.records import Problem


def search(problems: Sequence[Problem | str], strategy: Strategy, policy, prm=None,
           budget: Budget | int | None = None, progress: bool = True,
           on_result: Callable[[ProblemResult], None] | None = None,
           window: int | None = DEFAULT_WINDOW) -> list[ProblemResult]:
    """Run ``strategy`` (a function ``problem -> generator of requests``, e.g. from ``search/``)
    on every problem, batching all live problems' requests into one policy call and one PRM call
    per round. ``budget``: a ``Budget`` or an int (generated policy tokens per problem).
    Returns one ``ProblemResult`` per problem, in order: steps, answer, correctness, score,
    spend, the tree (if the strategy keeps one), or the error that failed it. ``on_result`` is
    called with each result as soon as its problem finishes. ``window``: problems in flight at
    once (None: all); results do not depend on it."""
    if isinstance(budget, int) and not isinstance(budget, bool):
        budget = Budget(per_problem=budget)
    items = [p if isinstance(p, Problem) else Problem(id=f"problem-{i}", problem=str(p), answer="")
             for i, p in enumerate(problems)]
    return Scheduler(policy, prm, budget, progress=progress, window=window).run(items, strategy, on_result)
