"""Process reward models: generative (GenPRM with code, its no-code ablation, ThinkPRM) and
discriminative (Qwen2.5-Math-PRM style), one interface (``PRM.score``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tts.policy.base import Sampling
from tts.prm.base import AGGREGATIONS, PRM, PRMScore, aggregate, first_wrong_step
from tts.prm.discriminative import DiscriminativePRM
from tts.prm.generative import GenerativePRM
from tts.prm.think import ThinkPRM

KINDS = ("genprm", "genprm-nocode", "thinkprm", "dprm")


def load_prm(kind: str = "genprm", model: str | Path | None = None, backend: str | None = None,
             samples: int = 1, sampling: dict[str, Any] | Sampling | None = None,
             engine_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> PRM:
    """A PRM. Generative kinds run their model through a policy backend (``vllm`` or ``hf``;
    ``http``: an OpenAI-compatible server at ``base_url``; None: the machine's default) and take
    ``samples`` (Maj@N) with ``sampling`` (temperature,
    top_p, top_k of each sampled verification; one verification is greedy); ``model`` defaults to
    the shipped tiny GenPRM (``tiny-genprm``) or tiny discriminative PRM (``tiny-dprm``). Engine
    keys (``dtype``, ``max_model_len``, ...) and ``engine_kwargs`` go to the verifier's engine."""
    if kind not in KINDS:
        raise ValueError(f"unknown PRM kind {kind!r}; choose one of {KINDS}")
    from tts.policy import ENGINE_KEYS, load_policy

    keys = {k: kwargs.pop(k) for k in ENGINE_KEYS if k in kwargs}
    if kind == "dprm":
        from tts.policy import engine_options

        if kwargs.pop("base_url", None) is not None:
            raise ValueError("kind='dprm' runs in this process (a reward head, not a served generator); "
                             "base_url is for the generative kinds with backend='http'")

        opts = engine_options("hf", engine_kwargs, **keys)
        if "max_model_len" in opts:
            opts["max_length"] = opts.pop("max_model_len")
        return DiscriminativePRM(model or "tiny-dprm", **opts, **kwargs)
    if backend == "http":
        # The server holds the weights; this side renders chats with the checkpoint's tokenizer.
        engine = load_policy("http", model=None, tokenizer=str(model or "tiny-genprm"),
                             base_url=kwargs.pop("base_url", None) or "http://127.0.0.1:8000",
                             engine_kwargs=engine_kwargs, **keys)
    else:
        kwargs.pop("base_url", None)
        engine = load_policy(backend, model=model or "tiny-genprm", engine_kwargs=engine_kwargs, **keys)
    if samples > 1 and sampling is not None:
        kwargs["sampling"] = sampling if isinstance(sampling, Sampling) else Sampling(**dict(sampling))
    if kind == "thinkprm":
        return ThinkPRM(engine, samples=samples, **kwargs)
    return GenerativePRM(engine, samples=samples, code=kind == "genprm", **kwargs)


__all__ = ["AGGREGATIONS", "KINDS", "PRM", "DiscriminativePRM", "GenerativePRM", "PRMScore", "ThinkPRM",
           "aggregate", "first_wrong_step", "load_prm"]
