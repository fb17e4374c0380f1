"""Sampling with one seeded random stream per batch row, for the HF backend.

Drawing from the global torch stream would make a row's sample depend on the rows beside it. Here
each row has its own pre-drawn uniforms: temperature, top-k and top-p shape the distribution, then
the row's uniform for that position picks a token by inverse CDF.
"""

from __future__ import annotations

import torch

from tts.policy.base import Sampling


def row_seed(prompt_seed: int, sample: int) -> int:
    """The seed of sample ``sample`` of a prompt seeded ``prompt_seed``."""
    return (prompt_seed * 1_000_003 + sample * 7_919 + 1) % (2**31 - 1)


def warp(scores: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """Next-token probabilities after temperature, top-k and nucleus (top-p) truncation."""
    scores = scores.float() / temperature
    if 0 < top_k < scores.shape[-1]:
        kth = scores.topk(top_k, dim=-1).values[:, -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    probs = scores.softmax(-1)
    if top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        # Drop a token when the tokens ranked above it already reach top_p (the first always stays).
        drop = (sorted_p.cumsum(-1) - sorted_p) >= top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
    return probs / probs.sum(-1, keepdim=True)


class RowSampler:
    """Picks each row's next token from its own stream of uniforms."""

    def __init__(self, seeds: list[int], steps: int, sampling: Sampling) -> None:
        self.uniforms = torch.stack([torch.rand(steps, generator=torch.Generator().manual_seed(s), dtype=torch.float64)
                                     for s in seeds])
        self.sampling = sampling

    def pick(self, scores: torch.Tensor, t: int, rows: torch.Tensor) -> torch.Tensor:
        """The tokens drawn at position ``t`` for the batch rows whose streams are ``rows``
        (``scores``: their logits, ``[len(rows), vocab]``)."""
        s = self.sampling
        probs = warp(scores, s.temperature, s.top_k, s.top_p).double()
        cdf = probs.cumsum(-1)
        u = self.uniforms[rows, t : t + 1].to(cdf.device) * cdf[:, -1:]
        token = torch.searchsorted(cdf, u).clamp_(max=scores.shape[-1] - 1)
        # Never land on a zero-probability token at the edge of the CDF.
        token = torch.where(probs.gather(-1, token) > 0, token, probs.argmax(-1, keepdim=True))
        return token.squeeze(-1)
