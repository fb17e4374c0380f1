"""tts: test-time search for LLM reasoning guided by process reward models.

The public API is what this module exports; ``search/`` strategies use nothing else.
"""

from tts.grading import answers_equal, grade_solution, last_boxed, split_steps
from tts.tasks import (
    Chain,
    ChainConfig,
    Problem,
    ProcessBenchSample,
    generate_problems,
    load_problems,
    load_processbench,
    make_processbench,
)
from tts.tree import ROOT, SearchTree

__version__ = "0.1.0"

__all__ = [
    "ROOT",
    "Chain",
    "ChainConfig",
    "Problem",
    "ProcessBenchSample",
    "SearchTree",
    "__version__",
    "answers_equal",
    "generate_problems",
    "grade_solution",
    "last_boxed",
    "load_problems",
    "load_processbench",
    "make_processbench",
    "split_steps",
]
