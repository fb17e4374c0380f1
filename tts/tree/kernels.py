"""Numba kernels over ``TreeArrays``: one verb each, mutating the tree in place.

Numba does not bounds-check array indexing, so every kernel validates the node ids it is given
and raises ``IndexError`` rather than reading or writing outside the arrays. Each kernel has a
plain-Python twin in ``reference.py``; ``tests/tree`` checks that they agree on random trees.

``tree`` is a ``TreeArrays`` or the plain tuple of its four arrays (``tuple(arrays)``), which
Numba unboxes ~2.5x faster (a NamedTuple's type is looked up in Python, a tuple's in C); the
``SearchTree`` wrapper passes the plain tuple.

Value conventions: a node's Q is ``value_sum / (visits + virtual_loss)`` (mean backup; a simulation
in flight counts as a visit of value 0, which steers concurrent selections apart) or ``value_max``
(max backup). Unvisited children get ``fpu`` (first-play urgency) as their Q.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from tts._compat import guard_llvmlite_dunder_lookup
from tts.tree.arrays import (
    DEPTH,
    EXPANDED,
    FIRST_CHILD,
    LAST_CHILD,
    NEXT_SIBLING,
    NO_NODE,
    NO_PARENT,
    NUM_CHILDREN,
    PARENT,
    PRIOR,
    PRUNED,
    REWARD,
    TERMINAL,
    TOKENS,
    VALUE_MAX,
    VALUE_SUM,
    VIRTUAL_LOSS,
    VISITS,
    TreeArrays,
)

guard_llvmlite_dunder_lookup()  # Numba is loaded now; see the function for why


@numba.njit(cache=True)
def check_node(tree: TreeArrays, node: int) -> None:
    ints, floats, flags, size = tree
    if node < 0 or node >= size[0]:
        raise IndexError("node id out of range (valid ids are 0..size-1)")


@numba.njit(cache=True, inline="always")
def _append_child(ints, floats, flags, p, c, prior, tokens, terminal):
    """Initialise slot ``c`` as the last child of ``p`` (bounds already checked)."""
    ints[PARENT, c] = p
    ints[FIRST_CHILD, c] = NO_NODE
    ints[LAST_CHILD, c] = NO_NODE
    ints[NEXT_SIBLING, c] = NO_NODE
    ints[NUM_CHILDREN, c] = 0
    ints[DEPTH, c] = ints[DEPTH, p] + 1
    ints[VISITS, c] = 0
    ints[VIRTUAL_LOSS, c] = 0
    ints[TOKENS, c] = tokens
    floats[VALUE_SUM, c] = 0.0
    floats[VALUE_MAX, c] = -np.inf
    floats[PRIOR, c] = prior
    floats[REWARD, c] = np.nan
    flags[c] = TERMINAL if terminal else np.uint8(0)
    if ints[LAST_CHILD, p] == NO_NODE:
        ints[FIRST_CHILD, p] = c
    else:
        ints[NEXT_SIBLING, ints[LAST_CHILD, p]] = c
    ints[LAST_CHILD, p] = c
    ints[NUM_CHILDREN, p] += 1
    flags[p] |= EXPANDED


@numba.njit(cache=True)
def _check_room(tree, n):
    ints, floats, flags, size = tree
    if size[0] + n > flags.shape[0]:
        raise IndexError("tree capacity exceeded: grow the tree before adding children")


@numba.njit(cache=True)
def add_children(tree, parents, priors, tokens, terminal):
    """Append one child per entry of ``parents`` (int array); returns the new ids (int32).

    Children of one parent keep the order they are given in. The caller ensures capacity
    (``grow``); running out raises instead of writing past the arrays.
    """
    ints, floats, flags, size = tree
    n = parents.shape[0]
    if priors.shape[0] != n or tokens.shape[0] != n or terminal.shape[0] != n:
        raise ValueError("parents, priors, tokens and terminal must have the same length")
    _check_room(tree, n)
    for i in range(n):
        check_node(tree, parents[i])
        if flags[parents[i]] & PRUNED:
            raise ValueError("cannot add a child to a pruned node")
    start = size[0]
    ids = np.empty(n, dtype=np.int32)
    for i in range(n):
        _append_child(ints, floats, flags, parents[i], start + i, priors[i], tokens[i], terminal[i])
        ids[i] = start + i
    size[0] = start + n
    return ids


@numba.njit(cache=True)
def expand(tree, node, priors, tokens, terminal):
    """Give ``node`` one child per prior; returns the first new id (the others follow it:
    ids ``first .. first + len(priors) - 1``). The one-node form of ``add_children``, without
    an id array to allocate, for the MCTS inner loop."""
    ints, floats, flags, size = tree
    n = priors.shape[0]
    if tokens.shape[0] != n or terminal.shape[0] != n:
        raise ValueError("priors, tokens and terminal must have the same length")
    check_node(tree, node)
    _check_room(tree, n)
    if flags[node] & PRUNED:
        raise ValueError("cannot add a child to a pruned node")
    start = size[0]
    for i in range(n):
        _append_child(ints, floats, flags, node, start + i, priors[i], tokens[i], terminal[i])
    size[0] = start + n
    return start


@numba.njit(cache=True, inline="always")
def _q(tree, node, fpu, use_max):
    ints, floats, flags, size = tree
    n = ints[VISITS, node] + ints[VIRTUAL_LOSS, node]
    if ints[VISITS, node] == 0:
        return fpu
    if use_max:
        return floats[VALUE_MAX, node]
    return floats[VALUE_SUM, node] / n


@numba.njit(cache=True)
def select_puct(tree, root, c_puct, fpu, use_max):
    """Descend from ``root`` by PUCT, ``Q + c_puct * P * sqrt(N_parent) / (1 + N_child)``.

    Stops at a node with no live children or a terminal node and returns it. Ties go to the
    earlier child. ``N`` counts virtual loss, so concurrent selections spread out.
    """
    ints, floats, flags, size = tree
    check_node(tree, root)
    node = root
    while True:
        if flags[node] & TERMINAL:
            return node
        n_parent = ints[VISITS, node] + ints[VIRTUAL_LOSS, node]
        sqrt_n = math.sqrt(max(n_parent, 1))
        best = NO_NODE
        best_score = -np.inf
        child = ints[FIRST_CHILD, node]
        while child != NO_NODE:
            if not flags[child] & PRUNED:
                n_child = ints[VISITS, child] + ints[VIRTUAL_LOSS, child]
                score = _q(tree, child, fpu, use_max) + c_puct * floats[PRIOR, child] * sqrt_n / (1.0 + n_child)
                if best == NO_NODE or score > best_score:
                    best = child
                    best_score = score
            child = ints[NEXT_SIBLING, child]
        if best == NO_NODE:
            return node
        node = best


@numba.njit(cache=True)
def select_uct(tree, root, c_uct, use_max):
    """Descend from ``root`` by UCT, ``Q + c_uct * sqrt(ln N_parent / N_child)``.

    An unvisited child (no visits, none in flight) is taken first, in child order.
    """
    ints, floats, flags, size = tree
    check_node(tree, root)
    node = root
    while True:
        if flags[node] & TERMINAL:
            return node
        n_parent = ints[VISITS, node] + ints[VIRTUAL_LOSS, node]
        log_n = math.log(max(n_parent, 1))
        best = NO_NODE
        best_score = -np.inf
        child = ints[FIRST_CHILD, node]
        while child != NO_NODE:
            if not flags[child] & PRUNED:
                n_child = ints[VISITS, child] + ints[VIRTUAL_LOSS, child]
                if n_child == 0:
                    best = child
                    break
                score = _q(tree, child, 0.0, use_max) + c_uct * math.sqrt(log_n / n_child)
                if best == NO_NODE or score > best_score:
                    best = child
                    best_score = score
            child = ints[NEXT_SIBLING, child]
        if best == NO_NODE:
            return node
        node = best


@numba.njit(cache=True)
def add_virtual_loss(tree, leaf, amount):
    """Mark ``amount`` simulations in flight on the path root..leaf."""
    ints, floats, flags, size = tree
    check_node(tree, leaf)
    node = leaf
    while node != NO_PARENT:
        ints[VIRTUAL_LOSS, node] += amount
        node = ints[PARENT, node]


@numba.njit(cache=True)
def backup(tree, leaf, value, virtual_loss):
    """Add ``value`` to every node on the path leaf..root (mean and max statistics both), and
    take back ``virtual_loss`` that selection put on the path. A non-finite value (NaN, inf)
    is refused: it would poison every ancestor's mean and make selection order-dependent."""
    ints, floats, flags, size = tree
    check_node(tree, leaf)
    if not np.isfinite(value):
        raise ValueError("backup value must be finite (got NaN or inf): check the PRM or value function")
    node = leaf
    while node != NO_PARENT:
        ints[VISITS, node] += 1
        floats[VALUE_SUM, node] += value
        floats[VALUE_MAX, node] = max(floats[VALUE_MAX, node], value)
        ints[VIRTUAL_LOSS, node] -= virtual_loss
        node = ints[PARENT, node]


