"""The GenPRM verification protocol: its fixed strings, the chat it builds, and how a reward is
read from a judgement.

Follows GenPRM's reference implementation: the problem and step 1 are the first user turn, every
later step its own user turn, each assistant turn the PRM's own verification of that step:
``<analyze>`` (forced opening naming the paragraph), ``<verify>`` with a Python block whose output
is appended inside the block as ``[Code Output]``, then ``<output>`` with
``**Judgement**: $\\boxed{Yes}$`` or ``No``. The reward is p(Yes) / (p(Yes) + p(No)) at the
judgement token.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

SYSTEM = "You are a math teacher. Your task is to review and critique the paragraphs in solution step by step."
ANALYZE_START = "<analyze>\nLet's analyze the Paragraph {index} step by step: "
ANALYZE_END = "</analyze>\n"
VERIFY_START = "<verify>\nLet's use python code to find any potential error:\n```python\n"
CODE_END = "\n```\n"
VERIFY_END = "</verify>\n"
OUTPUT_START = "<output>\n**Judgement**: $\\boxed"
OUTPUT_END = "</output>\n"
CODE_OUTPUT = "[Code Output]\n\n```\n{output}\n```\n"

# GenPRM's critic mode: the user turn that sends the policy back to a flagged paragraph.
CRITIQUE = "There might be some problem in this paragraph of your reasoning, please rethink and refine your answer:"

# ThinkPRM: one verification of the whole prefix, a verdict per step, then a forced final answer.
THINK_SYSTEM = "Review the solution below. Check every step and end each check with \\boxed{correct} or \\boxed{incorrect}."
THINK_STEP = "Step {index}: "
THINK_FINAL = "Is the solution correct? "

_CODE_BLOCK = re.compile(r"```python\s*(.*?)\s*```", re.DOTALL)
_VERDICT = re.compile(r"(Yes|No)\}", re.IGNORECASE)
_ANALYSIS = re.compile(r"<analyze>(.*?)</analyze>", re.DOTALL)

# The protocol's fixed strings, for a tokenizer that should spend one token on each.
PIECES = (
    SYSTEM, THINK_SYSTEM, "<analyze>\nLet's analyze the Paragraph ", " step by step: ", ANALYZE_END,
    VERIFY_START, CODE_END, VERIFY_END, OUTPUT_START, OUTPUT_END, "[Code Output]\n\n```\n",
    "print(", " == ", " and ", "\\boxed{correct}", "\\boxed{incorrect}", THINK_FINAL, "Question: ",
)


def user_turns(problem: str, steps: Sequence[str]) -> list[str]:
    """GenPRM's user turns: the problem with step 1, then one step per turn."""
    if not steps:
        return []
    return [f"{problem}\n{steps[0]}", *steps[1:]]


def messages(problem: str, steps: Sequence[str], verifications: Sequence[str],
             system: str = SYSTEM) -> list[dict[str, str]]:
    """The chat for verifying ``steps[len(verifications)]``: earlier steps are followed by their
    verifications; it ends with the user turn of the step under review."""
    turns = user_turns(problem, steps)
    if len(verifications) != len(turns) - 1:
        raise ValueError(f"need one verification per earlier step: {len(turns) - 1}, got {len(verifications)}")
    out = [{"role": "system", "content": system}]
    for i, user in enumerate(turns):
        out.append({"role": "user", "content": user})
        if i < len(verifications):
            out.append({"role": "assistant", "content": verifications[i]})
    return out


def render_chat(tokenizer, chat: list[dict[str, str]], generation_prompt: bool = False) -> str:
    """The prompt text, as GenPRM's reference builds it: the chat template up to the user turn of
    the step under review, no generation prompt, so the forced ``<analyze>`` opening follows the
    user turn directly (with a DeepSeek-R1-Distill template: ``...<｜User｜>{step}<analyze>``, no
    ``<｜Assistant｜>`` tag between). ``generation_prompt``: the template's assistant opening, for
    verifiers that start a normal assistant turn (ThinkPRM)."""
    return tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=generation_prompt)


def healed(opening: str) -> str:
    """A forced opening as the prompt ends it: without its trailing spaces, which the model writes.

    Byte-level BPE in the Qwen2 family merges a space into the word after it (``: After`` is
    ``:``, ``ĠAfter``), so a prompt that ends on the bare space token is a sequence the verifier
    never met in training, and it answers it with junk (a digit, as after ``Add Ġ``). Leaving the
    space to the model gives the same text on the tokens it was trained on."""
    return opening.rstrip(" ")


def critique_text(step: str, analysis: str) -> str:
    """The user turn that shows the policy the flagged paragraph and the PRM's analysis of it."""
    return f"{CRITIQUE}\n{step}\n\n{analysis}".rstrip()


def last_code(text: str) -> str | None:
    """The last Python block of a verification (only that one runs, as in the reference)."""
    blocks = _CODE_BLOCK.findall(text)
    return blocks[-1].strip() if blocks else None


def analysis_of(text: str) -> str:
    """The analysis of a verification without its forced opening (the critic's feedback)."""
    m = _ANALYSIS.search(text)
    body = m.group(1) if m else text
    return body.split(":", 1)[1].strip() if ":" in body else body.strip()


def verdict_of(text: str) -> bool | None:
    """True for Yes, False for No, None when the text has no judgement."""
    m = None
    for m in _VERDICT.finditer(text):
        pass
    return None if m is None else m.group(1).lower() == "yes"


def reward_from_logprobs(token_ids: Sequence[int], top_logprobs: Sequence[dict[int, float]],
                         yes_id: int, no_id: int, text: str) -> float:
    """p(Yes) / (p(Yes) + p(No)) at the judgement token: the last Yes or No token of the segment.
    A token missing from the top-k counts as the smallest top-k log-prob; no judgement is 0.5."""
    if verdict_of(text) is None or not top_logprobs:
        return 0.5
    at = max((i for i, t in enumerate(token_ids) if t in (yes_id, no_id)), default=-1)
    if at < 0 or at >= len(top_logprobs):
        return 0.5
    return two_way(top_logprobs[at], yes_id, no_id)


def two_way(tops: dict[int, float], good: int, bad: int) -> float:
    """p(good) / (p(good) + p(bad)) from one position's top-k (missing → smallest top-k)."""
    if not tops:
        return 0.5
    floor = min(tops.values())
    a, b = math.exp(tops.get(good, floor)), math.exp(tops.get(bad, floor))
    return a / (a + b) if a + b > 0 else 0.5


def token_id(tokenizer, word: str) -> int:
    """The id of ``word`` as the model writes it after ``{`` (the reference: last id of its encoding)."""
    return tokenizer.encode(word, add_special_tokens=False)[-1]
