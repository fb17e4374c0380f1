"""Tree kernel throughput: Numba vs the plain-Python reference, side by side in one run.

    python -m benchmarks.tree_ops [--sizes 1000 10000 100000 1000000] [--seconds 0.5]

For each tree size it times, on the same random tree:
  * select+backup: one PUCT selection then one backup, called from Python (a sequential MCTS);
  * batched select+backup: 64 selections with virtual loss, then 64 backups, in two calls (how
    the search core runs a round of MCTS); reported per simulation;
  * MCTS iteration: select, then expand 4 children + backup (one call), per iteration (model
    calls excluded);
  * MCTS round: 64 selections with virtual loss, expansion of the distinct leaves, 64 backups
    (three calls per round, as the search core runs MCTS); reported per iteration;
  * top-k frontier: the 64 best leaves by score over the whole tree.
and prints operations/s for both implementations with their ratio. Then the memory of a
``SearchTree`` of ``--memory-nodes`` nodes (arrays, step texts, payloads), with what eager
per-node payload dicts would add beside it.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from tts.tree import SearchTree, kernels, new_tree, reference
from tts.tree.arrays import TreeArrays

BATCH = 64
EXPAND = 4
TOP_K = 64


def random_tree(num_nodes: int, seed: int = 0, spare: int = 0) -> TreeArrays:
    """A random recursive tree (each new node under a uniformly chosen earlier node), visited and
    scored, so selection has statistics to read; ``spare`` extra capacity for expansions."""
    rng = np.random.default_rng(seed)
    tree = new_tree(num_nodes + spare)
    packed = tuple(tree)
    while tree.size[0] < num_nodes:
        size = int(tree.size[0])
        m = min(size, num_nodes - size)
        parents = rng.integers(0, size, m).astype(np.int32)
        kernels.add_children(packed, parents, rng.random(m), np.ones(m, np.int32), np.zeros(m, bool))
    for leaf in rng.integers(0, num_nodes, num_nodes // 4):
        kernels.backup(packed, int(leaf), float(rng.random()), 0)
    tree.reward[:num_nodes] = rng.random(num_nodes)
    return tree


def rate(fn: Callable[[], int], seconds: float, max_reps: int = 1_000_000) -> float:
    """Operations per second of ``fn`` (which returns how many operations it did)."""
    fn()  # warm-up (and JIT compile)
    ops, reps, start = 0, 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds and reps < max_reps:
        ops += fn()
        reps += 1
    return ops / elapsed


def copy_tree(tree: TreeArrays) -> TreeArrays:
    return TreeArrays(*(a.copy() for a in tree))


def workloads(impl, tree):
    """The four timed loops for one implementation (``kernels`` or ``reference``)."""
    priors, tokens, terminal = np.full(EXPAND, 1 / EXPAND), np.ones(EXPAND, np.int32), np.zeros(EXPAND, bool)
    values = np.random.default_rng(1).random(BATCH)

    def select_backup():
        leaf = impl.select_puct(tree, 0, 1.25, 0.5, False)
        impl.backup(tree, leaf, 0.5, 0)
        return 1

    def batched():
        leaves = impl.select_puct_batch(tree, 0, BATCH, 1.25, 0.5, False, 1)
        impl.backup_batch(tree, leaves, values, 1)
        return BATCH

    def mcts_iteration():
        leaf = impl.select_puct(tree, 0, 1.25, 0.5, False)
        # ... the model proposes children and values the leaf ...
        impl.expand_and_backup(tree, leaf, priors, tokens, terminal, 0.5, 0)
        return 1

    round_priors = np.full(BATCH * EXPAND, 1 / EXPAND)
    round_tokens = np.ones(BATCH * EXPAND, np.int32)
    round_terminal = np.zeros(BATCH * EXPAND, bool)

    def mcts_round():
        leaves = impl.select_puct_batch(tree, 0, BATCH, 1.25, 0.5, False, 1)
        fresh = np.unique(leaves)  # two simulations may reach the same leaf: expand it once
        m = fresh.size * EXPAND
        impl.add_children(tree, np.repeat(fresh, EXPAND), round_priors[:m], round_tokens[:m], round_terminal[:m])
        impl.backup_batch(tree, leaves, values, 1)
        return BATCH

    def top_k():
        impl.top_k_frontier(tree, tree[1][3], TOP_K, False)
        return 1

    return {"select+backup": select_backup, f"batched select+backup (x{BATCH})": batched,
            f"MCTS iteration (expand {EXPAND})": mcts_iteration,
            f"MCTS round, {BATCH} in flight (per iteration)": mcts_round, f"top-{TOP_K} frontier": top_k}


def memory(num_nodes: int) -> None:
    """MiB held by a SearchTree of ``num_nodes`` nodes grown by batched expansions (traced
    allocations, so the figure is the tree's own, not the process's)."""
    rng = np.random.default_rng(0)
    tracemalloc.start()
    tree = SearchTree(capacity=1024)
    while len(tree) < num_nodes:
        m = min(len(tree) * 4, num_nodes - len(tree), 65_536)
        parents = rng.integers(0, len(tree), m)
        tree.add_children(parents, ["step"] * m, priors=rng.random(m))
    total = tracemalloc.get_traced_memory()[0]
    eager = [{} for _ in range(num_nodes)]  # what one empty payload dict per node would cost
    with_dicts = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    arrays = sum(a.nbytes for a in tree.arrays)
    mib = 2**20
    print(f"\n| nodes | SearchTree MiB | of which arrays MiB | payload dicts | eager payload dicts would add MiB |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {num_nodes:,} | {total / mib:.1f} | {arrays / mib:.1f} | {len(tree.data)} | "
          f"{(with_dicts - total) / mib:.1f} |")
    del eager


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    parser.add_argument("--memory-nodes", type=int, default=1_000_000, help="nodes of the memory measurement (0: skip)")
    args = parser.parse_args(argv)

    print(f"# tree_ops on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"numba {__import__('numba').__version__}, python {platform.python_version()}")
    print("| nodes | workload | numba ops/s | python ops/s | ratio | numba us/op |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in args.sizes:
        # Room for every expansion the timed MCTS loop can make (~4 nodes per iteration).
        base = random_tree(size, seed=size, spare=int(EXPAND * 1.5e6 * args.seconds) + 1000)
        for name in workloads(kernels, base):
            # Each workload starts from its own copy of the same tree: the MCTS loop grows it.
            f = rate(workloads(kernels, tuple(copy_tree(base)))[name], args.seconds)
            s = rate(workloads(reference, copy_tree(base))[name], args.seconds)
            print(f"| {size:,} | {name} | {f:,.0f} | {s:,.0f} | {f / s:,.0f}x | {1e6 / f:.2f} |", flush=True)
        del base
    if args.memory_nodes:
        memory(args.memory_nodes)


if __name__ == "__main__":
    main()
