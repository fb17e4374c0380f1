"""Accuracy of a policy on testbed problems: greedy, sampled, majority@k, pass@k, per-step error.

Per-step error is the hazard a search has to fight: among steps whose earlier steps were all
right, the share that is wrong.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tqdm.auto import tqdm

from tts.grading.boxed import last_boxed
from tts.grading.steps import split_steps
from tts.grading.vote import canonical_answer, majority_vote
from tts.policy.base import Policy, Prefix, Sampling
from tts.tasks.arithmetic import check_steps, parse_problem
from tts.tasks.records import Problem


@dataclass
class SolutionStats:
    correct: bool
    answer: str | None
    steps_checked: int  # steps up to and including the first wrong one
    errors: int  # 1 if a wrong step was found, else 0


def solution_stats(problem: Problem, text: str) -> SolutionStats:
    chain = parse_problem(problem.problem)
    steps = split_steps(text)
    checks = check_steps(chain, steps)
    first_bad = next((c.index for c in checks if not c.correct), None)
    answer = last_boxed(text)
    return SolutionStats(
        correct=canonical_answer(answer) == canonical_answer(problem.answer) and answer is not None,
        answer=answer,
        steps_checked=len(steps) if first_bad is None else first_bad + 1,
        errors=0 if first_bad is None else 1,
    )


def _solutions(policy: Policy, problems: Sequence[Problem], n: int, sampling: Sampling,
               batch: int, desc: str, progress: bool) -> list[list[str]]:
    out: list[list[str]] = []
    for i in tqdm(range(0, len(problems), batch), desc=desc, disable=not progress):
        chunk = problems[i : i + batch]
        cands = policy.generate([Prefix(p.problem) for p in chunk], n, sampling, stop_at_step=False)
        out.extend([c.text for c in row] for row in cands)
    return out


def evaluate_policy(policy: Policy, problems: Sequence[Problem], samples: int = 16, temperature: float = 0.8,
                    max_tokens: int = 400, batch: int = 32, progress: bool = True) -> list[dict]:
    """One row per chain length and an 'all' row: greedy, sampled, maj@k, pass@k accuracies (%)
    and per-step error rates (%) of greedy and sampled solutions."""
    greedy = _solutions(policy, problems, 1, Sampling(temperature=0.0, max_tokens=max_tokens),
                        batch, "greedy", progress)
    sampled = _solutions(policy, problems, samples, Sampling(temperature=temperature, max_tokens=max_tokens),
                         max(1, batch // 4), f"sampled x{samples}", progress)
    groups: dict[str, list[dict]] = defaultdict(list)
    for p, g, s in zip(problems, greedy, sampled, strict=True):
        gs = solution_stats(p, g[0])
        ss = [solution_stats(p, t) for t in s]
        maj = majority_vote([x.answer for x in ss])
        row = {
            "greedy": gs.correct,
            "sampled": sum(x.correct for x in ss) / len(ss),
            "maj": maj is not None and canonical_answer(maj) == canonical_answer(p.answer),
            "pass": any(x.correct for x in ss),
            "g_err": (gs.errors, gs.steps_checked),
            "s_err": (sum(x.errors for x in ss), sum(x.steps_checked for x in ss)),
        }
        groups[str(len(parse_problem(p.problem).ops))].append(row)
        groups["all"].append(row)
    table = []
    for key in sorted(groups, key=lambda k: (k == "all", int(k) if k.isdigit() else 0)):
        rows = groups[key]
        n = len(rows)
        table.append({
            "ops": key, "problems": n,
            "greedy": 100 * sum(r["greedy"] for r in rows) / n,
            "sampled": 100 * sum(r["sampled"] for r in rows) / n,
            f"maj@{samples}": 100 * sum(r["maj"] for r in rows) / n,
            f"pass@{samples}": 100 * sum(r["pass"] for r in rows) / n,
            "step_err_greedy": 100 * sum(r["g_err"][0] for r in rows) / max(1, sum(r["g_err"][1] for r in rows)),
            "step_err_sampled": 100 * sum(r["s_err"][0] for r in rows) / max(1, sum(r["s_err"][1] for r in rows)),
        })
    return table


def format_table(table: list[dict]) -> str:
    keys = list(table[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---:|" * len(keys)]
    for row in table:
        cells = [f"{v:.1f}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)



