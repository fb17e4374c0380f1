"""Diverse verifier tree search (DVTS): ``subtrees`` independent searches, each a beam of width
one that expands its current step with ``k`` candidates and keeps the one the PRM likes best.
The budget is split evenly because every subtree does the same work per round; all subtrees
(and all problems) share each round's policy and PRM call."""

from __future__ import annotations

from tts import BudgetExhausted, Expand, Outcome, Prefix, Score, StepSettings, aggregate, solution_answer, vote_index


def dvts(subtrees: int = 4, k: int = 4, aggregation: str = "last", weighted: bool = False,
         steps: StepSettings | None = None):
    if subtrees < 1 or k < 1:
        raise ValueError(f"subtrees and k must be >= 1, got {subtrees}, {k}")
    steps = steps or StepSettings()
    aggregate([], aggregation)

    def strategy(problem):
        live = [()] * subtrees  # each subtree's steps so far
        done: list[tuple[float, tuple[str, ...]]] = []
        try:
            for _ in range(steps.max_steps):
                if not live:
                    break
                cands = yield Expand([Prefix(problem.problem, s) for s in live], k, steps.step(), delimiter=steps.delimiter)
                children = [(s + (c.text,), c.finished) for s, row in zip(live, cands, strict=True) for c in row]
                scores = yield Score([Prefix(problem.problem, path) for path, _ in children])
                values = [aggregate(x.rewards, aggregation) for x in scores]
                nxt = []
                for t in range(len(live)):
                    best = max(range(t * k, (t + 1) * k), key=lambda i: values[i])
                    path, finished = children[best]
                    (done.append((values[best], path)) if finished else nxt.append(path))
                live = nxt
        except BudgetExhausted:
            pass
        if not done:
            done = [(0.0, s) for s in live if s]
        if not done:
            return Outcome([])
        best = vote_index([solution_answer(s) for _, s in done], [v for v, _ in done]) if weighted else None
        value, path = done[best] if best is not None else max(done, key=lambda d: d[0])
        return Outcome(list(path), score=value, extra={"finished": len(done)})

    return strategy
