"""Policy engines: one interface (``Policy``), three backends (vLLM offline, Hugging Face, HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tts.policy.base import (
    GREEDY,
    STOP_CONTEXT,
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
from tts.policy.steps import DEFAULT_STEPS, StepSettings

BACKENDS = ("vllm", "hf", "http")


def default_backend() -> str:
    """vLLM where a GPU is present (and vLLM installed), Hugging Face otherwise: on a CPU and tiny
    models vLLM is no faster and takes 20-60 s to start."""
    import importlib.util

    import torch

    if torch.cuda.is_available() and importlib.util.find_spec("vllm") is not None:
        return "vllm"
    return "hf"


VLLM_ONLY = ("tensor_parallel_size", "gpu_memory_utilization", "enforce_eager")
ENGINE_KEYS = ("dtype", "max_model_len", *VLLM_ONLY)


def engine_options(backend: str, engine_kwargs: dict[str, Any] | None = None, **keys: Any) -> dict[str, Any]:
    """The engine arguments of a config: the named engine keys that are set (None: the engine's
    default) and the pass-through ``engine_kwargs``. A key the backend cannot take is an error
    that names it, never silently dropped."""
    out = {k: v for k, v in keys.items() if v is not None}
    unknown = [k for k in out if k not in ENGINE_KEYS]
    if unknown:
        raise ValueError(f"unknown engine key(s) {unknown}; named keys are {list(ENGINE_KEYS)}, "
                         "anything else goes in engine_kwargs")
    clash = sorted(set(out) & set(engine_kwargs or {}))
    if clash:
        raise ValueError(f"engine key(s) {clash} given twice: as a key and in engine_kwargs")
    out.update(engine_kwargs or {})
    if backend == "hf":
        refused = [k for k in VLLM_ONLY if k in out]
        if refused:
            raise ValueError(f"{refused} are vLLM engine keys; the hf backend takes dtype, max_model_len, device, "
                             "max_batch_size (set backend=vllm, or unset them)")
    if backend == "http":
        if engine_kwargs:
            raise ValueError(f"engine_kwargs {sorted(engine_kwargs)} belong to the server with backend=http: start the "
                             "server with them (python -m vllm.entrypoints.openai.api_server ...), not the client")
        if out:  # a config written for an in-process engine, pointed at a server: the server's own settings hold
            import warnings

            warnings.warn(f"backend=http: the engine keys {sorted(out)} are the server's; they are not applied here",
                          stacklevel=3)
        return {}
    return out


def load_policy(backend: str | None = None, model: str | Path = "tiny-policy",
                engine_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> Policy:
    """A policy engine. ``backend``: ``vllm``, ``hf``, ``http`` or None (the machine's default).
    For ``http``, ``model`` is the served model name (None: whatever the server serves) and
    ``base_url`` is where the server listens. Engine keys (``dtype``, ``max_model_len``,
    ``tensor_parallel_size``, ``gpu_memory_utilization``, ``enforce_eager``; None: the engine's
    default) and ``engine_kwargs`` (any other engine argument) go to the engine."""
    backend = backend or default_backend()
    if kwargs.get("base_url") is None:
        kwargs.pop("base_url", None)
    elif backend != "http":
        raise ValueError(f"base_url is for backend=http, not {backend!r}")
    keys = {k: kwargs.pop(k) for k in ENGINE_KEYS if k in kwargs}
    kwargs.update(engine_options(backend, engine_kwargs, **keys))
    if backend == "hf":
        from tts.policy.hf import HFPolicy

        return HFPolicy(model, **kwargs)
    if backend == "vllm":
        from tts.policy.vllm_offline import VLLMPolicy

        return VLLMPolicy(model, **kwargs)
    if backend == "http":
        from tts.policy.http import HTTPPolicy

        return HTTPPolicy(model=None if model in (None, "tiny-policy") else str(model), **kwargs)
    raise ValueError(f"unknown policy backend {backend!r}; choose one of {BACKENDS}")


__all__ = [
    "BACKENDS",
    "DEFAULT_STEPS",
    "GREEDY",
    "STOP_CONTEXT",
    "STOP_DELIMITER",
    "STOP_EOS",
    "STOP_LENGTH",
    "STOP_PROMPT_TOO_LONG",
    "ENGINE_KEYS",
    "BackendUnavailable",
    "Policy",
    "Prefix",
    "Sampling",
    "StepCandidate",
    "StepSettings",
    "available_formats",
    "default_backend",
    "engine_options",
    "load_policy",
    "render_prompt",
    "resolve_model_path",
    "shipped_model",
]
