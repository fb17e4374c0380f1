"""Grouped-query attention for the HF engine that never copies the key/value cache.

transformers' ``sdpa`` attention hands grouped-query attention to the fused kernel
(``enable_gqa``) only when there is no attention mask; with one (every left-padded batch, so every
batched ``generate``) it first repeats each key/value head ``num_key_value_groups`` times, a copy
of the whole cache per layer per decoded token. On batched GenPRM verification that copy was 29 %
of the wall time on the CPU; torch's CPU kernel takes the mask and ``enable_gqa`` together (8x
faster per call on a 64-row, 1,500-token decode, identical output). The engine selects it on the
CPU only: on CUDA, a masked GQA call falls back to the math kernel, which repeats the heads itself.
"""

from __future__ import annotations

import torch
from transformers import AttentionInterface
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

NAME = "tts_sdpa_gqa"


def sdpa_gqa_forward(module: torch.nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                     attention_mask: torch.Tensor | None, dropout: float = 0.0, scaling: float | None = None,
                     is_causal: bool | None = None, **kwargs) -> tuple[torch.Tensor, None]:
    """transformers' attention-function signature: ``query`` ``[batch, heads, q, dim]``, ``key`` and
    ``value`` ``[batch, kv_heads, k, dim]``; returns ``[batch, q, heads, dim]``."""
    is_causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    # A boolean or additive mask already encodes causality; the fused causal path is for maskless
    # prefill only (as transformers decides it).
    is_causal = bool(query.shape[2] > 1 and attention_mask is None and is_causal)
    out = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, attn_mask=attention_mask, dropout_p=dropout, scale=scaling, is_causal=is_causal,
        enable_gqa=key.shape[1] != query.shape[1])
    return out.transpose(1, 2).contiguous(), None


AttentionInterface.register(NAME, sdpa_gqa_forward)
# The same masks as ``sdpa`` (an unregistered name would get none: padding would be attended).
AttentionMaskInterface.register(NAME, sdpa_mask)


def attention_for(device: torch.device) -> str:
    """The ``attn_implementation`` the HF engine loads its model with on ``device``."""
    return NAME if device.type == "cpu" else "sdpa"
