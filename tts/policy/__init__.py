"""Policy engines: one interface (``Policy``), three backends (vLLM offline, Hugging Face, HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tts.policy.base import (
    GREEDY,
    STOP_DELIMITER,
    STOP_EOS,
    STOP_LENGTH,
    STOP_PROMPT_TOO_LONG,
    BackendUnavailable,
    Policy,
    Prefix,
    Sampling,
    StepCandidate,
)
from tts.policy.model_path import resolve_model_path, shipped_model
from tts.policy.prompts import available_formats, render_prompt

BACKENDS = ("vllm", "hf", "http")


def default_backend() -> str:
    """vLLM where a GPU is present (and vLLM installed), Hugging Face otherwise: on a CPU and tiny
    models vLLM is no faster and takes 20-60 s to start."""
    import importlib.util

    import torch

    if torch.cuda.is_available() and importlib.util.find_spec("vllm") is not None:
        return "vllm"
    return "hf"


def load_policy(backend: str | None = None, model: str | Path = "tiny-policy", **kwargs: Any) -> Policy:
    """A policy engine. ``backend``: ``vllm``, ``hf``, ``http`` or None (the machine's default).
    For ``http``, ``model`` is the served model name (None: whatever the server serves) and
    ``base_url`` is where the server listens."""
    backend = backend or default_backend()
    if backend == "hf":
        from tts.policy.hf import HFPolicy

        return HFPolicy(model, **kwargs)
    if backend == "vllm":
        from tts.policy.vllm_offline import VLLMPolicy

        return VLLMPolicy(model, **kwargs)
    if backend == "http":
        from tts.policy.http import HTTPPolicy

        return HTTPPolicy(model=None if model == "tiny-policy" else str(model), **kwargs)
    raise ValueError(f"unknown policy backend {backend!r}; choose one of {BACKENDS}")


__all__ = [
    "BACKENDS",
    "GREEDY",
    "STOP_DELIMITER",
    "STOP_EOS",
    "STOP_LENGTH",
    "STOP_PROMPT_TOO_LONG",
    "BackendUnavailable",
    "Policy",
    "Prefix",
    "Sampling",
    "StepCandidate",
    "available_formats",
    "default_backend",
    "load_policy",
    "render_prompt",
    "resolve_model_path",
    "shipped_model",
]
