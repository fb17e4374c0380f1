import numpy as np
import pytest

from tts.tree import ROOT, SearchTree


def test_grows_past_capacity_and_keeps_everything():
    tree = SearchTree(capacity=2, root_text="problem")
    frontier = [ROOT]
    for depth in range(1, 6):
        parents = np.repeat(frontier, 2)
        frontier = tree.add_children(parents, [f"d{depth}-{i}" for i in range(len(parents))]).tolist()
    assert len(tree) == 1 + 2 + 4 + 8 + 16 + 32
    assert tree.capacity >= len(tree)
    leaf = frontier[-1]
    assert tree.depth(leaf) == 5
    assert tree.steps(leaf) == [tree.texts[i] for i in tree.path(leaf)[1:]]
    assert tree.steps(leaf)[-1] == "d5-31"


def test_to_networkx_has_fields_and_edges():
    tree = SearchTree(root_text="Q")
    a, b = tree.add_children([0, 0], ["x", "y"], priors=[0.3, 0.7], tokens=[3, 4], terminal=[False, True])
    tree.set_reward([a, b], [0.9, 0.1])
    tree.backup(b, 1.0)
    tree.prune(a)
    g = tree.to_networkx()
    assert set(g.edges) == {(0, a), (0, b)}
    assert g.nodes[b]["terminal"] and g.nodes[b]["reward"] == pytest.approx(0.1) and g.nodes[b]["visits"] == 1
    assert g.nodes[a]["pruned"] and g.nodes[0]["text"] == "Q"
    assert set(tree.to_networkx(include_pruned=False).nodes) == {0, b}


def test_payload_lengths_checked():
    tree = SearchTree()
    with pytest.raises(ValueError, match="texts"):
        tree.add_children([0, 0], ["only one"])
    with pytest.raises(IndexError):
        tree.set_reward([5], [1.0])
