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


class TreeArrays(NamedTuple):
    """Per-node fields; every array has shape ``[capacity]`` except ``size`` (shape ``[1]``)."""

    size: np.ndarray  # [1] int64: number of nodes in use; ids 0..size-1 are valid
    parent: np.ndarray  # [C] int32: parent id, NO_PARENT for the root
    first_child: np.ndarray  # [C] int32: first child id or NO_NODE
    last_child: np.ndarray  # [C] int32: last child id (O(1) append keeps insertion order)
    next_sibling: np.ndarray  # [C] int32: next sibling id or NO_NODE
    num_children: np.ndarray  # [C] int32
    depth: np.ndarray  # [C] int32: root has depth 0
    visits: np.ndarray  # [C] int32: completed backups through the node
    virtual_loss: np.ndarray  # [C] int32: simulations in flight through the node
    value_sum: np.ndarray  # [C] float64: sum of backed-up values (mean backup)
    value_max: np.ndarray  # [C] float64: max backed-up value (max backup); -inf if none
    prior: np.ndarray  # [C] float64: policy prior P(node | parent)
    reward: np.ndarray  # [C] float64: PRM reward of the node's step; NaN until scored
    tokens: np.ndarray  # [C] int32: tokens in the node's step
    flags: np.ndarray  # [C] uint8: TERMINAL | PRUNED | EXPANDED

    @property
    def capacity(self) -> int:
        return int(self.parent.shape[0])

    @property
    def num_nodes(self) -> int:
        return int(self.size[0])


_FIELD_DTYPES = {
    "parent": INT,
    "first_child": INT,
    "last_child": INT,
    "next_sibling": INT,
    "num_children": INT,
    "depth": INT,
    "visits": INT,
    "virtual_loss": INT,
    "value_sum": FLOAT,
    "value_max": FLOAT,
    "prior": FLOAT,
    "reward": FLOAT,
    "tokens": INT,
    "flags": np.uint8,
}

# Value an unused slot holds, so that a node is fully initialised the moment it is allocated.
_FIELD_FILL = {
    "parent": NO_PARENT,
    "first_child": NO_NODE,
    "last_child": NO_NODE,
    "next_sibling": NO_NODE,
    "value_max": -np.inf,
    "prior": 1.0,
    "reward": np.nan,
}


def _field(name: str, capacity: int) -> np.ndarray:
    return np.full(capacity, _FIELD_FILL.get(name, 0), dtype=_FIELD_DTYPES[name])


def new_tree(capacity: int = 1024) -> TreeArrays:
    """A tree holding only the root (id ``ROOT``), with room for ``capacity`` nodes."""
    if capacity < 1:
        raise ValueError(f"tree capacity must be >= 1, got {capacity}")
    tree = TreeArrays(
        size=np.ones(1, dtype=np.int64), **{name: _field(name, capacity) for name in _FIELD_DTYPES}
    )
    tree.depth[ROOT] = 0
    return tree


def grow(tree: TreeArrays, min_capacity: int) -> TreeArrays:
    """A copy of ``tree`` with capacity >= ``min_capacity`` (doubling, so appends stay amortised O(1)).

    Returns ``tree`` itself when it is already large enough.
    """
    if min_capacity <= tree.capacity:
        return tree
    capacity = max(min_capacity, 2 * tree.capacity)
    fields = {}
    for name in _FIELD_DTYPES:
        old = getattr(tree, name)
        new = _field(name, capacity)
        new[: old.shape[0]] = old
        fields[name] = new
    return TreeArrays(size=tree.size.copy(), **fields)
