"""PRM benchmarks, every figure measured side by side in one run.

    python -m benchmarks.prm [--limit 150] [--backend hf] [--skip-maj]

1. ProcessBench F1 on the testbed set (first ``--limit`` samples of each subset), per family of
   problems (the in-grid ``testbed`` and the out-of-grid ``long`` and ``large``, each the mean F1
   of its corruption and policy-sample subsets): the generative PRM with code, its no-code
   ablation, the ThinkPRM-style verifier, the discriminative PRM, and the generative PRM with
   Maj@4 (4 sampled verifications averaged) against its Pass@1 (one sampled verification).
2. Batched verification of 64 prefixes (one engine call per stage for all) against verifying them
   one at a time through the same engine (the reference implementation's way), at T=0: wall
   time, ratio, and whether the rewards are identical; with the prompt tokens the HF engine
   computed (its token-prefix KV cache serves the rest) against what a perfect prefix cache would
   compute. The one-at-a-time side runs on the same weights without a prefix cache. Two workloads: 64 distinct solutions
   (batching alone), and a search frontier (16 nodes at depth 3 with 4 candidate steps each, the
   nodes verified in an earlier round), where the reference verifies every prefix from scratch.
3. Sandbox throughput: executions/s of a trivial snippet.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from tts.evaluation import evaluate_processbench
from tts.evaluation.testbed_set import FAMILIES, family_of, testbed_processbench
from tts.policy import Prefix, Sampling, load_policy
from tts.policy.kv_cache import perfect_prefill
from tts.prm import DiscriminativePRM, GenerativePRM, ThinkPRM
from tts.sandbox import SandboxPool, Snippet


def processbench(engine, sandbox, limit: int, maj: bool) -> list[dict]:
    samples = testbed_processbench(limit)
    rows = []
    verifiers = [("GenPRM (code)", GenerativePRM(engine, sandbox=sandbox)),
                 ("GenPRM no-code ablation", GenerativePRM(engine, code=False)),
                 ("ThinkPRM-style", ThinkPRM(engine)),
                 ("discriminative PRM", DiscriminativePRM("tiny-dprm"))]
    if maj:
        sampled = Sampling(temperature=0.6, top_p=0.95, top_k=20)
        verifiers += [("GenPRM Pass@1 (T=0.6)", GenerativePRM(engine, samples=1, sampling=sampled, sandbox=sandbox)),
                      ("GenPRM Maj@4 (T=0.6)", GenerativePRM(engine, samples=4, sampling=sampled, sandbox=sandbox))]
    for name, prm in verifiers:
        res = evaluate_processbench(prm, samples, progress=False)
        families = {f: [v["f1"] for k, v in res.subsets.items() if family_of(k) == f] for f in FAMILIES}
        row = {"verifier": name, "f1": round(100 * res.f1, 1), "seconds": round(res.seconds, 1),
               "prm_tokens": res.prm_tokens,
               **{f"{f} F1": round(100 * sum(v) / len(v), 1) for f, v in families.items() if v},
               **{f"{k} {m}": round(100 * v[m], 1) for k, v in res.subsets.items() for m in ("error_acc", "correct_acc", "f1")}}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def batching(engine, plain, sandbox, size: int = 64) -> dict:
    """``engine`` keeps a token-prefix KV cache; ``plain`` (the same weights without one) runs the
    one-at-a-time protocol as the reference does on an engine without prefix caching."""
    samples = testbed_processbench()[:size]
    prefixes = [Prefix(s.problem, tuple(s.steps)) for s in samples]
    engine.restart()
    engine.prefill_log, prompt0, computed0 = [], engine.prefill_prompt, engine.prefill_computed
    batched_prm = GenerativePRM(engine, sandbox=sandbox)
    start = time.perf_counter()
    batched = batched_prm.score(prefixes)
    t_batched = time.perf_counter() - start
    log, engine.prefill_log = engine.prefill_log, None
    one_prm = GenerativePRM(plain, sandbox=sandbox)
    start = time.perf_counter()
    single = [one_prm.score([p])[0] for p in prefixes]
    t_single = time.perf_counter() - start
    diff = max(abs(a - b) for x, y in zip(batched, single, strict=True) for a, b in zip(x.rewards, y.rewards, strict=True))
    verifications = sum(len(p.steps) for p in prefixes)
    computed, minimum = engine.prefill_computed - computed0, perfect_prefill(log)
    return {"prefixes": size, "verifications": verifications, "batched_s": round(t_batched, 2),
            "batched_engine_calls": batched_prm.engine_calls, "one_at_a_time_s": round(t_single, 2),
            "one_at_a_time_engine_calls": one_prm.engine_calls, "speedup": round(t_single / t_batched, 1),
            "max_reward_difference": diff, "identical": diff == 0.0,
            "tokens": sum(s.tokens for s in batched),
            "prefill_prompt_tokens": engine.prefill_prompt - prompt0, "prefill_computed": computed,
            "prefill_perfect_cache": minimum, "computed_over_perfect": round(computed / max(1, minimum), 2)}


def frontier(engine, plain, sandbox, parents: int = 16, children: int = 4, depth: int = 3) -> dict:
    """A beam-search round: the PRM has verified the parents' steps before; the frontier is
    ``parents x children`` prefixes one step longer. Children are the parent's next reference step
    and copies with the claimed value nudged (the near-misses a policy writes)."""
    from tts.tasks.arithmetic import parse_equation

    samples = [s for s in testbed_processbench() if len(s.steps) > depth and s.subset == "testbed-corruption"]
    prefixes, parent_prefixes = [], []
    for s in samples[:parents]:
        base = tuple(s.steps[:depth])
        parent_prefixes.append(Prefix(s.problem, base))
        eq = parse_equation(s.steps[depth])
        for k in range(children):
            step = s.steps[depth] if k == 0 or eq is None else s.steps[depth].replace(f"= {eq[3]}", f"= {eq[3] + k}")
            prefixes.append(Prefix(s.problem, (*base, step)))
    engine.restart()
    ours = GenerativePRM(engine, sandbox=sandbox)
    ours.score(parent_prefixes)  # the earlier round
    start = time.perf_counter()
    batched = ours.score(prefixes)
    t_batched = time.perf_counter() - start
    start = time.perf_counter()
    single = [GenerativePRM(plain, sandbox=sandbox).score([p])[0] for p in prefixes]  # from scratch, one by one
    t_single = time.perf_counter() - start
    diff = max(abs(a - b) for x, y in zip(batched, single, strict=True) for a, b in zip(x.rewards, y.rewards, strict=True))
    return {"frontier": len(prefixes), "batched_cached_s": round(t_batched, 2), "reference_way_s": round(t_single, 2),
            "speedup": round(t_single / t_batched, 1), "max_reward_difference": diff}


def sandbox_rate(sandbox, n: int = 2000) -> dict:
    sandbox.run([Snippet(("warm", i), "print(1)") for i in range(sandbox.size)])
    start = time.perf_counter()
    sandbox.run([Snippet(("rate", i % 64), "print(85 * 3 == 255)") for i in range(n)])
    seconds = time.perf_counter() - start
    return {"workers": sandbox.size, "executions": n, "per_second": round(n / seconds)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=150, help="ProcessBench samples per subset")
    ap.add_argument("--backend", default="hf", choices=["hf", "vllm"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-maj", action="store_true", help="leave out the Maj@4 rows (4x the time)")
    ap.add_argument("--only", choices=["processbench", "batching", "sandbox"], default=None)
    ap.add_argument("--genprm", default="tiny-genprm", help="GenPRM checkpoint (shipped name or path), e.g. a previous one")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(json.dumps({"machine": platform.processor() or platform.machine(), "threads": args.threads,
                      "backend": args.backend, "torch": torch.__version__}))
    engine = load_policy(args.backend, model=args.genprm, seed=0)
    with SandboxPool(workers=2) as sandbox:
        if args.only in (None, "sandbox"):
            print(json.dumps({"sandbox": sandbox_rate(sandbox)}), flush=True)
        if args.only in (None, "batching"):
            plain = load_policy(args.backend, model=args.genprm, seed=0, prefix_cache_gb=0) if args.backend == "hf" else engine
            print(json.dumps({"batching": batching(engine, plain, sandbox)}), flush=True)
            print(json.dumps({"frontier": frontier(engine, plain, sandbox)}), flush=True)
        if args.only in (None, "processbench"):
            processbench(engine, sandbox, args.limit, maj=not args.skip_maj)


if __name__ == "__main__":
    main()
