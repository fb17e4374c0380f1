"""PRM training data from the policy's own samples: sample solutions, label every step by MC
rollouts + Relative Progress Estimation, write a code-verified rationale for every step, and keep
for training only the steps where the rationale's verdict agrees with the RPE label (consensus
filtering, as GenPRM does). Where RPE has no label (after the MC estimate reached 0: the policy
cannot finish from there, right step or wrong), the code-checked verdict is the label alone.

The policy's own mistakes are nearly all near-miss arithmetic, and its right solutions of long
chains are rare; a verifier trained on them alone learns to copy the operand from the step instead
of the problem and to doubt long right chains. So each problem also contributes its reference
solution and one with an injected mistake (wrong operand, operation, carried value, ...); these
are labelled by the same policy rollouts and RPE, not by their known labels.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tts.data.rationale import rationales
from tts.data.rpe import mc_values, rpe_labels
from tts.grading.boxed import last_boxed
from tts.grading.steps import split_steps
from tts.policy.base import Policy, Prefix, Sampling
from tts.tasks.arithmetic import ChainConfig, check_steps, generate_problems, parse_problem
from tts.tasks.corrupt import make_processbench
from tts.tasks.jsonl import write_jsonl


@dataclass
class SynthConfig:
    problems: int = 400
    samples: int = 4  # policy solutions per problem
    rollouts: int = 8  # K, rollouts per prefix for MC
    eps: float = 0.8  # RPE threshold
    temperature: float = 0.8
    max_steps: int = 11  # longer samples are cut (the training grid's chains have at most 10 operations + answer)
    seed: int = 1  # problem stream; the benchmark splits use other seeds
    references: bool = True  # add each problem's reference solution and a corrupted copy
    min_ops: int = 1
    max_ops: int = 10


def _answer(text: str) -> str | None:
    boxed = last_boxed(text)
    return boxed.strip() if boxed is not None else None


def synthesize(policy: Policy, cfg: SynthConfig, out: str | Path | None = None, progress: bool = True) -> tuple[list[dict], dict]:
    """Records (one per sampled solution) and summary statistics; written to ``out`` as JSONL."""
    start = time.perf_counter()
    problems = generate_problems(cfg.problems, seed=cfg.seed, cfg=ChainConfig(min_ops=cfg.min_ops, max_ops=cfg.max_ops),
                                 prefix="prm-train")
    answers = {p.problem: p.answer for p in problems}
    sampling = Sampling(temperature=cfg.temperature, max_tokens=32 * cfg.max_steps + 32)
    roots = [Prefix(p.problem) for p in problems]
    solutions = []
    for c in range(0, len(roots), 64):
        batch = roots[c : c + 64]
        for root, cands in zip(batch, policy.generate(batch, cfg.samples, sampling, stop_at_step=False), strict=True):
            for cand in cands:
                steps = tuple(split_steps(cand.text))[: cfg.max_steps]
                if steps:
                    solutions.append((root.problem, steps, "policy"))
    if cfg.references:
        for p, bad in zip(problems, make_processbench(problems, seed=cfg.seed, error_fraction=1.0), strict=True):
            solutions.append((p.problem, tuple(p.steps), "reference"))
            solutions.append((p.problem, tuple(bad.steps), f"corrupted:{bad.meta['kind']}"))

    def is_correct(prefix: Prefix, completion: str) -> bool:
        return _answer(completion) == answers[prefix.problem]

    # MC estimates depth by depth: a prefix is rolled out only while its parent's MC is above 0
    # (after that RPE has no label to give), which spares most rollouts of chains the policy
    # cannot finish.
    mc: dict[Prefix, float] = {}
    lasts = [len(steps) if _answer(steps[-1]) is None else len(steps) - 1 for _, steps, _ in solutions]
    for depth in range(max(lasts, default=-1) + 1):
        todo = [Prefix(problem, steps[:depth]) for (problem, steps, _), last in zip(solutions, lasts, strict=True)
                if depth <= last and (depth == 0 or mc.get(Prefix(problem, steps[: depth - 1]), 0.0) > 0)]
        todo = [p for p in dict.fromkeys(todo) if p not in mc]
        if todo:
            mc |= mc_values(policy, todo, is_correct, cfg.rollouts, sampling, progress=progress,
                            desc=f"MC rollouts, depth {depth}")

    records, kept, labelled, total, agree_exact, wrong = [], 0, 0, 0, 0, 0
    for i, (problem, steps, source) in enumerate(solutions):
        values = [mc.get(Prefix(problem, steps[:t])) for t in range(len(steps))]
        final = _answer(steps[-1])
        values.append(float(final == answers[problem]) if final is not None else mc.get(Prefix(problem, steps)))
        labels = rpe_labels(values, cfg.eps)
        verdicts = [r.verdict for r in rationales(problem, list(steps))]
        exact = [c.correct for c in check_steps(parse_problem(problem), list(steps))]
        # Consensus filtering where RPE gives a label; where it cannot, the code-checked verdict stands.
        keep = [lab is None or int(v) == lab for v, lab in zip(verdicts, labels, strict=True)]
        label = [int(v) if lab is None else lab for v, lab in zip(verdicts, labels, strict=True)]
        kept += sum(keep)
        total += len(keep)
        defined = [(e, lab) for e, lab in zip(exact, labels, strict=True) if lab is not None]
        labelled += len(defined)
        agree_exact += sum(int(e) == lab for e, lab in defined)
        wrong += sum(lab == 0 for _, lab in defined)
        records.append({"id": f"prm-train-{i}", "problem": problem, "answer": answers[problem], "steps": list(steps),
                        "mc": values, "rpe": labels, "verdicts": verdicts, "keep": keep, "label": label,
                        "exact": exact, "source": source})
    stats = {"solutions": len(records), "steps": total, "kept_steps": kept,
             "rpe_labelled_steps": labelled,
             "consensus_rate": round((kept - (total - labelled)) / max(labelled, 1), 4),
             "rpe_agrees_with_exact_labels": round(agree_exact / max(labelled, 1), 4),
             "wrong_steps_rpe": round(wrong / max(labelled, 1), 4),
             "prefixes_rolled_out": len(mc), "seconds": round(time.perf_counter() - start, 1),
             "config": asdict(cfg)}
    if out is not None:
        write_jsonl(out, records)
    return records, stats
