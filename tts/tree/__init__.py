"""Struct-of-arrays search tree with Numba kernels (see ``kernels``) and plain-Python references."""

from tts.tree import kernels, reference
from tts.tree.arrays import (
    EXPANDED,
    NO_NODE,
    NO_PARENT,
    PRUNED,
    ROOT,
    TERMINAL,
    TreeArrays,
    grow,
    new_tree,
)
from tts.tree.export import to_networkx
from tts.tree.tree import SearchTree

__all__ = [
    "EXPANDED",
    "NO_NODE",
    "NO_PARENT",
    "PRUNED",
    "ROOT",
    "TERMINAL",
    "SearchTree",
    "TreeArrays",
    "grow",
    "kernels",
    "new_tree",
    "reference",
    "to_networkx",
]
