"""Every Numba kernel agrees with its plain-Python reference on random trees."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts.tree import PRUNED, TERMINAL, grow, kernels, new_tree, reference
from tts.tree.arrays import TreeArrays


def _copy(tree: TreeArrays) -> TreeArrays:
    return TreeArrays(*(a.copy() for a in tree))


def _assert_same(a: TreeArrays, b: TreeArrays) -> None:
    for name, x, y in zip(TreeArrays._fields, a, b, strict=True):
        np.testing.assert_array_equal(x, y, err_msg=name)


@st.composite
def random_trees(draw, max_nodes: int = 60):
    """A tree grown by random batched expansions, with visits, rewards, terminal and pruned nodes."""
    n = draw(st.integers(1, max_nodes))
    tree = new_tree(n + 1)
    while tree.size[0] < n:
        size = int(tree.size[0])
        batch = draw(st.integers(1, min(8, n - size)))
        parents = np.array(draw(st.lists(st.integers(0, size - 1), min_size=batch, max_size=batch)), np.int32)
        parents = parents[(tree.flags[parents] & (PRUNED | TERMINAL)) == 0]
        if parents.size == 0:
            break
        m = parents.size
        priors = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=m, max_size=m)))
        tokens = np.array(draw(st.lists(st.integers(1, 50), min_size=m, max_size=m)), np.int32)
        terminal = np.array(draw(st.lists(st.booleans(), min_size=m, max_size=m)))
        kernels.add_children(tree, parents, priors, tokens, terminal)
    size = int(tree.size[0])
    for _ in range(draw(st.integers(0, 30))):
        leaf = draw(st.integers(0, size - 1))
        value = draw(st.floats(0.0, 1.0))
        kernels.backup(tree, leaf, value, 0)
    rewards = draw(st.lists(st.one_of(st.floats(0, 1), st.just(float("nan"))), min_size=size, max_size=size))
    tree.reward[:size] = rewards
    if size > 1 and draw(st.booleans()):
        kernels.prune_subtree(tree, draw(st.integers(1, size - 1)))
    return tree


@given(random_trees(), st.floats(0.1, 4.0), st.floats(0.0, 1.0), st.booleans())
def test_select_puct_agrees(tree, c_puct, fpu, use_max):
    assert kernels.select_puct(tree, 0, c_puct, fpu, use_max) == reference.select_puct(tree, 0, c_puct, fpu, use_max)


@given(random_trees(), st.floats(0.1, 4.0), st.booleans())
def test_select_uct_agrees(tree, c_uct, use_max):
    assert kernels.select_uct(tree, 0, c_uct, use_max) == reference.select_uct(tree, 0, c_uct, use_max)


@given(random_trees(), st.integers(1, 12), st.integers(1, 3), st.booleans(), st.data())
def test_batched_select_and_backup_agree(tree, num, vloss, use_max, data):
    fast, slow = _copy(tree), _copy(tree)
    leaves_fast = kernels.select_puct_batch(fast, 0, num, 1.5, 0.5, use_max, vloss)
    leaves_slow = reference.select_puct_batch(slow, 0, num, 1.5, 0.5, use_max, vloss)
    assert leaves_fast.tolist() == leaves_slow
    _assert_same(fast, slow)
    values = np.array(data.draw(st.lists(st.floats(0, 1), min_size=num, max_size=num)))
    kernels.backup_batch(fast, leaves_fast, values, vloss)
    reference.backup_batch(slow, leaves_slow, values, vloss)
    _assert_same(fast, slow)
    assert fast.virtual_loss[: fast.size[0]].sum() == 0  # every in-flight simulation was backed up


@given(random_trees(), st.data())
def test_add_children_agrees(tree, data):
    size = int(tree.size[0])
    live = [i for i in range(size) if not tree.flags[i] & PRUNED]
    parents = np.array(data.draw(st.lists(st.sampled_from(live), min_size=1, max_size=6)), np.int32)
    m = parents.size
    fast, slow = grow(_copy(tree), size + m), grow(_copy(tree), size + m)
    priors, tokens, terminal = np.full(m, 0.25), np.arange(m, dtype=np.int32), np.zeros(m, bool)
    ids_fast = kernels.add_children(fast, parents, priors, tokens, terminal)
    ids_slow = reference.add_children(slow, parents, priors, tokens, terminal)
    assert ids_fast.tolist() == ids_slow
    _assert_same(fast, slow)
    for p in set(parents.tolist()):
        assert kernels.children(fast, p).tolist() == reference.children(slow, p)


@given(random_trees(), st.integers(0, 20), st.booleans(), st.booleans())
def test_top_k_frontier_agrees(tree, k, include_terminal, use_ties):
    score = tree.reward.copy()
    if use_ties:
        score = np.round(score * 2) / 2  # many equal scores: ties must go to the lower id
    got = kernels.top_k_frontier(tree, score, k, include_terminal)
    assert got.tolist() == reference.top_k_frontier(tree, score, k, include_terminal)


@given(random_trees(), st.data())
def test_paths_sizes_and_prune_agree(tree, data):
    size = int(tree.size[0])
    node = data.draw(st.integers(0, size - 1))
    assert kernels.path_to_root(tree, node).tolist() == reference.path_to_root(tree, node)
    for include_pruned in (True, False):
        assert kernels.subtree_size(tree, node, include_pruned) == reference.subtree_size(tree, node, include_pruned)
        assert kernels.max_depth(tree, include_pruned) == reference.max_depth(tree, include_pruned)
    fast, slow = _copy(tree), _copy(tree)
    assert kernels.prune_subtree(fast, node) == reference.prune_subtree(slow, node)
    _assert_same(fast, slow)


def test_backup_keeps_mean_and_max():
    tree = new_tree(8)
    (a, b) = kernels.add_children(tree, np.array([0, 0], np.int32), np.ones(2), np.ones(2, np.int32), np.zeros(2, bool))
    kernels.backup(tree, a, 0.2, 0)
    kernels.backup(tree, b, 0.8, 0)
    kernels.backup(tree, b, 0.4, 0)
    assert tree.visits[0] == 3 and tree.value_sum[0] == pytest.approx(1.4)
    assert tree.value_max[0] == 0.8 and tree.value_max[b] == 0.8 and tree.value_max[a] == 0.2


def test_puct_prefers_prior_then_value():
    tree = new_tree(8)
    lo, hi = kernels.add_children(tree, np.array([0, 0], np.int32), np.array([0.1, 0.9]), np.ones(2, np.int32), np.zeros(2, bool))
    assert kernels.select_puct(tree, 0, 1.0, 0.0, False) == hi
    for _ in range(20):  # a high-prior child that keeps failing loses to an unexplored one
        kernels.backup(tree, hi, 0.0, 0)
    assert kernels.select_puct(tree, 0, 1.0, 0.0, False) == lo


@pytest.mark.parametrize("bad", [-1, 3, 10**6])
def test_out_of_range_ids_raise(bad):
    tree = new_tree(8)
    kernels.add_children(tree, np.array([0, 0], np.int32), np.ones(2), np.ones(2, np.int32), np.zeros(2, bool))
    before = _copy(tree)
    for call in (
        lambda: kernels.backup(tree, bad, 1.0, 0),
        lambda: kernels.select_puct(tree, bad, 1.0, 0.0, False),
        lambda: kernels.select_uct(tree, bad, 1.0, False),
        lambda: kernels.path_to_root(tree, bad),
        lambda: kernels.prune_subtree(tree, bad),
        lambda: kernels.subtree_size(tree, bad, True),
        lambda: kernels.children(tree, bad),
        lambda: kernels.add_virtual_loss(tree, bad, 1),
        lambda: kernels.expand(tree, bad, np.ones(1), np.ones(1, np.int32), np.zeros(1, bool)),
        lambda: kernels.add_children(tree, np.array([0, bad], np.int32), np.ones(2), np.ones(2, np.int32), np.zeros(2, bool)),
        lambda: kernels.backup_batch(tree, np.array([1, bad], np.int32), np.ones(2), 0),
    ):
        with pytest.raises(IndexError):
            call()
    _assert_same(tree, before)  # nothing was written before the check fired


def test_capacity_overflow_raises_instead_of_writing():
    tree = new_tree(2)
    with pytest.raises(IndexError, match="capacity"):
        kernels.add_children(tree, np.zeros(3, np.int32), np.ones(3), np.ones(3, np.int32), np.zeros(3, bool))
    assert tree.size[0] == 1


def test_short_score_array_raises():
    tree = new_tree(8)
    kernels.add_children(tree, np.zeros(3, np.int32), np.ones(3), np.ones(3, np.int32), np.zeros(3, bool))
    with pytest.raises(IndexError):
        kernels.top_k_frontier(tree, np.zeros(2), 2, False)


@given(random_trees(), st.data())
def test_expand_agrees_with_add_children(tree, data):
    size = int(tree.size[0])
    live = [i for i in range(size) if not tree.flags[i] & PRUNED]
    node = data.draw(st.sampled_from(live))
    k = data.draw(st.integers(1, 5))
    priors, tokens, terminal = np.linspace(0.1, 0.9, k), np.arange(k, dtype=np.int32), np.zeros(k, bool)
    fast, slow, batch = (grow(_copy(tree), size + 2 * k) for _ in range(3))
    first = kernels.expand(fast, node, priors, tokens, terminal)
    assert first == reference.expand(slow, node, priors, tokens, terminal) == size
    kernels.add_children(batch, np.full(k, node, np.int32), priors, tokens, terminal)
    _assert_same(fast, slow)
    _assert_same(fast, batch)
    assert kernels.expand_and_backup(fast, node, priors, tokens, terminal, 0.7, 0) == reference.expand_and_backup(
        slow, node, priors, tokens, terminal, 0.7, 0)
    _assert_same(fast, slow)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@given(tree=random_trees(), data=st.data())
def test_non_finite_values_are_refused_by_kernel_and_reference_alike(bad, tree, data):
    size = int(tree.size[0])
    leaf = data.draw(st.integers(0, size - 1))
    fast, slow = _copy(tree), _copy(tree)
    for impl, t in ((kernels, fast), (reference, slow)):
        with pytest.raises(ValueError, match="finite"):
            impl.backup(t, leaf, bad, 0)
        # A batch with one bad value changes nothing, not even the good leaves before it.
        with pytest.raises(ValueError, match="finite"):
            impl.backup_batch(t, np.array([leaf, leaf], np.int32), np.array([0.5, bad]), 0)
    _assert_same(fast, tree)
    _assert_same(slow, tree)
