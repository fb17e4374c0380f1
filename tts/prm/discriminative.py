"""Discriminative PRM in Qwen2.5-Math-PRM's convention: the chat (its system prompt, the problem,
the steps each followed by ``<extra_0>``), a two-class head read at every separator, reward =
p(class 1). Loads the checkpoint with ``AutoModel.from_pretrained(path, trust_remote_code=True)``
from the modeling file shipped in its folder, as Qwen2.5-Math-PRM-7B loads (and the shipped twin).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from tts.policy.base import Prefix
from tts.policy.model_path import resolve_model_path
from tts.policy.prompts import QWEN_MATH_SYSTEM
from tts.prm.base import PRMScore, clean_prefix



def chat_of(p: Prefix, separator: str) -> list[dict[str, str]]:
    """Qwen2.5-Math-PRM's input: its system prompt, the problem, then every step followed by the
    separator (steps are joined by nothing else, as in its model card)."""
    return [{"role": "system", "content": QWEN_MATH_SYSTEM}, {"role": "user", "content": p.problem},
            {"role": "assistant", "content": "".join(f"{s}{separator}" for s in p.steps)}]


class DiscriminativePRM:
    name = "dprm"
    # One forward pass gives every step's reward; scoring prefix by prefix would re-read them.
    incremental = False

    def __init__(self, model: str | Path = "tiny-dprm", separator: str | None = None, device: str | None = None,
                 dtype: str = "float32", batch_size: int = 32, max_length: int | None = None) -> None:
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        path = resolve_model_path(model)
        config = AutoConfig.from_pretrained(path, trust_remote_code=True)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=True)
        self.tokenizer.padding_side = "right"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if "AutoModel" not in (getattr(config, "auto_map", None) or {}):
            raise ValueError(f"{path} is not a Qwen2.5-Math-PRM-style checkpoint: its config.json has no auto_map "
                             "entry for AutoModel (the modeling file of its *ForProcessRewardModel)")
        if getattr(config, "pad_token_id", None) is None:  # Qwen2.5-Math-PRM-7B's config has none
            config.pad_token_id = self.tokenizer.pad_token_id
        self.model = AutoModel.from_pretrained(path, config=config, dtype=getattr(torch, dtype),
                                               trust_remote_code=True).to(self.device).eval()
        self.separator = separator or "<extra_0>"
        self.sep_id = self.tokenizer.convert_tokens_to_ids(self.separator)
        if self.sep_id is None or self.sep_id == self.tokenizer.unk_token_id:
            raise ValueError(f"separator {self.separator!r} is not a token of {path}; pass separator=...")
        self.batch_size = batch_size
        self.max_length = max_length or int(getattr(config, "max_position_embeddings", 4096))

    def _text(self, p: Prefix) -> str:
        return self.tokenizer.apply_chat_template(chat_of(p, self.separator), tokenize=False)

    @torch.inference_mode()
    def score(self, prefixes: Sequence[Prefix]) -> list[PRMScore]:
        prefixes = [clean_prefix(p) for p in prefixes]
        out: list[PRMScore] = []
        for start in range(0, len(prefixes), self.batch_size):
            batch = prefixes[start : start + self.batch_size]
            enc = [self.tokenizer(self._text(p)).input_ids for p in batch]
            # Too long: keep the end (the latest steps' separators), as much as fits.
            enc = [ids[-self.max_length :] for ids in enc]
            width = max(map(len, enc))
            pad = self.tokenizer.pad_token_id
            ids = torch.tensor([e + [pad] * (width - len(e)) for e in enc], device=self.device)
            mask = torch.tensor([[1] * len(e) + [0] * (width - len(e)) for e in enc], device=self.device)
            logits = self.model(input_ids=ids, attention_mask=mask)
            logits = logits.logits if hasattr(logits, "logits") else logits[0]
            probs = logits.float().softmax(-1)[..., 1]
            for row, (p, e) in enumerate(zip(batch, enc, strict=True)):
                at = [i for i, t in enumerate(e) if t == self.sep_id]
                rewards = [float(probs[row, i]) for i in at]
                # Steps whose separators were cut off (a prefix longer than the context) score 0.5.
                rewards = [0.5] * (len(p.steps) - len(rewards)) + rewards[-len(p.steps):] if p.steps else []
                out.append(PRMScore(rewards, prompt_tokens=len(e)))
        return out

    def restart(self) -> None:
        """Nothing to forget: scoring is a deterministic forward pass."""

    def close(self) -> None:
        self.model = None
