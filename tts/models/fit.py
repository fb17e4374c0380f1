"""What every tiny-model recipe shares: the Qwen2 config, the learning-rate schedule and the
training loop (AdamW, decay on matrices only, gradient clipping, progress bar)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase, Qwen2Config


def qwen2_config(cfg, tokenizer: PreTrainedTokenizerBase, **extra) -> Qwen2Config:
    """Qwen2.5's architecture at testbed size: grouped-query attention (``cfg.kv_heads`` key/value
    heads), biased q/k/v projections, RMSNorm 1e-6, tied embeddings as in Qwen2.5-0.5B/1.5B.
    ``cfg`` has hidden, ffn, layers, heads, kv_heads and max_positions; ``extra`` adds fields."""
    return Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=cfg.hidden, intermediate_size=cfg.ffn,
        num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads, num_key_value_heads=cfg.kv_heads,
        max_position_embeddings=cfg.max_positions, tie_word_embeddings=True, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, use_sliding_window=False,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, dtype="float32", **extra,
    )


def lr_at(step: int, cfg) -> float:
    """Linear warm-up over ``cfg.warmup`` steps, then cosine decay to 0 at ``cfg.steps``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * progress))


def token_weights(labels: torch.Tensor, by_token: dict[int, float]) -> torch.Tensor:
    """A loss weight per label position: ``by_token[label]`` for the tokens named, 1 elsewhere."""
    weights = torch.ones(labels.shape)
    for token, weight in by_token.items():
        weights[labels == token] = weight
    return weights


def weighted_loss(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy with a weight per label position (``labels`` -100 are ignored):
    the weighted mean over the batch, so a weight of 1 everywhere is the model's own loss."""
    logits, labels, weights = logits[:, :-1], labels[:, 1:], weights[:, 1:]
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1),
                                           ignore_index=-100, reduction="none")
    w = weights.reshape(-1) * (labels.reshape(-1) != -100)
    return (ce * w).sum() / w.sum()


def fit(model, cfg, next_batch: Callable[[np.random.Generator], tuple], desc: str, progress: bool = True) -> dict:
    """Train ``model`` for ``cfg.steps`` on ``next_batch(rng)`` -> (input_ids, attention_mask,
    labels) or (..., weights) with a loss weight per position, rows right-padded (the mask only
    counts tokens); ``rng`` seeded from ``cfg.seed``.
    Leaves the model in eval mode and returns the metrics."""
    rng = np.random.default_rng(cfg.seed)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    model.train()
    start, tokens, losses = time.perf_counter(), 0, []
    bar = tqdm(range(cfg.steps), desc=desc, disable=not progress, mininterval=2.0)
    for step in bar:
        input_ids, mask, labels, *weights = next_batch(rng)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        # Rows are right-padded, so under causal attention no real token sees a pad: the mask would
        # change nothing but would force attention off its fused causal kernel (~1.5-2x slower).
        if weights:
            loss = weighted_loss(model(input_ids=input_ids).logits, labels, weights[0])
        else:
            loss = model(input_ids=input_ids, labels=labels).loss
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
