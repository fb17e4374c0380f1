"""Split a solution into steps: by a delimiter (default a blank line) or by ``Step k:`` markers."""

from __future__ import annotations

import re

DEFAULT_DELIMITER = "\n\n"

_STEP_MARKER = re.compile(r"(?im)^[ \t]*(?:#+[ \t]*)?\**step[ \t]+\d+\**[ \t]*[:.)]\**[ \t]*")


def split_by_delimiter(text: str, delimiter: str = DEFAULT_DELIMITER) -> list[str]:
    if not delimiter:
        raise ValueError("step delimiter must be a non-empty string (or None for 'Step k:' markers)")
    return [part.strip() for part in text.split(delimiter) if part.strip()]


def split_by_step_markers(text: str) -> list[str]:
    """Split at lines that start with ``Step k:`` (also ``## Step k.``, ``**Step k:**``); the
    markers are dropped. Text before the first marker, if any, is its own step."""
    parts = _STEP_MARKER.split(text)
    return [part.strip() for part in parts if part.strip()]


def split_steps(text: str, delimiter: str | None = DEFAULT_DELIMITER) -> list[str]:
    """Steps of ``text``; ``delimiter=None`` splits at ``Step k:`` markers instead."""
    return split_by_step_markers(text) if delimiter is None else split_by_delimiter(text, delimiter)


def join_steps(steps: list[str], delimiter: str = DEFAULT_DELIMITER) -> str:
    return delimiter.join(steps)
