"""``tts train policy|genprm|dprm|tokenizer``: train the testbed's tiny models (deterministic given seed and threads)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a tiny testbed model", description=__doc__)
    which = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    pol = which.add_parser("policy", help="the tiny policy (a Qwen2 twin of Qwen2.5-Math-Instruct, ~0.86M parameters)")
    pol.add_argument("--out", type=Path, required=True, help="output directory (HF format)")
    pol.add_argument("--seed", type=int, default=0)
    pol.add_argument("--steps", type=int, default=None, help="optimizer steps (default: the shipped recipe's)")
    pol.add_argument("--threads", type=int, default=2, help="torch threads; part of the recipe (CPU "
                     "reductions depend on it), so keep it fixed to reproduce a checkpoint")
    pol.add_argument("--evaluate", action="store_true",
                     help="then measure accuracy on the test split and write the model card (README.md)")
    pol.set_defaults(func=run_policy)
    tok = which.add_parser("tokenizer", help="re-learn the family's BPE vocabulary from the testbed's text")
    tok.add_argument("--out", type=Path, required=True,
                     help="where to write it (the shipped one is tts/assets/tokenizer/bpe.json; replacing it "
                          "means retraining every shipped checkpoint, whose embedding rows follow its ids)")
    tok.set_defaults(func=run_tokenizer)
    for name, helptext in (("genprm", "the tiny generative PRM (GenPRM format, with code; also no-code and ThinkPRM)"),
                           ("dprm", "the tiny discriminative PRM (separator token, two-class head)")):
        prm = which.add_parser(name, help=helptext)
        prm.add_argument("--data", type=Path, required=True, help="JSONL from `tts prm synth`")
        prm.add_argument("--out", type=Path, required=True, help="output directory (HF format)")
        prm.add_argument("--seed", type=int, default=0)
        prm.add_argument("--steps", type=int, default=None, help="optimizer steps (default: the shipped recipe's)")
        prm.add_argument("--threads", type=int, default=2, help="torch threads; part of the recipe")
        prm.add_argument("--op-weight", type=float, default=None,
                         help="loss weight of the operation words and operators (default: the recipe's)")
        prm.add_argument("--base", default="tiny-policy",
                         help="checkpoint to fine-tune from (shipped name or path; its sizes must be the "
                              "recipe's), as GenPRM starts from R1-Distill-Qwen; 'none': from scratch")
        prm.set_defaults(func=run_prm, kind=name)


def run_tokenizer(args: argparse.Namespace) -> int:
    from tts.models.tokenizer import learn_bpe_vocab, save_bpe_vocab

    vocab, merges = learn_bpe_vocab()
    print(f"{len(vocab)} tokens, {len(merges)} merges -> {save_bpe_vocab(args.out, vocab, merges)}")
    return 0


def run_policy(args: argparse.Namespace) -> int:
    from tts.models.train_policy import PolicyTrainConfig, train_policy

    cfg = PolicyTrainConfig(seed=args.seed, threads=args.threads)
    if args.steps is not None:
        if args.steps < 1:
            raise ValueError(f"--steps must be >= 1, got {args.steps}")
        cfg.steps = args.steps
    metrics = train_policy(cfg, args.out)
    print(json.dumps({k: v for k, v in metrics.items() if k != "config"}, indent=2))
    print(f"saved to {args.out}")
    if args.evaluate:
        evaluate_and_card(args, cfg)
    return 0


def evaluate_and_card(args: argparse.Namespace, cfg) -> None:
    from tts.models.card import write_policy_card
    from tts.models.evaluate_policy import evaluate_policy, format_table
    from tts.policy import load_policy
    from tts.tasks.splits import testbed_split

    policy = load_policy("hf", args.out, seed=0)
    samples, limit = 16, 200
    # The table at T=0.8; T=1.0 beside it, where pass@16 (the headroom search can use) is higher.
    problems, evaluations = testbed_split("test", limit=limit), []
    for temperature in (0.8, 1.0):
        table = evaluate_policy(policy, problems, samples=samples, temperature=temperature)
        print(f"T={temperature}\n{format_table(table)}")
        evaluations.append({"split": "test", "backend": "hf", "samples": samples, "temperature": temperature, "table": table})
    command = (f"tts train policy --out DIR --seed {cfg.seed} --steps {cfg.steps} "
               f"--threads {cfg.threads} --evaluate")
    card = write_policy_card(args.out, command, evaluations[0], evaluations[1:])
    print(f"model card: {card}")


def run_prm(args: argparse.Namespace) -> int:
    from tts.models.train_prm import PRMTrainConfig, train_dprm, train_genprm

    if not args.data.is_file():
        raise FileNotFoundError(f"training data not found: {args.data}; make it with `tts prm synth --out {args.data}`")
    cfg = PRMTrainConfig(seed=args.seed, threads=args.threads, base=None if args.base == "none" else args.base)
    if args.steps is not None:
        if args.steps < 1:
            raise ValueError(f"--steps must be >= 1, got {args.steps}")
        cfg.steps = args.steps
    if args.op_weight is not None:
        cfg.op_weight = args.op_weight
    train = train_genprm if args.kind == "genprm" else train_dprm
    metrics = train(args.data, args.out, cfg)
    print(json.dumps({k: v for k, v in metrics.items() if k != "config"}, indent=2))
    print(f"saved to {args.out}")
    from tts.models.card import write_prm_card

    stats = args.data.with_suffix(".stats.json")  # written beside the data by `tts prm synth`
    synth = json.loads(stats.read_text()) if stats.is_file() else None
    command = f"tts train {args.kind} --data {args.data} --out {args.out} --seed {cfg.seed} --steps {cfg.steps} --threads {cfg.threads} --op-weight {cfg.op_weight} --base {args.base}"
    print(f"model card: {write_prm_card(args.out, args.kind, command, synth)}")
    return 0
