"""The HF backend's per-row sampler against transformers' own warpers and a plain draw."""

from __future__ import annotations

import pytest
import torch
from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from tts.policy import Sampling
from tts.policy.row_sampler import RowSampler, warp


@pytest.mark.parametrize(("temperature", "top_k", "top_p"), [(1.0, 0, 1.0), (0.7, 5, 1.0), (1.3, 0, 0.8), (0.8, 12, 0.9)])
def test_warp_matches_transformers_warpers(temperature, top_k, top_p):
    scores = torch.randn(6, 40, generator=torch.Generator().manual_seed(1)) * 3
    ref = TemperatureLogitsWarper(temperature)(None, scores.clone())
    if top_k:
        ref = TopKLogitsWarper(top_k)(None, ref)
    if top_p < 1:
        ref = TopPLogitsWarper(top_p)(None, ref)
    assert torch.allclose(warp(scores, temperature, top_k, top_p), ref.softmax(-1), atol=1e-6)


def test_rows_draw_from_their_own_stream_in_proportion():
    probs = torch.tensor([0.1, 0.6, 0.3])
    scores = probs.log().expand(4000, 3).clone()
    sampler = RowSampler(list(range(4000)), steps=1, sampling=Sampling(temperature=1.0))
    tokens = sampler.pick(scores, 0, torch.arange(4000))
    freq = torch.bincount(tokens, minlength=3).float() / 4000
    assert torch.allclose(freq, probs, atol=0.03)
    # A row's draw depends only on its own stream, wherever it stands in the batch.
    assert sampler.pick(scores[:1], 0, torch.tensor([17])).item() == tokens[17].item()
    alone = RowSampler([17], steps=1, sampling=Sampling(temperature=1.0))
    assert alone.pick(scores[:1], 0, torch.tensor([0])).item() == tokens[17].item()


def test_a_zero_probability_token_is_never_drawn():
    scores = torch.tensor([[0.0, float("-inf"), 0.0]]).expand(500, 3).clone()
    tokens = RowSampler(list(range(500)), steps=1, sampling=Sampling(temperature=1.0)).pick(scores, 0, torch.arange(500))
    assert not (tokens == 1).any()
