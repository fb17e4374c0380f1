"""``tts prm``: synthesise PRM training data, and evaluate PRMs on ProcessBench."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prm", help="PRM data synthesis and ProcessBench evaluation", description=__doc__)
    which = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    syn = which.add_parser("synth", help="label the policy's samples by MC rollouts + RPE, write verified rationales")
    syn.add_argument("--out", type=Path, required=True, help="output JSONL")
    syn.add_argument("--policy", default="tiny-policy", help="shipped name or checkpoint path")
    syn.add_argument("--backend", default=None, choices=["hf", "vllm"], help="default: the machine's")
    syn.add_argument("--problems", type=int, default=400)
    syn.add_argument("--samples", type=int, default=4, help="policy solutions per problem")
    syn.add_argument("--rollouts", type=int, default=4, help="K: rollouts per prefix for MC estimation")
    syn.add_argument("--eps", type=float, default=0.8, help="RPE threshold")
    syn.add_argument("--seed", type=int, default=1, help="problem stream")
    syn.add_argument("--threads", type=int, default=2)
    syn.set_defaults(func=run_synth)

    ev = which.add_parser("eval", help="ProcessBench F1 of a PRM (default: the testbed's own set)")
    ev.add_argument("--kind", default="genprm", choices=["genprm", "genprm-nocode", "thinkprm", "dprm"])
    ev.add_argument("--model", default=None, help="default: the shipped tiny model of that kind")
    ev.add_argument("--backend", default=None, choices=["hf", "vllm"], help="generative kinds; default: the machine's")
    ev.add_argument("--data", type=Path, default=None, help="a ProcessBench-format JSONL (default: testbed set)")
    ev.add_argument("--subset", default=None,
                    help="subset name for records that carry none (default: the file's name, e.g. gsm8k.jsonl -> gsm8k)")
    ev.add_argument("--limit", type=int, default=None, help="first N samples of each subset")
    ev.add_argument("--samples", type=int, default=1, help="Maj@N: sampled verifications per step")
    ev.add_argument("--threshold", type=float, default=0.5)
    ev.add_argument("--threads", type=int, default=2)
    ev.add_argument("--out", type=Path, default=None, help="write metrics and predictions as JSON")
    ev.set_defaults(func=run_eval)


def run_synth(args: argparse.Namespace) -> int:
    import torch

    from tts.data.synth import SynthConfig, synthesize
    from tts.policy import load_policy

    if min(args.problems, args.samples, args.rollouts) < 1:
        raise ValueError("--problems, --samples and --rollouts must be >= 1")
    torch.set_num_threads(args.threads)
    policy = load_policy(args.backend, model=args.policy, seed=0)
    cfg = SynthConfig(problems=args.problems, samples=args.samples, rollouts=args.rollouts, eps=args.eps,
                      seed=args.seed)
    _, stats = synthesize(policy, cfg, out=args.out)
    print(json.dumps(stats, indent=2))
    args.out.with_suffix(".stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(f"wrote {stats['solutions']} labelled solutions -> {args.out}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    import torch

    from tts.evaluation import evaluate_processbench
    from tts.evaluation.testbed_set import testbed_processbench
    from tts.prm import load_prm
    from tts.tasks.records import load_processbench

    torch.set_num_threads(args.threads)
    if args.data is not None:
        samples = load_processbench(args.data, subset=args.subset)
        if args.limit is not None:
            samples = samples[: args.limit]
    else:
        samples = testbed_processbench(args.limit)
    kwargs = {} if args.kind == "dprm" else {"backend": args.backend, "samples": args.samples}
    prm = load_prm(args.kind, model=args.model, **kwargs)
    try:
        result = evaluate_processbench(prm, samples, threshold=args.threshold)
    finally:
        prm.close()
    print(result.table())
    print(f"{len(samples)} samples in {result.seconds:.1f} s, {result.prm_tokens} PRM tokens")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"kind": args.kind, "samples": args.samples, "f1": result.f1,
                                        "subsets": result.subsets, "predictions": result.predictions,
                                        "seconds": result.seconds, "prm_tokens": result.prm_tokens}, indent=2) + "\n")
    return 0
