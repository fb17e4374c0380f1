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


def test_a_nan_value_cannot_win_every_selection():
    tree = SearchTree()
    tree.add_children([0] * 3, list("abc"), priors=[1 / 3] * 3)
    with pytest.raises(ValueError, match="finite"):
        tree.backup(1, float("nan"))
    with pytest.raises(ValueError, match="finite"):
        tree.backup_batch(np.array([2, 3]), np.array([0.5, np.inf]))
    assert tree.arrays.visits[:4].tolist() == [0, 0, 0, 0]  # nothing was backed up
    for reference in (False, True):
        t = SearchTree(reference=reference)
        t.add_children([0] * 3, list("abc"), priors=[1 / 3] * 3)
        with pytest.raises(ValueError, match="finite"):
            t.backup(1, float("nan"))


@pytest.mark.parametrize("reference", [False, True])
def test_all_zero_priors_fall_back_to_uniform_and_explore(reference):
    tree = SearchTree(reference=reference)
    kids = tree.add_children([0] * 3, list("abc"), priors=[0.0, 0.0, 0.0])
    assert tree.arrays.prior[kids].tolist() == pytest.approx([1 / 3] * 3)
    # Child a pays 0.1 and its untried siblings would pay 0.9: PUCT must try them.
    for _ in range(20):
        leaf = tree.select_puct(c_puct=1.25)
        tree.backup(leaf, 0.1 if leaf == kids[0] else 0.9)
    assert (tree.arrays.visits[kids] > 0).all() and tree.arrays.visits[kids[0]] < 10


def test_priors_are_normalised_per_expansion_and_checked():
    tree = SearchTree()
    a = tree.add_children([0, 0, 0], list("abc"), priors=[2.0, 1.0, 1.0])
    b = tree.add_children([a[0], a[0], a[1]], list("def"), priors=[3.0, 1.0, 0.0])
    assert tree.arrays.prior[a].tolist() == pytest.approx([0.5, 0.25, 0.25])
    assert tree.arrays.prior[b].tolist() == pytest.approx([0.75, 0.25, 1.0])  # e alone: uniform over one
    for bad in ([-0.1, 1.0], [float("nan"), 1.0], [float("inf"), 1.0]):
        with pytest.raises(ValueError, match="priors"):
            tree.add_children([0, 0], ["x", "y"], priors=bad)
    assert len(tree) == 7


def test_payloads_are_made_only_where_used():
    tree = SearchTree()
    ids = tree.add_children([0] * 1000, ["s"] * 1000)
    assert tree.data == {}
    tree.payload(int(ids[3]))["answer"] = "7"
    more = tree.add_children([0, 0], ["t", "u"], data=[{}, {"k": 1}])
    assert set(tree.data) == {int(ids[3]), int(more[1])} and tree.payload(int(more[1])) == {"k": 1}
