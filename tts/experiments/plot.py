"""Compute-scaling curves from result records: accuracy vs tokens and vs FLOPs per strategy (log
x), with 95 % bootstrap bands over problems, plus a per-difficulty panel. PNG and SVG.

The x axes count total compute by default (every token policy and PRM computed: prompts less
what prefix caches served, and generated tokens; the verifier's share is most of it); ``policy_only`` counts the policy's generated tokens and FLOPs
alone. Sample-pool records are drawn as every strategy and N they derive."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import ticker  # noqa: E402

from tts.experiments.compute import compute  # noqa: E402
from tts.experiments.pool import expand_pools  # noqa: E402
from tts.experiments.stats import accuracy_values, mean_interval  # noqa: E402


def _label(r: dict, vary_prm: bool) -> str:
    return f"{r['strategy']} ({r['prm']} x{r['prm_samples']})" if vary_prm else r["strategy"]


def curves(records: list[dict], axis: str = "tokens", policy_only: bool = False,
           difficulty: str | None = None) -> dict[str, list[tuple[float, float, float, float, int]]]:
    """label -> [(mean compute per problem, accuracy %, interval low %, interval high %, problems)],
    one point per config cell (a width n or a budget), sorted by compute."""
    records = expand_pools(records)
    vary_prm = len({(r["prm"], r["prm_samples"]) for r in records}) > 1
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        if difficulty is None or r.get("difficulty") == difficulty:
            cells[(_label(r, vary_prm), r["cell"])].append(r)
    out: dict[str, list] = defaultdict(list)
    for (label, _), rs in cells.items():
        acc, low, high = mean_interval(accuracy_values(rs))
        out[label].append((sum(compute(r, axis, policy_only) for r in rs) / len(rs),
                           100 * acc, 100 * low, 100 * high, len(rs)))
    return {k: sorted(v) for k, v in sorted(out.items())}


def _draw(ax, data: dict, colors: dict, xlabel: str, title: str, base: int = 10) -> None:
    for label, pts in data.items():
        xs = [max(p[0], 1e-9) for p in pts]
        ax.plot(xs, [p[1] for p in pts], marker="o", label=label, color=colors[label])
        ax.fill_between(xs, [p[2] for p in pts], [p[3] for p in pts], color=colors[label], alpha=0.15, linewidth=0)
    ax.set_xscale("log", base=base)
    if base == 2:  # token budgets are powers of two: plain numbers read best
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_ylim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)


def plot_scaling(records: list[dict], out: str | Path, policy_only: bool = False,
                 title: str | None = None) -> list[Path]:
    """Write ``out`` as .png and .svg; returns the paths written."""
    if not records:
        raise ValueError("no result records to plot: run `tts run` first, or check the files given")
    records = expand_pools(records)  # once: every panel's ``curves`` then finds nothing to expand
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    levels = sorted({r.get("difficulty") for r in records if r.get("difficulty") is not None},
                    key=lambda d: (len(str(d)), str(d)))
    by_tokens = curves(records, "tokens", policy_only)
    colors = {label: plt.cm.tab10(i % 10) for i, label in enumerate(by_tokens)}
    what = "policy generated only" if policy_only else "policy + PRM"
    cols = max(2, len(levels))
    fig = plt.figure(figsize=(4.2 * cols, 8 if levels else 4.2), layout="constrained")
    grid = fig.add_gridspec(2 if levels else 1, cols)
    top = grid[0, :].subgridspec(1, 2)
    ax_tok = fig.add_subplot(top[0, 0])
    ax_flop = fig.add_subplot(top[0, 1])
    _draw(ax_tok, by_tokens, colors, f"tokens per problem ({what})", "accuracy vs tokens", base=2)
    _draw(ax_flop, curves(records, "flops", policy_only), colors, f"FLOPs per problem ({what})", "accuracy vs FLOPs")
    for i, level in enumerate(levels):
        ax = fig.add_subplot(grid[1, i], sharey=ax_tok)
        _draw(ax, curves(records, "tokens", policy_only, difficulty=level), colors, f"tokens per problem ({what})",
              f"difficulty: {level}", base=2)
    ax_tok.legend(fontsize=8, loc="best")
    fig.suptitle((title or f"compute scaling ({len({r['problem_id'] for r in records})} problems)")
                 + "; bands: 95 % bootstrap intervals over problems")
    paths = [out.with_suffix(".png"), out.with_suffix(".svg")]
    for p in paths:
        fig.savefig(p, dpi=120)
    plt.close(fig)
    return paths
