"""Answer equivalence through math-verify (LaTeX and plain numbers, fractions, units)."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

from tts.grading.boxed import last_boxed

# math-verify warns on every call made with its (signal-based) timeouts switched off, which we
# must do off the main thread where signals are unavailable.
logging.getLogger("math_verify").setLevel(logging.ERROR)

_CONFIG = (LatexExtractionConfig(), ExprExtractionConfig())


def _timeout() -> int | None:
    return 5 if threading.current_thread() is threading.main_thread() else None


@lru_cache(maxsize=65536)
def _parse(answer: str):
    text = answer.strip()
    # LaTeX extraction needs an anchor: a box or math delimiters. Bare "\frac12" or "5 cm" get $..$.
    if "\\boxed" not in text and "$" not in text.replace("\\$", ""):
        text = f"${text}$"
    return tuple(parse(text, extraction_config=list(_CONFIG), parsing_timeout=_timeout()))


def answers_equal(predicted: str | None, gold: str | None) -> bool:
    """Whether two final answers are mathematically the same (``0.5`` == ``\\frac{1}{2}``,
    ``5 cm`` == ``5``). An answer math-verify cannot parse is compared as a stripped string."""
    if predicted is None or gold is None:
        return False
    pred, ref = _parse(predicted), _parse(gold)
    if not pred or not ref:
        return predicted.strip() == gold.strip() and bool(gold.strip())
    return bool(verify(list(ref), list(pred), timeout_seconds=_timeout()))


def grade_solution(solution: str, gold: str) -> bool:
    """Whether the last ``\\boxed{}`` answer in ``solution`` equals ``gold``."""
    return answers_equal(last_boxed(solution), gold)
