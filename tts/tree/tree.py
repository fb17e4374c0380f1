"""``SearchTree``: the arrays plus the per-node payload (step text), with a method per kernel.

Strategies use this object; hot loops may call the kernels on ``tree.arrays`` directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tts.tree import kernels, reference
from tts.tree.arrays import PRUNED, ROOT, TERMINAL, TreeArrays, grow, new_tree


class SearchTree:
    """A growable search tree. Node 0 is the root (the problem, no step text)."""

    def __init__(self, capacity: int = 1024, root_text: str = "", reference: bool = False) -> None:
        """``reference=True`` runs the search verbs (selection, virtual loss, backup) through the
        plain-Python references instead of the Numba kernels: same results, for checking a
        strategy's bookkeeping end to end."""
        self.reference = reference
        self._set_arrays(new_tree(capacity))
        self.texts: list[str] = [root_text]
        # Free-form per-node payload (token ids, log-probs, answers...), kept off the hot arrays
        # and made only for the nodes that have one: an empty dict per node cost 59 MiB at 10^6.
        self.data: dict[int, dict[str, Any]] = {}

    def _set_arrays(self, arrays: TreeArrays) -> None:
        self.arrays = arrays
        self._packed = tuple(arrays)  # what kernels get: a plain tuple dispatches faster

    def __len__(self) -> int:
        return self.arrays.num_nodes

    @property
    def capacity(self) -> int:
        return self.arrays.capacity

    def add_children(
        self,
        parents: Sequence[int] | np.ndarray,
        texts: Sequence[str],
        priors: Sequence[float] | np.ndarray | None = None,
        tokens: Sequence[int] | np.ndarray | None = None,
        terminal: Sequence[bool] | np.ndarray | None = None,
        data: Sequence[dict[str, Any]] | None = None,
    ) -> np.ndarray:
        """Add one child per parent; returns the new node ids.

        Priors are normalised per expansion: the children one call gives a parent share a prior
        mass of 1 (uniform when no priors are given or they sum to 0). Negative or non-finite
        priors are refused."""
        parents = np.asarray(parents, dtype=np.int32).reshape(-1)
        n = parents.shape[0]
        if len(texts) != n:
            raise ValueError(f"got {n} parents but {len(texts)} texts")
        priors = normalize_priors(parents, priors)
        tokens = np.zeros(n, np.int32) if tokens is None else np.asarray(tokens, dtype=np.int32)
        terminal = np.zeros(n, np.bool_) if terminal is None else np.asarray(terminal, dtype=np.bool_)
        if len(self) + n > self.capacity:
            self._set_arrays(grow(self.arrays, len(self) + n))
        ids = kernels.add_children(self._packed, parents, priors, tokens, terminal)
        self.texts.extend(texts)
        if data is not None:
            if len(data) != n:
                raise ValueError(f"got {n} parents but {len(data)} payloads")
            self.data.update((int(i), dict(d)) for i, d in zip(ids, data) if d)
        return ids

    def payload(self, node: int) -> dict[str, Any]:
        """The node's payload dict (made on first use)."""
        kernels.check_node(self._packed, node)
        return self.data.setdefault(int(node), {})

    # -- queries -------------------------------------------------------------------------
    def children(self, node: int) -> np.ndarray:
        return kernels.children(self._packed, node)

    def path(self, node: int) -> np.ndarray:
        """Node ids root..node."""
        return kernels.path_to_root(self._packed, node)

    def steps(self, node: int) -> list[str]:
        """The step texts along root..node (the root's own text excluded)."""
        return [self.texts[i] for i in self.path(node)[1:]]

    def depth(self, node: int) -> int:
        kernels.check_node(self._packed, node)
        return int(self.arrays.depth[node])

    def max_depth(self, include_pruned: bool = False) -> int:
        return int(kernels.max_depth(self._packed, include_pruned))

    def subtree_size(self, node: int = ROOT, include_pruned: bool = False) -> int:
        return int(kernels.subtree_size(self._packed, node, include_pruned))

    def is_terminal(self, node: int) -> bool:
        kernels.check_node(self._packed, node)
        return bool(self.arrays.flags[node] & TERMINAL)

    def is_pruned(self, node: int) -> bool:
        kernels.check_node(self._packed, node)
        return bool(self.arrays.flags[node] & PRUNED)

    def value(self, node: int, use_max: bool = False) -> float:
        """Mean (or max) backed-up value; NaN if never visited."""
        kernels.check_node(self._packed, node)
        a = self.arrays
        if a.visits[node] == 0:
            return float("nan")
        return float(a.value_max[node] if use_max else a.value_sum[node] / a.visits[node])

    def top_k_frontier(
        self, k: int, score: np.ndarray | None = None, include_terminal: bool = False
    ) -> np.ndarray:
        """Best ``k`` leaves by ``score`` (default: the PRM reward array)."""
        score = self.arrays.reward if score is None else np.asarray(score, dtype=np.float64)
        return kernels.top_k_frontier(self._packed, score, k, include_terminal)

    # -- search verbs --------------------------------------------------------------------
    def set_prior(self, nodes: Sequence[int] | np.ndarray, priors: Sequence[float] | np.ndarray) -> None:
        """Replace nodes' priors (a strategy that renormalises a node's children after widening)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        priors = np.asarray(priors, dtype=np.float64)
        if nodes.size and (nodes.min() < 0 or nodes.max() >= len(self)):
            raise IndexError(f"node ids must lie in 0..{len(self) - 1}")
        if priors.shape != nodes.shape or not np.all(np.isfinite(priors)) or np.any(priors < 0):
            raise ValueError("priors must be one finite, non-negative number per node")
        self.arrays.prior[nodes] = priors

    def set_reward(self, nodes: Sequence[int] | np.ndarray, rewards: Sequence[float] | np.ndarray) -> None:
        nodes = np.asarray(nodes, dtype=np.int64)
        if nodes.size and (nodes.min() < 0 or nodes.max() >= len(self)):
            raise IndexError(f"node ids must lie in 0..{len(self) - 1}")
        self.arrays.reward[nodes] = np.asarray(rewards, dtype=np.float64)

    def select_puct(self, c_puct: float = 1.0, fpu: float = 0.0, use_max: bool = False, root: int = ROOT) -> int:
        return int(kernels.select_puct(self._packed, root, c_puct, fpu, use_max))

    def select_uct(self, c_uct: float = 1.41, use_max: bool = False, root: int = ROOT) -> int:
        return int(kernels.select_uct(self._packed, root, c_uct, use_max))

    def select_puct_batch(
        self, num: int, c_puct: float = 1.0, fpu: float = 0.0, use_max: bool = False,
        virtual_loss: int = 1, root: int = ROOT,
    ) -> np.ndarray:
        if self.reference:
            return np.asarray(reference.select_puct_batch(self.arrays, root, num, c_puct, fpu, use_max, virtual_loss),
                              dtype=np.int32)
        return kernels.select_puct_batch(self._packed, root, num, c_puct, fpu, use_max, virtual_loss)

    def backup(self, leaf: int, value: float, virtual_loss: int = 0) -> None:
        if self.reference:
            reference.backup(self.arrays, int(leaf), float(value), virtual_loss)
            return
        kernels.backup(self._packed, leaf, float(value), virtual_loss)

    def backup_batch(self, leaves: np.ndarray, values: np.ndarray, virtual_loss: int = 1) -> None:
        if self.reference:
            reference.backup_batch(self.arrays, list(leaves), list(values), virtual_loss)
            return
        kernels.backup_batch(
            self._packed, np.asarray(leaves, np.int32), np.asarray(values, np.float64), virtual_loss
        )

    def release_virtual_loss(self, leaves: Sequence[int] | np.ndarray, amount: int = 1) -> None:
        """Take back selections' virtual loss without backing up a value."""
        for leaf in np.asarray(leaves, dtype=np.int64).reshape(-1):
            if self.reference:
                reference.add_virtual_loss(self.arrays, int(leaf), -amount)
            else:
                kernels.add_virtual_loss(self._packed, int(leaf), -amount)

    def prune(self, node: int) -> int:
        return int(kernels.prune_subtree(self._packed, node))

    def to_networkx(self, include_pruned: bool = True):
        from tts.tree.export import to_networkx

        return to_networkx(self, include_pruned=include_pruned)


def normalize_priors(parents: np.ndarray, priors: Sequence[float] | np.ndarray | None) -> np.ndarray:
    """Priors that sum to 1 over each parent's children in one expansion; uniform for a parent
    whose given priors are all zero (all-zero priors would leave PUCT no exploration at all)."""
    n = parents.shape[0]
    p = np.ones(n) if priors is None else np.asarray(priors, dtype=np.float64).reshape(-1)
    if p.shape[0] != n:
        raise ValueError(f"got {n} parents but {p.shape[0]} priors")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"priors must be finite and non-negative, got {p[~(np.isfinite(p) & (p >= 0))][:3].tolist()}")
    if n == 0:
        return p
    groups, inverse, counts = np.unique(parents, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=p, minlength=groups.shape[0])
    return np.where(sums[inverse] > 0, p / np.where(sums[inverse] > 0, sums[inverse], 1.0), 1.0 / counts[inverse])
