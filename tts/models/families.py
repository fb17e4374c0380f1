"""The special tokens and chat templates of the models the shipped checkpoints stand in for, on
the family's one BPE vocabulary (``tts.models.tokenizer``).

- Qwen2.5 (the policy, like Qwen2.5-Math-Instruct; the discriminative PRM, like Qwen2.5-Math-PRM):
  ``<|endoftext|>``, ``<|im_start|>``, ``<|im_end|>`` and the rest of Qwen2.5's added tokens, in
  Qwen2.5's id order; no BOS; ``<|im_end|>`` ends a turn.
- DeepSeek-R1-Distill-Qwen (GenPRM-1.5B/7B are fine-tuned from it): ``<｜begin▁of▁sentence｜>``
  (BOS), ``<｜end▁of▁sentence｜>`` (EOS and padding), ``<｜User｜>``, ``<｜Assistant｜>``,
  ``<think>``/``</think>``, in that model's id order.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tts.models.tokenizer import build_tokenizer

TEMPLATES = Path(str(resources.files("tts") / "assets" / "chat_templates"))

QWEN25_SPECIAL = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>",
    "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
)
QWEN25_NOT_SPECIAL = ("<tool_call>", "</tool_call>")  # added, but not special, in Qwen2.5
# Qwen2.5-Math-PRM's step separator: its checkpoint has it where Qwen2.5 has <|quad_end|> (151651).
PRM_SEPARATOR = "<extra_0>"

R1_BOS, R1_EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
R1_USER, R1_ASSISTANT = "<｜User｜>", "<｜Assistant｜>"
R1_SPECIAL = (R1_EOS, R1_USER, R1_ASSISTANT, R1_BOS, "<|EOT|>", "<think>", "</think>")
R1_NOT_SPECIAL = ("<think>", "</think>")


def chat_template(name: str) -> str:
    return (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")


def qwen25_math_tokenizer(prm_separator: bool = False):
    """Qwen2.5-Math-Instruct's tokens and chat template; with ``prm_separator``, Qwen2.5-Math-PRM's."""
    special = tuple(PRM_SEPARATOR if prm_separator and t == "<|quad_end|>" else t for t in QWEN25_SPECIAL)
    return build_tokenizer(special, bos=None, eos="<|im_end|>", pad="<|endoftext|>",
                           chat_template=chat_template("qwen2_5_math"), extra=QWEN25_NOT_SPECIAL)


def r1_distill_tokenizer():
    """DeepSeek-R1-Distill-Qwen's tokens and chat template (GenPRM's base model)."""
    return build_tokenizer(R1_SPECIAL, bos=R1_BOS, eos=R1_EOS, pad=R1_EOS,
                           chat_template=chat_template("deepseek_r1_distill_qwen"), extra=R1_NOT_SPECIAL)
