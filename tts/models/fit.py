"""What every tiny-model recipe shares: the Llama config, the learning-rate schedule and the
training loop (AdamW, decay on matrices only, gradient clipping, progress bar)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import LlamaConfig, PreTrainedTokenizerFast


def llama_config(cfg, tokenizer: PreTrainedTokenizerFast, **extra) -> LlamaConfig:
    """``cfg`` has hidden, ffn, layers, heads and max_positions; ``extra`` adds fields (num_labels)."""
    return LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden, intermediate_size=cfg.ffn,
        num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads, num_key_value_heads=cfg.heads,
        max_position_embeddings=cfg.max_positions, tie_word_embeddings=True, rms_norm_eps=1e-5,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, torch_dtype="float32", **extra,
    )


def lr_at(step: int, cfg) -> float:
    """Linear warm-up over ``cfg.warmup`` steps, then cosine decay to 0 at ``cfg.steps``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * progress))


def fit(model, cfg, next_batch: Callable[[np.random.Generator], tuple], desc: str, progress: bool = True) -> dict:
    """Train ``model`` for ``cfg.steps`` on ``next_batch(rng)`` -> (input_ids, attention_mask,
    labels), ``rng`` seeded from ``cfg.seed``; leaves it in eval mode and returns the metrics."""
    rng = np.random.default_rng(cfg.seed)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    model.train()
    start, tokens, losses = time.perf_counter(), 0, []
    bar = tqdm(range(cfg.steps), desc=desc, disable=not progress, mininterval=2.0)
    for step in bar:
        input_ids, mask, labels = next_batch(rng)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        tokens += int(mask.sum())
        losses.append(loss.item())
        if step % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}", tok_s=f"{tokens / (time.perf_counter() - start):.0f}")
    elapsed = time.perf_counter() - start
    model.eval()
    return {"final_loss": float(np.mean(losses[-50:])), "train_seconds": round(elapsed, 1), "tokens": tokens,
            "tokens_per_second": round(tokens / elapsed), "parameters": sum(p.numel() for p in model.parameters())}
