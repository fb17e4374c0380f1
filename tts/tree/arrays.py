"""The search tree as a struct of preallocated arrays, indexed by node id.

A ``typing.NamedTuple`` of NumPy arrays passes straight into ``@numba.njit`` code, so kernels
take ``TreeArrays`` as their first argument and mutate it in place. Text, token ids and any
other per-node payload live outside, in Python lists indexed by the same node ids.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

ROOT = 0
NO_PARENT = -1
NO_NODE = -1  # empty child/sibling slot

# Bit flags in ``TreeArrays.flags``.
TERMINAL = np.uint8(1)  # the step ended the solution (final answer / EOS)
PRUNED = np.uint8(2)  # removed from search; kept in the arrays so ids stay stable
EXPANDED = np.uint8(4)  # children were requested for this node (it may still have none)

INT = np.int32
FLOAT = np.float64

# Rows of ``TreeArrays.ints`` (int32). Fields live as rows of two 2-D blocks rather than as
# fifteen separate arrays: each field is still contiguous (struct of arrays), but a kernel call
# unboxes four arrays instead of fifteen, which is most of a kernel call's cost (~3.4 us -> ~1 us).
PARENT = 0  # parent id, NO_PARENT for the root
FIRST_CHILD = 1  # first child id or NO_NODE
LAST_CHILD = 2  # last child id (O(1) append keeps insertion order)
NEXT_SIBLING = 3  # next sibling id or NO_NODE
NUM_CHILDREN = 4
DEPTH = 5  # root has depth 0
VISITS = 6  # completed backups through the node
VIRTUAL_LOSS = 7  # simulations in flight through the node
TOKENS = 8  # tokens in the node's step
INT_FIELDS = ("parent", "first_child", "last_child", "next_sibling", "num_children", "depth",
              "visits", "virtual_loss", "tokens")
# Rows of ``TreeArrays.floats`` (float64).
VALUE_SUM = 0  # sum of backed-up values (mean backup)
VALUE_MAX = 1  # max backed-up value (max backup); -inf if none
PRIOR = 2  # policy prior P(node | parent)
REWARD = 3  # PRM reward of the node's step; NaN until scored
FLOAT_FIELDS = ("value_sum", "value_max", "prior", "reward")

_INT_FILL = np.array([NO_PARENT, NO_NODE, NO_NODE, NO_NODE, 0, 0, 0, 0, 0], dtype=INT)
_FLOAT_FILL = np.array([0.0, -np.inf, 1.0, np.nan], dtype=FLOAT)


def _row(block: str, index: int, doc: str) -> property:
    return property(lambda self: getattr(self, block)[index], doc=doc)


class TreeArrays(NamedTuple):
    """The tree's state. ``size[0]`` nodes are in use (ids ``0..size-1``); ``C`` is the capacity.

    Kernels index the blocks with the row constants above (``tree.ints[PARENT, node]``); Python
    code may use the named row views (``tree.parent[node]``), which are views, not copies.
    """

    ints: np.ndarray  # [len(INT_FIELDS), C] int32
    floats: np.ndarray  # [len(FLOAT_FIELDS), C] float64
    flags: np.ndarray  # [C] uint8: TERMINAL | PRUNED | EXPANDED
    size: np.ndarray  # [1] int64

    parent = _row("ints", PARENT, "[C] parent id")
    first_child = _row("ints", FIRST_CHILD, "[C] first child id")
    last_child = _row("ints", LAST_CHILD, "[C] last child id")
    next_sibling = _row("ints", NEXT_SIBLING, "[C] next sibling id")
    num_children = _row("ints", NUM_CHILDREN, "[C] number of children")
    depth = _row("ints", DEPTH, "[C] depth (root 0)")
    visits = _row("ints", VISITS, "[C] completed backups")
    virtual_loss = _row("ints", VIRTUAL_LOSS, "[C] simulations in flight")
    tokens = _row("ints", TOKENS, "[C] tokens in the step")
    value_sum = _row("floats", VALUE_SUM, "[C] sum of backed-up values")
    value_max = _row("floats", VALUE_MAX, "[C] max backed-up value")
    prior = _row("floats", PRIOR, "[C] policy prior")
    reward = _row("floats", REWARD, "[C] PRM step reward (NaN: unscored)")

    @property
    def capacity(self) -> int:
        return int(self.flags.shape[0])

    @property
    def num_nodes(self) -> int:
        return int(self.size[0])


def _blocks(capacity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ints = np.repeat(_INT_FILL[:, None], capacity, axis=1)
    floats = np.repeat(_FLOAT_FILL[:, None], capacity, axis=1)
    return ints, floats, np.zeros(capacity, dtype=np.uint8)


def new_tree(capacity: int = 1024) -> TreeArrays:
    """A tree holding only the root (id ``ROOT``), with room for ``capacity`` nodes."""
    if capacity < 1:
        raise ValueError(f"tree capacity must be >= 1, got {capacity}")
    return TreeArrays(*_blocks(capacity), size=np.ones(1, dtype=np.int64))


def grow(tree: TreeArrays, min_capacity: int) -> TreeArrays:
    """A copy of ``tree`` with capacity >= ``min_capacity`` (doubling, so appends stay amortised O(1)).

    Returns ``tree`` itself when it is already large enough.
    """
    if min_capacity <= tree.capacity:
        return tree
    ints, floats, flags = _blocks(max(min_capacity, 2 * tree.capacity))
    c = tree.capacity
    ints[:, :c] = tree.ints
    floats[:, :c] = tree.floats
    flags[:c] = tree.flags
    return TreeArrays(ints, floats, flags, tree.size.copy())
