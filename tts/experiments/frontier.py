"""The compute-optimal frontier (Snell et al.; Liu et al.): for each difficulty bin and compute
level, the configuration (strategy, width, PRM samples, budget) with the highest accuracy among
those that spend at most that much per problem, and what choosing per bin gains over the best
single strategy at equal compute.

Bins are the dataset's own difficulty (testbed operations, MATH level) when every problem has
one; otherwise the policy's pass rate on the problem measured from the same results (the share
of correct samples in sample pools, else of correct records): oracle difficulty, in quantiles.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tts.experiments.compute import compute
from tts.experiments.pool import expand_pools, is_pool
from tts.experiments.stats import mean_interval


@dataclass(frozen=True)
class Choice:
    config: str  # e.g. "beam n=8"
    strategy: str
    accuracy: float  # %
    low: float
    high: float
    compute: float  # mean per problem in the bin (or overall)
    problems: int


@dataclass
class Frontier:
    basis: str  # how problems were binned
    axis: str
    bins: list[str]
    levels: list[float]
    best: dict[tuple[str, float], Choice | None]  # (bin, level) -> the best configuration
    single: dict[float, Choice | None]  # level -> the best single strategy over all problems
    per_bin: dict[float, tuple[float, float, float] | None]  # level -> overall accuracy choosing per bin
    # level -> per-bin choice minus the best single configuration (points), paired bootstrap interval
    gain: dict[float, tuple[float, float, float] | None]
    strategies: dict[str, list[tuple[float, float]]]  # strategy -> its best-under-level envelope (overall)


def _config_name(r: dict, vary_budget: bool, vary_prm: bool) -> str:
    name = f"{r['strategy']} n={r['n']}"
    if vary_budget:
        name += f" b={r['budget']}"
    if vary_prm:
        name += f" {r['prm']} x{r['prm_samples']}"
    return name


def difficulty_bins(records: list[dict], quantiles: int = 3) -> tuple[dict[str, str], str]:
    """problem id -> bin label, and how the bins were made."""
    problems = {r["problem_id"] for r in records}
    own = {r["problem_id"]: r.get("difficulty") for r in records}
    if problems and all(own[p] is not None for p in problems):
        return own, "the dataset's difficulty"
    hits: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if is_pool(r):
            hits[r["problem_id"]] += [float(s.get("correct", False)) for s in r["extra"]["pool"]]
    for r in records:
        if r["problem_id"] not in hits and r["correct"] is not None:
            hits[r["problem_id"]].append(float(r["correct"]))
    rate = {p: float(np.mean(hits[p])) if hits[p] else 0.0 for p in problems}
    edges = np.quantile(list(rate.values()), np.linspace(0, 1, quantiles + 1)[1:-1]) if rate else []
    labels = {}
    for p, v in rate.items():
        q = int(np.searchsorted(edges, v, side="right"))
        lo = 0.0 if q == 0 else edges[q - 1]
        hi = 1.0 if q == len(edges) else edges[q]
        labels[p] = f"pass rate {lo:.2f}-{hi:.2f}"
    basis = "the policy's pass rate on each problem, from these results (oracle difficulty), in quantiles"
    return labels, basis


def frontier(records: list[dict], axis: str = "tokens", policy_only: bool = False, levels: list[float] | None = None,
             quantiles: int = 3) -> Frontier:
    if not records:
        raise ValueError("no result records: give the result files of a `tts run` / `tts sweep`")
    bins_of, basis = difficulty_bins(records, quantiles)
    derived = expand_pools(records)
    vary_prm = len({(r["prm"], r["prm_samples"]) for r in derived}) > 1
    vary_budget = len({r.get("budget") for r in derived}) > 1
    table: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)  # config -> problem -> (value, compute)
    strategy_of = {}
    for r in derived:
        name = _config_name(r, vary_budget, vary_prm)
        strategy_of[name] = r["strategy"]
        table[name][r["problem_id"]] = (float(r["correct"] or 0.0), compute(r, axis, policy_only))
    bins = sorted(set(bins_of.values()), key=lambda b: (len(b), b))
    # Sorted, not sets: the seeded bootstrap resamples problems by position, so their order must
    # not depend on the process's string hashing (a table printed twice must agree).
    members = {b: sorted(p for p, x in bins_of.items() if x == b) for b in bins}
    if levels is None:
        spent = [np.mean([c for _, c in per.values()]) for per in table.values()]
        lo, hi = max(min(spent), 1e-9), max(spent)
        levels = sorted({float(x) for x in np.geomspace(lo, hi, 8)} | {float(hi)})

    def fits(name: str, level: float) -> bool:
        """Equal compute: a configuration qualifies at a level when it spends at most that much
        per problem on average *in every bin*, the constraint the per-bin choice meets."""
        return all(np.mean([table[name][p][1] for p in members[b] if p in table[name]] or [np.inf]) <= level * (1 + 1e-9)
                   for b in bins)

    def choose(problems: list[str], level: float, names, every_bin: bool = False) -> Choice | None:
        best = None
        for name in names:
            rows = [table[name][p] for p in problems if p in table[name]]
            if not rows or len(rows) < len(problems):
                continue  # a configuration must cover the whole bin
            spend = float(np.mean([c for _, c in rows]))
            if spend > level * (1 + 1e-9) or (every_bin and not fits(name, level)):
                continue
            acc = float(np.mean([v for v, _ in rows]))
            if best is None or acc > best[0] + 1e-12 or (abs(acc - best[0]) <= 1e-12 and spend < best[1]):
                best = (acc, spend, name, rows)
        if best is None:
            return None
        acc, spend, name, rows = best
        mean, low, high = mean_interval([v for v, _ in rows])
        return Choice(name, strategy_of[name], 100 * mean, 100 * low, 100 * high, spend, len(rows))

    everyone = sorted(bins_of)
    best = {(b, lv): choose(members[b], lv, table) for b in bins for lv in levels}
    single = {lv: choose(everyone, lv, table, every_bin=True) for lv in levels}
    per_bin, gain = {}, {}
    for lv in levels:
        picks = [best[(b, lv)] for b in bins]
        per_bin[lv] = gain[lv] = None
        if any(p is None for p in picks):
            continue
        chosen = {p: table[c.config][p][0] for b, c in zip(bins, picks, strict=True) for p in members[b]}
        mean, low, high = mean_interval(list(chosen.values()))
        per_bin[lv] = (100 * mean, 100 * low, 100 * high)
        if single[lv] is not None:  # paired over problems: the same problems under both choices
            diff = [v - table[single[lv].config][p][0] for p, v in chosen.items()]
            mean, low, high = mean_interval(diff)
            gain[lv] = (100 * mean, 100 * low, 100 * high)
    strategies: dict[str, list[tuple[float, float]]] = {}
    for s in sorted(set(strategy_of.values())):
        names = [n for n, st in strategy_of.items() if st == s]
        pts = [(lv, c.accuracy) for lv in levels if (c := choose(everyone, lv, names, every_bin=True)) is not None]
        strategies[s] = pts
    return Frontier(basis, "policy generated tokens" if policy_only and axis == "tokens" else
                    ("policy + PRM tokens" if axis == "tokens" else ("policy FLOPs" if policy_only else "policy + PRM FLOPs")),
                    bins, list(levels), best, single, per_bin, gain, strategies)


def print_frontier(f: Frontier, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=160)
    table = Table(title=f"compute-optimal configuration per difficulty bin (x: {f.axis} per problem)")
    table.add_column("compute ≤", justify="right")
    for b in f.bins:
        table.add_column(b, justify="left")
    table.add_column("per-bin choice, all problems", justify="right")
    table.add_column("best single configuration", justify="left")
    table.add_column("gain [95 % CI]", justify="right")
    for lv in f.levels:
        cells = []
        for b in f.bins:
            c = f.best[(b, lv)]
            cells.append("—" if c is None else f"{c.config}: {c.accuracy:.1f} [{c.low:.1f}, {c.high:.1f}]")
        pb, s = f.per_bin[lv], f.single[lv]
        cells.append("—" if pb is None else "{:.1f} [{:.1f}, {:.1f}]".format(*pb))
        cells.append("—" if s is None else f"{s.config}: {s.accuracy:.1f} [{s.low:.1f}, {s.high:.1f}]")
        g = f.gain[lv]
        cells.append("—" if g is None else "{:+.1f} [{:+.1f}, {:+.1f}]".format(*g))
        table.add_row(f"{lv:,.0f}" if lv >= 10 else f"{lv:.3g}", *cells)
    table.caption = (f"bins: {f.basis}; a configuration qualifies at a level when its mean compute per problem is "
                     "at most the level in its bin (for the single configuration: in every bin); gain: per-bin choice "
                     "minus the best single configuration, in points; intervals: 95 % bootstrap over problems")
    console.print(table)


def plot_frontier(f: Frontier, out: str | Path, title: str | None = None) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cols = len(f.bins) + 1
    fig, axes = plt.subplots(1, cols, figsize=(4.4 * cols, 4.2), layout="constrained", sharey=True)
    colors = {s: plt.cm.tab10(i % 10) for i, s in enumerate(f.strategies)}
    ax = axes[0]
    for s, pts in f.strategies.items():
        if pts:
            ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", color=colors[s], label=s, alpha=0.8)
    pts = [(lv, v) for lv, v in f.per_bin.items() if v is not None]
    if pts:
        xs = [p[0] for p in pts]
        ax.plot(xs, [p[1][0] for p in pts], "k-o", lw=2, label="choosing per bin")
        ax.fill_between(xs, [p[1][1] for p in pts], [p[1][2] for p in pts], color="k", alpha=0.12, linewidth=0)
    ax.set_title("all problems: per-bin choice vs each strategy", fontsize=10)
    for ax, b in zip(axes[1:], f.bins, strict=True):
        chosen = [(lv, f.best[(b, lv)]) for lv in f.levels if f.best[(b, lv)] is not None]
        for lv, c in chosen:
            ax.errorbar([lv], [c.accuracy], yerr=[[c.accuracy - c.low], [c.high - c.accuracy]], fmt="o",
                        color=colors[c.strategy], capsize=3)
        ax.step([lv for lv, _ in chosen], [c.accuracy for _, c in chosen], where="post", color="k", lw=1)
        ax.set_title(b, fontsize=10)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_ylim(0, 100)
        ax.set_xlabel(f"{f.axis} per problem (≤)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("accuracy (%)")
    handles = [plt.Line2D([], [], color=colors[s], marker="o", label=s) for s in f.strategies]
    axes[0].legend(handles=handles + [plt.Line2D([], [], color="k", marker="o", lw=2, label="choosing per bin")],
                   fontsize=7, loc="best")
    fig.suptitle((title or "compute-optimal frontier") + f"\nbins: {f.basis}; markers: the best configuration "
                 "per bin (colour: its strategy), bars and band: 95 % bootstrap intervals", fontsize=9)
    paths = [out.with_suffix(".png"), out.with_suffix(".svg")]
    for p in paths:
        fig.savefig(p, dpi=120)
    plt.close(fig)
    return paths
