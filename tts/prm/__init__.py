"""Process reward models: generative (GenPRM with code, its no-code ablation, ThinkPRM) and
discriminative (Qwen2.5-Math-PRM style), one interface (``PRM.score``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tts.prm.base import AGGREGATIONS, PRM, PRMScore, aggregate, first_wrong_step
from tts.prm.discriminative import DiscriminativePRM
from tts.prm.generative import GenerativePRM
from tts.prm.think import ThinkPRM

KINDS = ("genprm", "genprm-nocode", "thinkprm", "dprm")


def load_prm(kind: str = "genprm", model: str | Path | None = None, backend: str | None = None,
             samples: int = 1, engine_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> PRM:
    """A PRM. Generative kinds run their model through a policy backend (``vllm`` or ``hf``;
    None: the machine's default) and take ``samples`` (Maj@N); ``model`` defaults to the shipped
    tiny GenPRM (``tiny-genprm``) or tiny discriminative PRM (``tiny-dprm``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown PRM kind {kind!r}; choose one of {KINDS}")
    if kind == "dprm":
        return DiscriminativePRM(model or "tiny-dprm", **kwargs)
    from tts.policy import load_policy

    if backend == "http":
        raise ValueError("generative PRMs need per-token top log-probs: use backend 'vllm' or 'hf', not 'http'")
    engine = load_policy(backend, model=model or "tiny-genprm", **(engine_kwargs or {}))
    if kind == "thinkprm":
        return ThinkPRM(engine, samples=samples, **kwargs)
    return GenerativePRM(engine, samples=samples, code=kind == "genprm", **kwargs)


__all__ = ["AGGREGATIONS", "KINDS", "PRM", "DiscriminativePRM", "GenerativePRM", "PRMScore", "ThinkPRM",
           "aggregate", "first_wrong_step", "load_prm"]
