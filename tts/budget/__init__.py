"""One token budget and a scheduler that batches every live problem's requests per round."""

from tts.budget.budget import Budget, Spend
from tts.budget.requests import BudgetExhausted, Expand, Rank, Score
from tts.budget.scheduler import Outcome, ProblemResult, Scheduler, Strategy

__all__ = ["Budget", "BudgetExhausted", "Expand", "Outcome", "ProblemResult", "Rank", "Scheduler", "Score", "Spend", "Strategy"]
