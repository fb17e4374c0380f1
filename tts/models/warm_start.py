"""Start a PRM from a base model's weights, as the real ones are made: GenPRM-1.5B/7B are fine-tuned
from DeepSeek-R1-Distill-Qwen (itself from Qwen2.5-Math), Qwen2.5-Math-PRM-7B from
Qwen2.5-Math-7B-Instruct. Here the base is the policy twin: it already reads the problems, copies
numbers and finds the next operation, which a verifier must do too, so the PRM recipes need far
fewer steps than from scratch.

The decoder is copied whole; embedding rows are matched by token string, so the shared BPE
vocabulary keeps its learnt rows even where the two checkpoints' special tokens differ (the
R1-Distill tokens a GenPRM twin adds keep their fresh initialisation).
"""

from __future__ import annotations

from pathlib import Path

import torch

SHAPE_KEYS = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads")


def warm_start(model, tokenizer, base: str | Path) -> dict:
    """Load ``base`` (a causal-LM checkpoint of the same shape) into ``model``'s decoder
    (``model.model``: a ``Qwen2ForCausalLM`` or the twin's ``Qwen2ForProcessRewardModel``); a causal
    LM's tied output layer follows its embeddings. Returns what was copied."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tts.policy.model_path import resolve_model_path

    path = resolve_model_path(base)
    src = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    src_vocab = AutoTokenizer.from_pretrained(path).get_vocab()
    differ = {k: (getattr(src.config, k), getattr(model.config, k)) for k in SHAPE_KEYS
              if getattr(src.config, k) != getattr(model.config, k)}
    if differ:
        raise ValueError(f"base model {base} has another shape than the model it should start: "
                         + ", ".join(f"{k} {a} vs {b}" for k, (a, b) in differ.items())
                         + "; give the recipe the base's sizes or train without a base")
    state = {k.removeprefix("model."): v for k, v in src.state_dict().items() if k.startswith("model.")}
    src_rows = state.pop("embed_tokens.weight")
    rows = model.model.embed_tokens.weight.detach().clone()
    matched = 0
    for token, i in tokenizer.get_vocab().items():
        j = src_vocab.get(token)
        if j is not None and i < rows.shape[0]:
            rows[i] = src_rows[j]
            matched += 1
    state["embed_tokens.weight"] = rows
    model.model.load_state_dict(state, strict=True)
    if getattr(model.config, "tie_word_embeddings", False) and hasattr(model, "lm_head"):
        model.tie_weights()
    return {"base": str(base), "embedding_rows_copied": matched, "embedding_rows": int(rows.shape[0])}
