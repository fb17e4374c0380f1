"""Extract the content of the last ``\\boxed{...}`` in a solution."""

from __future__ import annotations

_COMMANDS = ("\\boxed", "\\fbox")


def _braced(text: str, open_at: int) -> str | None:
    """Content of the brace group that opens at ``text[open_at] == '{'``, nesting respected."""
    depth = 0
    i = open_at
    while i < len(text):
        ch = text[i]
        if ch == "\\":  # an escaped character (\{, \}) never opens or closes a group
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1 : i]
        i += 1
    return None  # unbalanced: the answer was cut off


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` (or ``\\fbox{...}``, or ``\\boxed 5``), or None.

    Nested braces are kept whole (``\\boxed{\\frac{1}{2}}`` -> ``\\frac{1}{2}``); an unclosed
    box returns None rather than a truncated answer.
    """
    start = max(text.rfind(cmd) for cmd in _COMMANDS)
    if start < 0:
        return None
    cmd = next(c for c in _COMMANDS if text.startswith(c, start))
    i = start + len(cmd)
    while i < len(text) and text[i] == " ":
        i += 1
    if i < len(text) and text[i] == "{":
        content = _braced(text, i)
        return content.strip() if content is not None else None
    if i > start + len(cmd):  # "\boxed 5": the argument runs to the next space or '$'
        end = i
        while end < len(text) and text[end] not in " $\n":
            end += 1
        return text[i:end] or None
    return None


def solution_answer(steps) -> str | None:
    """The final answer of a solution given as its steps: the last box anywhere in the text, not
    only in the last step (a solution may end "...\\boxed{5}.\\n\\nI hope this helps.")."""
    if not steps:
        return None
    return last_boxed("\n\n".join(steps))
