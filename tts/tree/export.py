"""Export a ``SearchTree`` to networkx for drawing and analysis (never on the hot path)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import networkx as nx

from tts.tree.arrays import EXPANDED, NO_PARENT, PRUNED, TERMINAL

if TYPE_CHECKING:
    from tts.tree.tree import SearchTree


def _nan_to_none(x: float) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else x


def to_networkx(tree: SearchTree, include_pruned: bool = True) -> nx.DiGraph:
    """A directed graph parent -> child; node attributes carry every array field and the text."""
    a = tree.arrays
    n = a.num_nodes
    graph = nx.DiGraph()
    # One vectorised read per field instead of per-node array access.
    cols = {name: getattr(a, name)[:n].tolist() for name in (
        "parent", "depth", "visits", "value_sum", "value_max", "prior", "reward", "tokens", "flags")}
    for node in range(n):
        flags = cols["flags"][node]
        if flags & PRUNED and not include_pruned:
            continue
        visits = cols["visits"][node]
        graph.add_node(
            node,
            text=tree.texts[node],
            depth=cols["depth"][node],
            visits=visits,
            value=cols["value_sum"][node] / visits if visits else None,
            value_max=_nan_to_none(cols["value_max"][node]),
            prior=cols["prior"][node],
            reward=_nan_to_none(cols["reward"][node]),
            tokens=cols["tokens"][node],
            terminal=bool(flags & TERMINAL),
            pruned=bool(flags & PRUNED),
            expanded=bool(flags & EXPANDED),
        )
        parent = cols["parent"][node]
        if parent != NO_PARENT and parent in graph:
            graph.add_edge(parent, node)
    return graph
