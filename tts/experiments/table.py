"""The results table: one row per config cell, from result records."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.table import Table

from tts.experiments.compute import compute
from tts.experiments.pool import expand_pools
from tts.experiments.stats import accuracy_values, mean_interval

GROUP = ("strategy", "n", "budget", "prm", "prm_samples")


def summarize(records: list[dict]) -> list[dict]:
    """Accuracy with its 95 % bootstrap interval over problems, mean tokens and FLOPs per
    (strategy, n, budget, PRM, PRM samples), sorted; sample-pool records count as every strategy
    and N they derive. Wall time is each run's span (first start to last finish) summed over the
    runs that wrote the cell's records, so a resumed cell counts both runs (a derived row shows
    its pool's)."""
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for r in expand_pools(records):
        cells[tuple(r[k] for k in GROUP)].append(r)
    rows = []
    for key, rs in cells.items():
        n = len(rs)
        spans: dict[str, float] = defaultdict(float)
        for r in rs:
            spans[r["run"]] = max(spans[r["run"]], r["seconds"])
        acc, low, high = mean_interval(accuracy_values(rs))
        rows.append(dict(zip(GROUP, key, strict=True)) | {
            "problems": n,
            "accuracy": round(100 * acc, 1),
            "interval": (round(100 * low, 1), round(100 * high, 1)),
            "failed": sum(r["error"] is not None for r in rs),
            # Outputs and verifications a model's context cut (records written before the count: 0).
            "context_full": (sum(r["spend"].get("policy_context_full", 0) for r in rs),
                             sum(r["spend"].get("prm_context_full", 0) for r in rs)),
            "policy_tokens": round(sum(r["spend"]["policy_generated"] for r in rs) / n, 1),
            "prm_tokens": round(sum(r["spend"]["prm_prompt"] + r["spend"]["prm_generated"] for r in rs) / n, 1),
            "total_tokens": round(sum(compute(r) for r in rs) / n, 1),
            "flops": sum(r["spend"]["flops"] for r in rs) / n,
            "wall_s": round(sum(spans.values()), 1),
        })
    return sorted(rows, key=lambda r: (r["strategy"], r["n"] or 0, r["budget"] if r["budget"] is not None else -1,
                                       r["prm"], r["prm_samples"]))


def print_table(rows: list[dict], title: str = "results", console: Console | None = None) -> None:
    table = Table(title=title)
    for col, justify in (("strategy", "left"), ("n", "right"), ("budget", "right"), ("PRM", "left"),
                         ("problems", "right"), ("acc % [95 % CI]", "right"), ("policy tok", "right"),
                         ("PRM tok", "right"), ("computed tok", "right"), ("FLOPs", "right"), ("failed", "right"), ("ctx full", "right"), ("wall s", "right")):
        table.add_column(col, justify=justify, no_wrap=True)
    table.caption = ("acc: 95 % bootstrap interval over problems; n: the width strategies scale with; budget: cap on "
                     "generated policy tokens per problem; tokens and FLOPs: mean per problem (policy tok: generated; "
                     "PRM tok: prompt + generated; computed tok: policy + PRM, less prompt tokens served by prefix "
                     "caches); ctx full: policy outputs / PRM verifications cut by the model's context (raise "
                     "max_model_len)")
    for r in rows:
        prm = r["prm"] + (f" x{r['prm_samples']}" if r["prm_samples"] != 1 else "")
        accuracy = "{:.1f} [{:.1f}, {:.1f}]".format(r["accuracy"], *r["interval"])
        table.add_row(r["strategy"], str(r["n"]), str(r["budget"]), prm, str(r["problems"]), accuracy,
                      f"{r['policy_tokens']:.0f}", f"{r['prm_tokens']:.0f}", f"{r['total_tokens']:.0f}", f"{r['flops']:.2e}", str(r["failed"]),
                      "{:.0f} / {:.0f}".format(*r["context_full"]), f"{r['wall_s']:.1f}")
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or logged: do not squeeze the table into 80 columns
            console = Console(width=200)
    console.print(table)

