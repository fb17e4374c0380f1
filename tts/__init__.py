"""tts: test-time search for LLM reasoning guided by process reward models.

The public API is what this module exports; ``search/`` strategies use nothing else.
"""

from tts.budget import Budget, BudgetExhausted, Expand, Outcome, ProblemResult, Rank, Scheduler, Score, Spend
from tts.grading import answers_equal, grade_solution, last_boxed, solution_answer, split_steps, vote_index
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
from tts.policy import GREEDY as GREEDY_SAMPLING
from tts.policy import Policy, Prefix, Sampling, StepCandidate, StepSettings, load_policy
from tts.prm import PRM, PRMScore, aggregate, first_wrong_step, load_prm
from tts.prm.ranking import Ranking
from tts.sandbox import SandboxLimits, SandboxPool
from tts.search_api import search
from tts.tree import ROOT, SearchTree

__version__ = "0.1.0"

__all__ = [
    "GREEDY_SAMPLING",
    "Budget",
    "BudgetExhausted",
    "Expand",
    "Outcome",
    "ProblemResult",
    "Rank",
    "Scheduler",
    "Score",
    "Spend",
    "search",
    "PRM",
    "ROOT",
    "PRMScore",
    "Ranking",
    "Policy",
    "Prefix",
    "Sampling",
    "SandboxLimits",
    "SandboxPool",
    "StepCandidate",
    "StepSettings",
    "aggregate",
    "first_wrong_step",
    "load_policy",
    "load_prm",
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
    "vote_index",
    "load_problems",
    "load_processbench",
    "make_processbench",
    "solution_answer",
    "split_steps",
]
