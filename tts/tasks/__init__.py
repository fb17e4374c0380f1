"""Tasks and datasets: the arithmetic-chain testbed and the standard record format."""

from tts.tasks.arithmetic import (
    Chain,
    ChainConfig,
    LabelledSolution,
    StepCheck,
    check_steps,
    first_error,
    generate_chain,
    generate_problems,
    label_solution,
    parse_problem,
)
from tts.tasks.corrupt import KINDS as CORRUPTION_KINDS
from tts.tasks.corrupt import corrupt_chain, make_processbench
from tts.tasks.jsonl import JsonlError, read_jsonl, write_jsonl
from tts.tasks.processbench import label_policy_samples
from tts.tasks.records import (
    Problem,
    ProcessBenchSample,
    load_problems,
    load_processbench,
    problem_from_dict,
    processbench_from_dict,
    save_records,
)

__all__ = [
    "CORRUPTION_KINDS",
    "Chain",
    "ChainConfig",
    "JsonlError",
    "LabelledSolution",
    "Problem",
    "ProcessBenchSample",
    "StepCheck",
    "check_steps",
    "corrupt_chain",
    "first_error",
    "generate_chain",
    "generate_problems",
    "label_policy_samples",
    "label_solution",
    "load_problems",
    "load_processbench",
    "make_processbench",
    "parse_problem",
    "problem_from_dict",
    "processbench_from_dict",
    "read_jsonl",
    "save_records",
    "write_jsonl",
]
