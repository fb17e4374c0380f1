"""Prompt formats, kept in Jinja files under ``tts/assets/prompts`` (not in code strings)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2
import jinja2.meta

from tts.grading.steps import DEFAULT_DELIMITER

# Qwen2.5-Math-Instruct's chain-of-thought system prompt (also Qwen2.5-Math-PRM's).
QWEN_MATH_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
PROMPT_DIR = Path(str(resources.files("tts") / "assets" / "prompts"))


def available_formats() -> list[str]:
    return sorted(p.stem for p in PROMPT_DIR.glob("*.jinja"))


@lru_cache(maxsize=32)
def _template(name_or_path: str) -> tuple[jinja2.Template, frozenset[str]]:
    path = Path(name_or_path)
    if not path.suffix:
        path = PROMPT_DIR / f"{name_or_path}.jinja"
    if not path.is_file():
        raise FileNotFoundError(
            f"prompt format {name_or_path!r} not found; use one of {available_formats()} or a path to a .jinja file"
        )
    env = jinja2.Environment(keep_trailing_newline=False, undefined=jinja2.StrictUndefined, autoescape=False)
    source = path.read_text(encoding="utf-8")
    return env.from_string(source), frozenset(jinja2.meta.find_undeclared_variables(env.parse(source)))


def render_prompt(fmt: str, problem: str, steps: list[str] | tuple[str, ...] = (),
                  delimiter: str = DEFAULT_DELIMITER, feedback: tuple[tuple[str, str], ...] = ()) -> str:
    """The policy's input for ``problem`` with ``steps`` already written. ``feedback``: earlier
    (solution, critique) pairs of a refinement, which the format shows before the new solution."""
    template, names = _template(fmt)
    if feedback and "feedback" not in names:
        raise ValueError(f"prompt format {fmt!r} has no feedback slot, so a critic's feedback would be dropped; "
                         "loop over `feedback` ((solution, critique) pairs) in the template, as qwen_math_chat does")
    return template.render(problem=problem, steps=list(steps), delimiter=delimiter, feedback=list(feedback))