@numba.njit(cache=True)
def expand_and_backup(tree, leaf, priors, tokens, terminal, value, virtual_loss):
    """What MCTS does with a model's answer for ``leaf``: add its children (``expand``) and back
    up its value (``backup``), in one call from Python instead of two. Returns the first new id."""
    first = expand(tree, leaf, priors, tokens, terminal)
    backup(tree, leaf, value, virtual_loss)
    return first


@numba.njit(cache=True)
def select_puct_batch(tree, root, num, c_puct, fpu, use_max, virtual_loss):
    """``num`` PUCT selections, each adding ``virtual_loss`` to its path before the next, so
    one round gathers many distinct leaves for a single batched model call."""
    ints, floats, flags, size = tree
    leaves = np.empty(num, dtype=np.int32)
    for i in range(num):
        leaf = select_puct(tree, root, c_puct, fpu, use_max)
        add_virtual_loss(tree, leaf, virtual_loss)
        leaves[i] = leaf
    return leaves


@numba.njit(cache=True)
def backup_batch(tree, leaves, values, virtual_loss):
    ints, floats, flags, size = tree
    if leaves.shape[0] != values.shape[0]:
        raise ValueError("leaves and values must have the same length")
    for i in range(leaves.shape[0]):  # check everything before changing anything
        check_node(tree, leaves[i])
        if not np.isfinite(values[i]):
            raise ValueError("backup value must be finite (got NaN or inf): check the PRM or value function")
    for i in range(leaves.shape[0]):
        backup(tree, leaves[i], values[i], virtual_loss)


