"""Tokenizers of the tiny PRMs: the policy's vocabulary plus the protocols' words and fixed
strings (one token each, so a verification is ~60 tokens), with chat templates, so the PRM code
renders prompts through ``apply_chat_template`` exactly as it does for GenPRM-7B or
Qwen2.5-Math-PRM."""

from __future__ import annotations

from tts.models.tokenizer import build_tokenizer
from tts.prm import protocol as P

PRM_WORDS = ("After", "problem", "says", "previous", "paragraph", "claims", "nothing", "True", "False",
             "correct", "incorrect", "Step", "solution")
# Plain concatenation: system and user turns end with a blank line, a non-empty assistant turn
# with a newline; an empty assistant turn (the one being generated) renders as nothing.
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['content'] }}"
    "{% if m['role'] != 'assistant' %}{{ '\\n\\n' }}{% elif m['content'] %}{{ '\\n' }}{% endif %}"
    "{% endfor %}"
)
SEPARATOR = "<extra_0>"  # Qwen2.5-Math-PRM's step separator


def render_segments(messages: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(role, text) pieces whose concatenation is exactly what ``CHAT_TEMPLATE`` renders."""
    out = []
    for m in messages:
        tail = "\n\n" if m["role"] != "assistant" else ("\n" if m["content"] else "")
        out.append((m["role"], m["content"] + tail))
    return out


def genprm_tokenizer():
    return build_tokenizer(extra_words=PRM_WORDS, extra_pieces=P.PIECES, chat_template=CHAT_TEMPLATE)


def dprm_tokenizer():
    return build_tokenizer(extra_special=(SEPARATOR,), chat_template=CHAT_TEMPLATE)
