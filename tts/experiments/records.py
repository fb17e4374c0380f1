"""One results record per (problem, config): everything needed to redraw curves and trees."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import networkx as nx

from tts.budget import ProblemResult
from tts.experiments.datasets import difficulty
from tts.experiments.pool import annotate

# The config parts that decide a result; dataset.limit only decides how many problems run.
KEY_PARTS = ("policy", "prm", "strategy", "steps", "budget", "n")


def cell_id(config: dict[str, Any]) -> str:
    """A short stable id of a config cell (policy, PRM, strategy, budget, dataset source)."""
    parts = {k: config.get(k) for k in KEY_PARTS}
    parts["dataset"] = {k: v for k, v in config["dataset"].items() if k != "limit"}
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def record_key(cell: str, problem_id: str) -> str:
    return f"{cell}:{problem_id}"


def tree_data(tree) -> dict | None:
    """The search tree as networkx node-link JSON (None for strategies that keep no tree)."""
    if tree is None or not hasattr(tree, "to_networkx"):
        return None
    return nx.node_link_data(tree.to_networkx(), edges="links")


def make_record(config: dict[str, Any], cell: str, result: ProblemResult, seconds: float, run: str,
                store_tree: bool = True) -> dict:
    p = result.problem
    spend = result.spend.to_dict()
    extra = _jsonable(result.extra)
    if isinstance(extra, dict) and extra.get("pool"):  # graded here once, so curves need no grader
        annotate(extra["pool"], p.answer)
    return {
        "key": record_key(cell, p.id),
        "cell": cell,
        "run": run,
        "strategy": config["strategy"]["name"],
        "n": config.get("n"),
        "budget": config["budget"]["per_problem"],
        "budget_total": config["budget"]["total"],
        "prm": config["prm"]["kind"],
        "prm_samples": config["prm"]["samples"],
        "policy": config["policy"]["model"],
        "dataset": config["dataset"]["name"],
        "config": config,
        "problem_id": p.id,
        "problem": p.problem,
        "difficulty": difficulty(p),
        "gold": p.answer,
        "answer": result.answer,
        "correct": result.correct,
        "score": result.score,
        "steps": result.steps,
        "spend": spend,
        "rounds": result.rounds,
        "seconds": round(seconds, 3),
        "error": result.error,
        "extra": extra,
        "tree": tree_data(result.tree) if store_tree else None,
    }


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)
