"""Step-level beam search: keep the ``width`` best partial solutions by PRM score, expand each
with ``k`` candidate next steps, score the new steps (the PRM caches the old ones), repeat until
no live beam is left, none can still beat the best finished solution, or ``steps.max_steps``. Batched
across beams here and across problems by the scheduler. The tree of every expansion is kept for inspection.

``lookahead`` > 0 ranks each candidate by the PRM score of its greedy continuation ``lookahead``
steps further (the lookahead steps are not kept), as in lookahead search."""

from __future__ import annotations

from tts import ROOT, BudgetExhausted, Expand, Outcome, Prefix, Score, SearchTree, StepSettings, aggregate


def beam_search(width: int = 4, k: int = 4, aggregation: str = "min", lookahead: int = 0,
                steps: StepSettings | None = None):
    if width < 1 or k < 1:
        raise ValueError(f"beam width and candidates per beam must be >= 1, got {width}, {k}")
    steps = steps or StepSettings()
    aggregate([], aggregation)

    def strategy(problem):
        tree = SearchTree(root_text=problem.problem)
        beams = [ROOT]
        finished: list[tuple[float, int]] = []
        try:
            for _ in range(steps.max_steps):
                prefixes = [Prefix(problem.problem, tuple(tree.steps(b))) for b in beams]
                cands = yield Expand(prefixes, k, steps.step(), delimiter=steps.delimiter)
                parents = [b for b, row in zip(beams, cands, strict=True) for _ in row]
                flat = [c for row in cands for c in row]
                ids = tree.add_children(parents, [c.text for c in flat], tokens=[c.generated_tokens for c in flat],
                                        terminal=[c.finished for c in flat])
                looks = [tuple(tree.steps(int(i))) for i in ids]
                ahead = [not tree.is_terminal(int(i)) for i in ids]
                for _ in range(lookahead):
                    todo = [j for j, a in enumerate(ahead) if a]
                    if not todo:
                        break
                    more = yield Expand([Prefix(problem.problem, looks[j]) for j in todo], 1, steps.greedy(),
                                        delimiter=steps.delimiter)
                    for j, (c,) in zip(todo, more, strict=True):
                        looks[j] = (*looks[j], c.text)
                        ahead[j] = not c.finished
                scores = yield Score([Prefix(problem.problem, look) for look in looks])
                values = [aggregate(s.rewards, aggregation) for s in scores]
                node_rewards = [s.rewards[tree.depth(int(i)) - 1] if len(s.rewards) >= tree.depth(int(i)) else 0.0
                                for i, s in zip(ids, scores, strict=True)]
                tree.set_reward(ids, node_rewards)
                ranked = sorted(zip(values, ids.tolist(), strict=True), key=lambda x: -x[0])
                beams, best_live = [], -1.0
                for value, node in ranked:
                    if tree.is_terminal(node):
                        finished.append((value, node))
                    elif len(beams) < width:
                        beams.append(node)
                        best_live = max(best_live, value)
                # A finished solution ends the search only when no live beam can still beat it
                # (as search-and-learn, live beams otherwise run on to their end or the depth cap).
                if not beams or (finished and max(v for v, _ in finished) >= _ceiling(best_live, aggregation)):
                    break
        except BudgetExhausted:
            pass
        pool = finished or [(0.0, b) for b in beams if b != ROOT]
        if not pool:
            return Outcome([], tree=tree)
        value, node = max(pool, key=lambda x: x[0])
        return Outcome(tree.steps(node), score=value, tree=tree, extra={"finished": len(finished)})

    return strategy


def _ceiling(value: float, aggregation: str) -> float:
    """The best score a live beam now worth ``value`` can still reach: min and prod can only
    fall as steps are added (rewards lie in [0, 1]); last and mean can rise to 1."""
    return value if aggregation in ("min", "prod") else 1.0
