"""Answer extraction and equivalence, and step splitting."""

from tts.grading.boxed import last_boxed, solution_answer
from tts.grading.equivalence import answers_equal, grade_solution
from tts.grading.steps import (
    DEFAULT_DELIMITER,
    join_steps,
    split_by_delimiter,
    split_by_step_markers,
    split_steps,
)
from tts.grading.vote import answer_classes, canonical_answer, majority_vote, vote_index

__all__ = [
    "DEFAULT_DELIMITER",
    "answer_classes",
    "answers_equal",
    "canonical_answer",
    "grade_solution",
    "join_steps",
    "last_boxed",
    "majority_vote",
    "solution_answer",
    "split_by_delimiter",
    "split_by_step_markers",
    "split_steps",
    "vote_index",
]