@numba.njit(cache=True, inline="always")
def _worse(key_a, id_a, key_b, id_b):
    """Ordering of the top-k: higher key first, then lower id."""
    return key_a < key_b or (key_a == key_b and id_a > id_b)


@numba.njit(cache=True)
def _sift_down(keys, ids, pos, n):
    while True:
        left = 2 * pos + 1
        if left >= n:
            return
        worst = left
        right = left + 1
        if right < n and _worse(keys[right], ids[right], keys[left], ids[left]):
            worst = right
        if _worse(keys[worst], ids[worst], keys[pos], ids[pos]):
            keys[pos], keys[worst] = keys[worst], keys[pos]
            ids[pos], ids[worst] = ids[worst], ids[pos]
            pos = worst
        else:
            return


@numba.njit(cache=True)
def top_k_frontier(tree, score, k, include_terminal):
    """The ``k`` frontier nodes with the highest ``score`` (an array indexed by node id), best
    first, ties to the lower id. The frontier is every live node without children; terminal
    nodes only if ``include_terminal``. NaN scores (unscored) rank below every number."""
    ints, floats, flags, size = tree
    if score.shape[0] < size[0]:
        raise IndexError("score array is shorter than the number of nodes")
    if k <= 0:
        return np.empty(0, dtype=np.int32)
    # A bounded min-heap whose top is the worst kept node: O(n log k).
    keys = np.empty(k, dtype=np.float64)
    ids = np.empty(k, dtype=np.int32)
    n = 0
    for node in range(size[0]):
        if ints[NUM_CHILDREN, node] != 0 or flags[node] & PRUNED:
            continue
        if not include_terminal and flags[node] & TERMINAL:
            continue
        key = score[node]
        if math.isnan(key):
            key = -np.inf
        if n < k:
            keys[n] = key
            ids[n] = node
            n += 1
            pos = n - 1
            while pos > 0:  # sift up
                up = (pos - 1) // 2
                if _worse(keys[pos], ids[pos], keys[up], ids[up]):
                    keys[pos], keys[up] = keys[up], keys[pos]
                    ids[pos], ids[up] = ids[up], ids[pos]
                    pos = up
                else:
                    break
        elif _worse(keys[0], ids[0], key, node):
            keys[0] = key
            ids[0] = node
            _sift_down(keys, ids, 0, n)
    # Pop worst-first into the tail: the result is best-first.
    out = np.empty(n, dtype=np.int32)
    for i in range(n - 1, -1, -1):
        out[i] = ids[0]
        last = i
        keys[0] = keys[last]
        ids[0] = ids[last]
        _sift_down(keys, ids, 0, last)
    return out


