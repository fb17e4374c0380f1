"""ProcessBench-format samples from policy outputs, labelled by the exact step checker."""

from __future__ import annotations

from collections.abc import Sequence

from tts.grading.steps import DEFAULT_DELIMITER
from tts.tasks.arithmetic import label_solution
from tts.tasks.records import Problem, ProcessBenchSample


def label_policy_samples(
    problem: Problem,
    solutions: Sequence[str],
    generator: str = "policy",
    subset: str = "policy",
    delimiter: str = DEFAULT_DELIMITER,
) -> tuple[list[ProcessBenchSample], int]:
    """Label each complete solution of ``problem``; returns (samples, number of incomplete
    solutions left out: with no final answer there is no ProcessBench label to give)."""
    samples, incomplete = [], 0
    for i, solution in enumerate(solutions):
        lab = label_solution(problem, solution, delimiter)
        if not lab.complete:
            incomplete += 1
            continue
        samples.append(
            ProcessBenchSample(
                id=f"pb-{problem.id}-{generator}-{i}", problem=problem.problem, steps=lab.steps,
                label=lab.label, final_answer_correct=lab.final_answer_correct, generator=generator,
                subset=subset,
                meta={"source_id": problem.id, **problem.meta},
            )
        )
    return samples, incomplete
