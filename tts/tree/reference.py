"""Plain-Python references for the kernels in ``kernels.py``.

Written independently of the kernels (Python lists, ``max``/``sorted`` with keys) so that
agreement between the two is evidence, and used as the baseline in ``benchmarks/tree_ops.py``.
They operate on the same ``TreeArrays`` and mutate it the same way.
"""

from __future__ import annotations

import math

from tts.tree.arrays import EXPANDED, NO_NODE, NO_PARENT, PRUNED, TERMINAL, TreeArrays


def _check(tree: TreeArrays, node: int) -> None:
    if not 0 <= node < int(tree.size[0]):
        raise IndexError(f"node id {node} out of range 0..{int(tree.size[0]) - 1}")


def children(tree: TreeArrays, node: int) -> list[int]:
    _check(tree, node)
    out = []
    child = int(tree.first_child[node])
    while child != NO_NODE:
        out.append(child)
        child = int(tree.next_sibling[child])
    return out


def add_children(tree, parents, priors, tokens, terminal) -> list[int]:
    start = int(tree.size[0])
    if start + len(parents) > tree.capacity:
        raise IndexError("tree capacity exceeded")
    for p in parents:
        _check(tree, int(p))
        if tree.flags[p] & PRUNED:
            raise ValueError("cannot add a child to a pruned node")
    ids = []
    for i, p in enumerate(int(p) for p in parents):
        c = start + i
        tree.parent[c] = p
        tree.first_child[c] = tree.last_child[c] = tree.next_sibling[c] = NO_NODE
        tree.num_children[c] = 0
        tree.depth[c] = tree.depth[p] + 1
        tree.visits[c] = tree.virtual_loss[c] = 0
        tree.value_sum[c] = 0.0
        tree.value_max[c] = -math.inf
        tree.prior[c] = priors[i]
        tree.reward[c] = math.nan
        tree.tokens[c] = tokens[i]
        tree.flags[c] = TERMINAL if terminal[i] else 0
        siblings = children(tree, p)
        if siblings:
            tree.next_sibling[siblings[-1]] = c
        else:
            tree.first_child[p] = c
        tree.last_child[p] = c
        tree.num_children[p] += 1
        tree.flags[p] |= EXPANDED
        ids.append(c)
    tree.size[0] = start + len(parents)
    return ids


def expand(tree, node: int, priors, tokens, terminal) -> int:
    return add_children(tree, [node] * len(priors), priors, tokens, terminal)[0] if len(priors) else int(tree.size[0])


def q_value(tree, node: int, fpu: float, use_max: bool) -> float:
    if tree.visits[node] == 0:
        return fpu
    if use_max:
        return float(tree.value_max[node])
    return float(tree.value_sum[node]) / float(tree.visits[node] + tree.virtual_loss[node])


def _live_children(tree, node):
    return [c for c in children(tree, node) if not tree.flags[c] & PRUNED]


def select_puct(tree, root: int, c_puct: float, fpu: float, use_max: bool) -> int:
    _check(tree, root)
    node = root
    while not tree.flags[node] & TERMINAL:
        live = _live_children(tree, node)
        if not live:
            break
        sqrt_n = math.sqrt(max(int(tree.visits[node] + tree.virtual_loss[node]), 1))

        def puct(c):
            n_child = int(tree.visits[c] + tree.virtual_loss[c])
            return q_value(tree, c, fpu, use_max) + c_puct * float(tree.prior[c]) * sqrt_n / (1.0 + n_child)

        node = max(live, key=puct)  # max keeps the first of equals, as the kernel does
    return node


def select_uct(tree, root: int, c_uct: float, use_max: bool) -> int:
    _check(tree, root)
    node = root
    while not tree.flags[node] & TERMINAL:
        live = _live_children(tree, node)
        if not live:
            break
        unvisited = [c for c in live if tree.visits[c] + tree.virtual_loss[c] == 0]
        if unvisited:
            node = unvisited[0]
            continue
        log_n = math.log(max(int(tree.visits[node] + tree.virtual_loss[node]), 1))
        node = max(
            live,
            key=lambda c: q_value(tree, c, 0.0, use_max)
            + c_uct * math.sqrt(log_n / int(tree.visits[c] + tree.virtual_loss[c])),
        )
    return node


def path_to_root(tree, node: int) -> list[int]:
    _check(tree, node)
    path = []
    while node != NO_PARENT:
        path.append(node)
        node = int(tree.parent[node])
    return path[::-1]


def add_virtual_loss(tree, leaf: int, amount: int) -> None:
    for node in path_to_root(tree, leaf):
        tree.virtual_loss[node] += amount


def _check_value(value: float) -> None:
    if not math.isfinite(value):
        raise ValueError("backup value must be finite (got NaN or inf): check the PRM or value function")


def backup(tree, leaf: int, value: float, virtual_loss: int) -> None:
    _check(tree, leaf)
    _check_value(value)
    for node in path_to_root(tree, leaf):
        tree.visits[node] += 1
        tree.value_sum[node] += value
        tree.value_max[node] = max(float(tree.value_max[node]), value)
        tree.virtual_loss[node] -= virtual_loss


def expand_and_backup(tree, leaf: int, priors, tokens, terminal, value: float, virtual_loss: int) -> int:
    first = expand(tree, leaf, priors, tokens, terminal)
    backup(tree, leaf, value, virtual_loss)
    return first


def select_puct_batch(tree, root, num, c_puct, fpu, use_max, virtual_loss) -> list[int]:
    leaves = []
    for _ in range(num):
        leaf = select_puct(tree, root, c_puct, fpu, use_max)
        add_virtual_loss(tree, leaf, virtual_loss)
        leaves.append(leaf)
    return leaves


def backup_batch(tree, leaves, values, virtual_loss) -> None:
    if len(leaves) != len(values):
        raise ValueError("leaves and values must have the same length")
    for leaf, value in zip(leaves, values, strict=True):  # check everything before changing anything
        _check(tree, int(leaf))
        _check_value(float(value))
    for leaf, value in zip(leaves, values, strict=True):
        backup(tree, int(leaf), float(value), virtual_loss)


def top_k_frontier(tree, score, k: int, include_terminal: bool) -> list[int]:
    frontier = [
        node
        for node in range(int(tree.size[0]))
        if tree.num_children[node] == 0
        and not tree.flags[node] & PRUNED
        and (include_terminal or not tree.flags[node] & TERMINAL)
    ]

    def key(node):
        s = float(score[node])
        return (-(s if not math.isnan(s) else -math.inf), node)

    return sorted(frontier, key=key)[: max(k, 0)]


def _subtree(tree, node: int) -> list[int]:
    _check(tree, node)
    out, stack = [], [node]
    while stack:
        cur = stack.pop()
        out.append(cur)
        stack.extend(children(tree, cur))
    return out


def prune_subtree(tree, node: int) -> int:
    pruned = 0
    for cur in _subtree(tree, node):
        if not tree.flags[cur] & PRUNED:
            tree.flags[cur] |= PRUNED
            pruned += 1
    return pruned


def subtree_size(tree, node: int, include_pruned: bool) -> int:
    return sum(1 for cur in _subtree(tree, node) if include_pruned or not tree.flags[cur] & PRUNED)


def max_depth(tree, include_pruned: bool) -> int:
    n = int(tree.size[0])
    depths = [int(tree.depth[i]) for i in range(n) if include_pruned or not tree.flags[i] & PRUNED]
    return max(depths, default=0)

