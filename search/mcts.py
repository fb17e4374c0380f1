"""MCTS with PUCT over the Numba tree. Each round selects ``parallel`` leaves at once (virtual
loss spreads them over the tree), so one round is one batched policy call (expand every selected
node with ``k`` candidate steps) and one batched PRM call (score the new steps). Priors come from
the policy's log-probs (softmax of each candidate's mean token log-prob over all its siblings,
redone after each widening, a rollout's child included, so a node's priors sum to 1),
values from the PRM (the ``aggregation`` of the path's step rewards). Progressive widening: a
node visited N times may hold ceil(widen_c * N ** widen_alpha) children; a selection that passes
a node with room expands that node again instead of descending.

``rollout=True`` (the default) also completes, for every expanded node, its best new child (by
PRM value) with one policy rollout to the end of the solution; the rollout's steps enter the tree
as a branch (terminal only if the rollout finished, not if the token cap cut it), scored by the
PRM, and the child's value mixes its own PRM value with its rollout's (``rollout_weight``). One
rollout per expansion rather than per child keeps simulations affordable under a token budget.
Without rollouts each round deepens the tree by at most one step, which on the testbed rarely
reaches an answer.

``simulations`` is a ceiling: under a token budget, set it high and let the budget end the search.
The answer: among finished solutions with the best value, the one most of them agree on (values
saturate at 0 or 1 with a confident PRM, so ties are common)."""

from __future__ import annotations

import math

import numpy as np

from tts import (
    BudgetExhausted,
    Expand,
    Outcome,
    Prefix,
    Score,
    SearchTree,
    StepSettings,
    aggregate,
    solution_answer,
    vote_index,
)


