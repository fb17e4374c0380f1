"""Prompt formats, kept in Jinja files under ``tts/assets/prompts`` (not in code strings)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2

from tts.grading.steps import DEFAULT_DELIMITER

PROMPT_DIR = Path(str(resources.files("tts") / "assets" / "prompts"))


def available_formats() -> list[str]:
    return sorted(p.stem for p in PROMPT_DIR.glob("*.jinja"))


@lru_cache(maxsize=32)
def _template(name_or_path: str) -> jinja2.Template:
    path = Path(name_or_path)
    if not path.suffix:
        path = PROMPT_DIR / f"{name_or_path}.jinja"
    if not path.is_file():
        raise FileNotFoundError(
            f"prompt format {name_or_path!r} not found; use one of {available_formats()} or a path to a .jinja file"
        )
    env = jinja2.Environment(keep_trailing_newline=False, undefined=jinja2.StrictUndefined, autoescape=False)
    return env.from_string(path.read_text(encoding="utf-8"))


def render_prompt(fmt: str, problem: str, steps: list[str] | tuple[str, ...] = (),
                  delimiter: str = DEFAULT_DELIMITER) -> str:
    """The policy's input for ``problem`` with ``steps`` already written."""
    return _template(fmt).render(problem=problem, steps=list(steps), delimiter=delimiter)