@numba.njit(cache=True)
def path_to_root(tree, node):
    """Node ids from the root down to ``node`` (inclusive)."""
    ints, floats, flags, size = tree
    check_node(tree, node)
    path = np.empty(ints[DEPTH, node] + 1, dtype=np.int32)
    i = path.shape[0] - 1
    while node != NO_PARENT:
        path[i] = node
        node = ints[PARENT, node]
        i -= 1
    return path


@numba.njit(cache=True)
def children(tree, node):
    """Child ids of ``node`` in insertion order (pruned ones included; see ``flags``)."""
    ints, floats, flags, size = tree
    check_node(tree, node)
    out = np.empty(ints[NUM_CHILDREN, node], dtype=np.int32)
    child = ints[FIRST_CHILD, node]
    i = 0
    while child != NO_NODE:
        out[i] = child
        i += 1
        child = ints[NEXT_SIBLING, child]
    return out


@numba.njit(cache=True)
def prune_subtree(tree, node):
    """Mark ``node`` and all its descendants PRUNED; returns how many were newly pruned."""
    ints, floats, flags, size = tree
    check_node(tree, node)
    stack = np.empty(size[0], dtype=np.int32)
    stack[0] = node
    top = 1
    pruned = 0
    while top > 0:
        top -= 1
        cur = stack[top]
        if not flags[cur] & PRUNED:
            pruned += 1
            flags[cur] |= PRUNED
        child = ints[FIRST_CHILD, cur]
        while child != NO_NODE:
            stack[top] = child
            top += 1
            child = ints[NEXT_SIBLING, child]
    return pruned


@numba.njit(cache=True)
def subtree_size(tree, node, include_pruned):
    """Number of nodes in the subtree rooted at ``node`` (itself included)."""
    ints, floats, flags, size = tree
    check_node(tree, node)
    stack = np.empty(size[0], dtype=np.int32)
    stack[0] = node
    top = 1
    count = 0
    while top > 0:
        top -= 1
        cur = stack[top]
        if include_pruned or not flags[cur] & PRUNED:
            count += 1
        child = ints[FIRST_CHILD, cur]
        while child != NO_NODE:
            stack[top] = child
            top += 1
            child = ints[NEXT_SIBLING, child]
    return count


@numba.njit(cache=True)
def max_depth(tree, include_pruned):
    """Depth of the deepest node in use (0 for a lone root)."""
    ints, floats, flags, size = tree
    best = 0
    for node in range(size[0]):
        if (include_pruned or not flags[node] & PRUNED) and ints[DEPTH, node] > best:
            best = ints[DEPTH, node]
    return best
