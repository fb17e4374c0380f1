"""Sampling with one seeded random stream per batch row, for the HF backend.

``generate(do_sample=True)`` draws every row from the global torch stream, so a row's sample
depends on the rows beside it. Here generation runs greedy and this processor does the sampling
(temperature, top-k, top-p, then inverse-CDF with the row's own pre-drawn uniforms) and leaves a
single allowed token per row, which greedy then picks.
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
    """A logits processor that samples each row from its own stream of uniforms."""

    def __init__(self, seeds: list[int], steps: int, prompt_width: int, sampling: Sampling) -> None:
        self.uniforms = torch.stack([torch.rand(steps, generator=torch.Generator().manual_seed(s), dtype=torch.float64)
                                     for s in seeds])
        self.prompt_width = prompt_width
        self.sampling = sampling

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        t = input_ids.shape[1] - self.prompt_width
        s = self.sampling
        probs = warp(scores, s.temperature, s.top_k, s.top_p).double()
        cdf = probs.cumsum(-1)
        u = self.uniforms[:, t : t + 1].to(cdf.device) * cdf[:, -1:]
        token = torch.searchsorted(cdf, u).clamp_(max=scores.shape[-1] - 1)
        # Never land on a zero-probability token at the edge of the CDF.
        token = torch.where(probs.gather(-1, token) > 0, token, probs.argmax(-1, keepdim=True))
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(-1, token, 0.0)