def mcts(simulations: int = 32, parallel: int = 8, k: int = 3, c_puct: float = 1.5, widen_c: float = 1.0,
         widen_alpha: float = 0.5, aggregation: str = "min", rollout: bool = True, rollout_weight: float = 0.5,
         reference_tree: bool = False, steps: StepSettings | None = None):
    if simulations < 1 or parallel < 1 or k < 1:
        raise ValueError(f"simulations, parallel and k must be >= 1, got {simulations}, {parallel}, {k}")
    steps = steps or StepSettings()
    aggregate([], aggregation)

    def widen_target(tree: SearchTree, leaf: int) -> int:
        arrays = tree.arrays
        for node in tree.path(leaf)[:-1].tolist():
            room = math.ceil(widen_c * max(1, int(arrays.visits[node])) ** widen_alpha)
            if not tree.is_terminal(node) and tree.depth(node) < steps.max_steps and int(arrays.num_children[node]) < room:
                return node
        return leaf

    def strategy(problem):
        tree = SearchTree(root_text=problem.problem, reference=reference_tree)
        value = {}  # node -> aggregated PRM score of its path
        solved: set[int] = set()  # nodes where a solution really ended (not cut by a cap)
        logit: dict[int, float] = {}  # node -> its candidate's mean token log-prob (the prior's logit)
        done = 0
        try:
            while done < simulations:
                leaves = tree.select_puct_batch(min(parallel, simulations - done), c_puct=c_puct, virtual_loss=1)
                targets = [widen_target(tree, int(leaf)) for leaf in leaves]
                grow = list(dict.fromkeys(t for t in targets if not tree.is_terminal(t) and tree.depth(t) < steps.max_steps))
                new_value: dict[int, float] = {}
                if grow:
                    cands = yield Expand([Prefix(problem.problem, tuple(tree.steps(t))) for t in grow], k, steps.step(),
                                         delimiter=steps.delimiter)
                    parents, texts, tokens, terminal = [], [], [], []
                    for t, row in zip(grow, cands, strict=True):
                        for c in row:
                            parents.append(t)
                            texts.append(c.text)
                            tokens.append(c.generated_tokens)
                            terminal.append(c.finished or tree.depth(t) + 1 >= steps.max_steps)
                    ids = tree.add_children(parents, texts, tokens=tokens, terminal=terminal)
                    logit.update(zip(ids.tolist(), (_logit(c) for row in cands for c in row), strict=True))
                    _set_priors(tree, grow, logit)
                    solved.update(i for i, c in zip(ids.tolist(), (c for row in cands for c in row), strict=True)
                                  if c.finished)
                    scores = yield Score([Prefix(problem.problem, tuple(tree.steps(int(i)))) for i in ids])
                    tree.set_reward(ids, [s.rewards[-1] if s.rewards else 0.0 for s in scores])
                    for i, s in zip(ids.tolist(), scores, strict=True):
                        value[i] = aggregate(s.rewards, aggregation)
                    if rollout:
                        yield from _rollouts(tree, problem, _best_children(tree, parents, ids.tolist(), value), value,
                                              solved, logit)
                    for parent, i in zip(parents, ids.tolist(), strict=True):
                        new_value[parent] = max(new_value.get(parent, -1.0), value[i])
                    # Each new child counts one evaluation (its own PRM value).
                    tree.backup_batch(ids, [value[i] for i in ids.tolist()], virtual_loss=0)
                # The selections themselves: take back their virtual loss; a selected terminal
                # node is re-evaluated by its stored value.
                hit = [tree.is_terminal(t) and t not in new_value for t in targets]
                terminal_hits = [int(leaf) for leaf, h in zip(leaves, hit, strict=True) if h]
                others = [int(leaf) for leaf, h in zip(leaves, hit, strict=True) if not h]
                if terminal_hits:
                    tree.backup_batch(terminal_hits, [value.get(t, 0.0) for t in terminal_hits], virtual_loss=1)
                tree.release_virtual_loss(others)
                done += len(leaves)
        except BudgetExhausted:
            pass
        finals = [n for n in value if n in solved]
        pool = finals or list(value)
        if not pool:
            return Outcome([], tree=tree)
        # Min-aggregated PRM values saturate (many solutions tie at 0 or 1), so the answer most
        # often reached among the top-valued solutions wins; the most visited of them is kept.
        top = max(value[n] for n in pool)
        tied = sorted((n for n in pool if value[n] >= top - 1e-6), key=lambda n: -int(tree.arrays.visits[n]))
        pick = vote_index([solution_answer(tree.steps(n)) for n in tied])
        best = tied[pick if pick is not None else 0]
        return Outcome(tree.steps(best), score=value[best], tree=tree,
                       extra={"simulations": done, "nodes": len(tree), "finished": len(finals)})

    def _best_children(tree: SearchTree, parents: list[int], ids: list[int], value: dict[int, float]) -> list[int]:
        """Per expanded node, its unfinished new child with the best PRM value: one rollout per
        expansion rather than per child keeps the simulations affordable under a token budget."""
        best: dict[int, int] = {}
        for parent, i in zip(parents, ids, strict=True):
            if not tree.is_terminal(i) and (parent not in best or value[i] > value[best[parent]]):
                best[parent] = i
        return list(best.values())

    def _rollouts(tree: SearchTree, problem, nodes: list[int], value: dict[int, float], solved: set[int],
                  logit: dict[int, float]):
        """Complete each node's solution once; the completion's steps become a finished branch."""
        if not nodes:
            return
        cands = yield Expand([Prefix(problem.problem, tuple(tree.steps(n))) for n in nodes], 1, steps.solution(),
                             to_end=True, delimiter=steps.delimiter)
        ends = []
        for n, (c,) in zip(nodes, cands, strict=True):
            node = n
            rest = steps.split(c.text)
            room = steps.max_steps - tree.depth(n)  # the branch stops at the depth cap, as expansions do
            for j, step in enumerate(rest[:room]):
                # A rollout cut short by the token cap is a partial branch, not a solution; a
                # step at the depth cap is terminal (it can never be expanded) but no solution.
                ended = j == len(rest) - 1 and c.finished
                capped = tree.depth(node) + 1 >= steps.max_steps
                [node] = tree.add_children([node], [step], terminal=[ended or capped]).tolist()
                logit[node] = _logit(c)  # the rollout's own log-probs, on its siblings' scale
                if ended:
                    solved.add(node)
            _set_priors(tree, [n], logit)
            if node != n:
                ends.append((n, node))
        if not ends:
            return
        scores = yield Score([Prefix(problem.problem, tuple(tree.steps(end))) for _, end in ends])
        for (n, end), s in zip(ends, scores, strict=True):
            value[end] = aggregate(s.rewards, aggregation)
            tree.set_reward([end], [s.rewards[-1] if s.rewards else 0.0])
            value[n] = (1 - rollout_weight) * value[n] + rollout_weight * value[end]

    return strategy


def _logit(candidate) -> float:
    return candidate.mean_logprob if candidate.logprobs else 0.0


def _set_priors(tree: SearchTree, parents, logit: dict[int, float]) -> None:
    """Each parent's children get softmax(mean log-prob) priors over *all* its children, so after
    progressive widening (and a rollout child) they still sum to 1."""
    for parent in parents:
        kids = tree.children(parent)
        if kids.size:
            z = np.array([logit.get(int(c), 0.0) for c in kids])
            p = np.exp(z - z.max())
            tree.set_prior(kids, p / p.sum())
