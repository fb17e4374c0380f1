"""Search benchmarks, measured side by side in one run on the embedded models.

    python -m benchmarks.search [--problems 32] [--split test] [--budget 1024] [--timing-problems 64]
                                [--pruning-problems 64] [--refine-problems 64]

1. Accuracy at equal budget: every strategy on the first ``--problems`` problems of ``--split``
   (``test``: in the models' training grid; ``long``, ``large``: outside it), each problem capped
   at ``--budget`` generated policy tokens, with the shipped GenPRM; accuracy, tokens actually
   spent (policy generated, PRM generated), wall time.
2. Engine utilisation: the share of wall time spent inside policy and PRM calls, for beam search
   and MCTS (the rest is the search core's own overhead).
3. Beam search vs best-of-N wall time per generated policy token, over ``--timing-problems``.
4. Exact pruning (``--pruning-problems``): best-of-N (N=16, min) verified exhaustively and with
   pruning, side by side: PRM generated tokens, wall time, steps verified, and the selections,
   asserted identical (same steps and answer on every problem; the score equal up to one step of
   the reward quantisation grid, which batch-composition noise can cross).
5. GenPRM as a critic (``--refine-problems``), as in GenPRM's Table 2: zero-shot (the greedy first
   solution), ``refine`` with GenPRM's feedback and ``self_refine`` (no verifier: the policy picks
   the paragraph it was least sure of) at 1, 2 and 3 turns, with their policy and PRM tokens.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch

import search
from tts import Budget, load_policy, load_prm
from tts import search as run
from tts.prm.base import LOGIT_DECIMALS
from tts.tasks.splits import testbed_split


class Timed:
    """Counts the wall time spent inside an engine's calls."""

    def __init__(self, inner, method: str) -> None:
        self.inner, self.method, self.seconds = inner, method, 0.0
        self.model = getattr(inner, "model", None)
        self.engine = getattr(inner, "engine", None)
        self.name = getattr(inner, "name", "engine")

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _call(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return getattr(self.inner, self.method)(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start

    def generate(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def score(self, *args, **kwargs):
        return self._call(*args, **kwargs)


STRATEGIES = {
    "majority vote (N=16)": lambda: search.majority_vote(16),
    "best-of-N (N=16, min)": lambda: search.best_of_n(16, aggregation="min"),
    "best-of-N weighted (N=16)": lambda: search.best_of_n(16, aggregation="min", weighted=True),
    "beam (4 x 4, min)": lambda: search.beam_search(width=4, k=4, aggregation="min"),
    "DVTS (4 subtrees x 4)": lambda: search.dvts(subtrees=4, k=4),
    "MCTS (until budget, 8 in flight)": lambda: search.mcts(simulations=512, parallel=8, k=3),
    "particle filter (16)": lambda: search.particle_filter(16),
    "refine (3 turns, GenPRM critic)": lambda: search.refine(3),
    "PRM-guided resampling (3 turns)": lambda: search.prm_resample(3),
}


def one(problems, strategy, policy, prm, budget):
    pol, crit = Timed(policy, "generate"), Timed(prm, "score")
    # Every strategy pays for its own verifications and draws from fresh seed streams.
    policy.restart()
    prm.restart()
    start = time.perf_counter()
    results = run(problems, strategy, pol, crit, budget=Budget(per_problem=budget), progress=False)
    wall = time.perf_counter() - start
    return {"accuracy": round(100 * sum(bool(r.correct) for r in results) / len(results), 1),
            "failed": sum(r.failed for r in results),
            "policy_generated": sum(r.spend.policy_generated for r in results) // len(results),
            "prm_generated": sum(r.spend.prm_generated for r in results) // len(results),
            "wall_s": round(wall, 1), "engine_share": round((pol.seconds + crit.seconds) / wall, 3),
            "max_spent": max(r.spend.policy_generated for r in results)}


def pruning(problems, policy, prm, budget: int, lanes: int | None = 3, exhaustive=None) -> tuple[dict, tuple]:
    """Pruned best-of-N against an exhaustive run (``exhaustive``: (results, seconds) of one made
    earlier in this process, so several lane settings compare against the same run); returns the
    figures and the exhaustive run."""
    rows = {}
    for name, prune in (("exhaustive", False), ("pruned", True)):
        if name == "exhaustive" and exhaustive is not None:
            rows[name], rows[name + "_s"] = exhaustive
            continue
        policy.restart()
        prm.restart()
        start = time.perf_counter()
        rows[name] = run(problems, search.best_of_n(16, "min", prune=prune, lanes=lanes), policy, prm,
                         budget=Budget(per_problem=budget), progress=False)
        rows[name + "_s"] = time.perf_counter() - start
    ex, pr = rows["exhaustive"], rows["pruned"]
    grid = 1.5 * 10.0 ** -LOGIT_DECIMALS
    same = [a.steps == b.steps and a.answer == b.answer and abs(_logit(a.score) - _logit(b.score)) <= grid
            for a, b in zip(ex, pr, strict=True)]
    assert all(same), f"pruning changed the selection on problems {[i for i, ok in enumerate(same) if not ok]}"
    tokens = [sum(r.spend.prm_generated for r in rs) for rs in (ex, pr)]
    return {"problems": len(problems), "lanes": lanes, "exhaustive_prm_generated": tokens[0], "pruned_prm_generated": tokens[1],
            "token_ratio": round(tokens[1] / tokens[0], 3), "exhaustive_s": round(rows["exhaustive_s"], 1),
            "pruned_s": round(rows["pruned_s"], 1), "wall_ratio": round(rows["pruned_s"] / rows["exhaustive_s"], 3),
            "steps_verified": sum(r.spend.prm_steps_verified for r in pr),
            "steps_pruned": sum(r.spend.prm_steps_pruned for r in pr),
            "same_selection": sum(same),
            "same_score_exactly": sum(a.score == b.score for a, b in zip(ex, pr, strict=True))}, (ex, rows["exhaustive_s"])


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p) - math.log1p(-p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", type=int, default=32)
    ap.add_argument("--split", default="test", help="testbed split of the accuracy rows (test, long, large)")
    ap.add_argument("--refine-problems", type=int, default=0)
    ap.add_argument("--budget", type=int, default=1024, help="generated policy tokens per problem")
    ap.add_argument("--timing-problems", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="*", default=None, help="strategy names (substring match)")
    ap.add_argument("--pruning-problems", type=int, default=64)
    ap.add_argument("--lanes", type=int, nargs="+", default=[3],
                    help="pruning rows: candidates verified per pass (0: all live ones), each against one exhaustive run")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    policy = load_policy("hf", seed=0)
    prm = load_prm("genprm", backend="hf")
    problems = testbed_split(args.split, limit=args.problems)
    print(json.dumps({"problems": len(problems), "split": args.split, "budget": args.budget,
                      "threads": args.threads}), flush=True)
    for name, make in STRATEGIES.items():
        if args.only and not any(o in name for o in args.only):
            continue
        print(json.dumps({"strategy": name} | one(problems, make(), policy, prm, args.budget)), flush=True)
    if args.timing_problems:
        timing = testbed_split("test", limit=args.timing_problems)
        rows = {}
        for name, make in (("best-of-N", lambda: search.best_of_n(4)), ("beam", lambda: search.beam_search(2, 2))):
            r = one(timing, make(), policy, prm, args.budget)
            rows[name] = r["wall_s"] / max(1, r["policy_generated"] * len(timing)) * 1000
            print(json.dumps({"timing": name} | r | {"ms_per_policy_token": round(rows[name], 3)}), flush=True)
        print(json.dumps({"beam_over_best_of_n_wall_per_token": round(rows["beam"] / rows["best-of-N"], 2)}), flush=True)
    if args.pruning_problems:
        exhaustive = None
        for lanes in args.lanes:
            row, exhaustive = pruning(testbed_split("test", limit=args.pruning_problems), policy, prm, args.budget,
                                      None if lanes == 0 else lanes, exhaustive)
            print(json.dumps({"pruning": row}), flush=True)
    if args.refine_problems:
        refine_problems = testbed_split(args.split, limit=args.refine_problems)
        rows = [("zero-shot", 0, search.refine(0))]
        for turns in (1, 2, 3):
            rows += [("refine (GenPRM critic)", turns, search.refine(turns)),
                     ("self-refine (no verifier)", turns, search.self_refine(turns))]
        for name, turns, strategy in rows:
            r = one(refine_problems, strategy, policy, prm, args.budget)
            print(json.dumps({"refine": name, "turns": turns} | r), flush=True)


if __name__ == "__main__":
    main()
