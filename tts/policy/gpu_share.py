"""A policy and a PRM on one GPU: each vLLM engine asks for a fraction of the GPU's memory
(``gpu_memory_utilization``, 0.9 by default), so two engines in one process cannot both start
unless their fractions are set to fit together. This splits the GPU from the models' sizes.

Each engine needs its weights (with headroom for activations and CUDA graphs) plus a KV cache
that holds at least one full context; what is left of the usable memory is shared so that both
engines can cache the same number of tokens. Explicit fractions are kept; the other engine gets
the rest. When they cannot fit, the error says what each needs and what to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

GIB = 2**30
USABLE = 0.9  # of the GPU's memory: vLLM's own default ceiling for one engine
OVERHEAD = 1.2  # weights x this: activations, CUDA graphs, allocator slack
DTYPE_BYTES = {"float32": 4, "float": 4, "bfloat16": 2, "float16": 2, "half": 2, "auto": 2}


@dataclass(frozen=True)
class EngineSize:
    """What one engine needs, in bytes: its weights and the KV cache of one token."""

    name: str
    weight_bytes: int
    kv_bytes_per_token: int
    max_model_len: int

    @property
    def floor(self) -> float:
        """Weights with headroom, plus a KV cache for one full context."""
        return self.weight_bytes * OVERHEAD + self.kv_bytes_per_token * self.max_model_len


def engine_size(name: str, model_dir: str | Path, dtype: str | None = None,
                max_model_len: int | None = None) -> EngineSize:
    """The size of a Hugging Face checkpoint from its ``config.json`` (parameters counted on the
    meta device, so nothing is loaded) in ``dtype`` (default: the checkpoint's own)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(model_dir, trust_remote_code=True)
    own = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    dtype = dtype or str(own or "bfloat16").replace("torch.", "")
    width = DTYPE_BYTES.get(dtype)
    if width is None:
        raise ValueError(f"dtype {dtype!r} of {name} is not one of {sorted(DTYPE_BYTES)}")
    with torch.device("meta"):
        params = sum(p.numel() for p in AutoModelForCausalLM.from_config(config).parameters())
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    kv = 2 * config.num_hidden_layers * kv_heads * head_dim * width
    context = max_model_len or int(getattr(config, "max_position_embeddings", 4096))
    return EngineSize(name, params * width, kv, context)


def split_gpu_memory(policy: EngineSize, prm: EngineSize, total_bytes: int,
                     policy_share: float | None = None, prm_share: float | None = None) -> tuple[float, float]:
    """``gpu_memory_utilization`` for the policy's and the PRM's engines on one GPU of
    ``total_bytes``. A share given explicitly is kept. Raises ``ValueError`` naming what each
    engine needs when they cannot both fit."""
    usable = USABLE * total_bytes
    need = {policy.name: policy.floor, prm.name: prm.floor}

    def gib(x: float) -> str:
        return f"{x / GIB:.1f} GiB"

    fix = ("lower max_model_len (the KV cache of one full context is part of each need), load in a smaller dtype, "
           "use a smaller PRM, or serve the PRM on another GPU behind its own server (prm.backend=http)")
    if policy_share is not None and prm_share is not None:
        if policy_share + prm_share > 0.95:
            raise ValueError(f"policy and PRM gpu_memory_utilization add up to {policy_share + prm_share:.2f} > 0.95: "
                             "two engines on one GPU must leave room for each other")
        return policy_share, prm_share
    if policy_share is not None or prm_share is not None:
        fixed, other = (policy, prm) if policy_share is not None else (prm, policy)
        share = policy_share if policy_share is not None else prm_share
        rest = USABLE - share
        if rest * total_bytes < other.floor:
            raise ValueError(f"{fixed.name} takes gpu_memory_utilization={share:.2f}, which leaves {gib(rest * total_bytes)} "
                             f"of the GPU's {gib(total_bytes)}; {other.name} needs {gib(other.floor)}: lower the first, or {fix}")
        return (share, rest) if fixed is policy else (rest, share)
    if sum(need.values()) > usable:
        raise ValueError(f"the policy ({gib(need[policy.name])}) and the PRM ({gib(need[prm.name])}) do not fit together "
                         f"in {gib(usable)} ({USABLE:.0%} of this GPU's {gib(total_bytes)}): {fix}")
    # The rest of the usable memory goes to KV caches, so both can hold the same number of tokens.
    extra = usable - sum(need.values())
    tokens = extra / (policy.kv_bytes_per_token + prm.kv_bytes_per_token)
    shares = [(e.floor + tokens * e.kv_bytes_per_token) / total_bytes for e in (policy, prm)]
    return round(shares[0], 4), round(shares[1], 4)


def share_one_gpu(policy: dict, prm: dict, total_bytes: int | None = None) -> tuple[dict, dict]:
    """Policy and PRM engine configs (``load_policy`` / ``load_prm`` keyword dicts) with their
    ``gpu_memory_utilization`` set to fit together, when both are vLLM engines with a generative
    PRM on this machine's GPU; unchanged otherwise. ``total_bytes``: the GPU's memory (default:
    read from CUDA)."""
    from tts.policy import default_backend
    from tts.policy.model_path import resolve_model_path

    backends = (policy.get("backend") or default_backend(), prm.get("backend") or default_backend())
    if backends != ("vllm", "vllm") or prm.get("kind") == "dprm":
        return policy, prm
    if total_bytes is None:
        import torch

        if not torch.cuda.is_available():
            return policy, prm
        total_bytes = torch.cuda.mem_get_info()[1]
    sizes = [engine_size(name, resolve_model_path(cfg.get("model") or default), cfg.get("dtype"), cfg.get("max_model_len"))
             for name, cfg, default in (("policy", policy, "tiny-policy"), ("PRM", prm, "tiny-genprm"))]
    shares = split_gpu_memory(*sizes, total_bytes, policy.get("gpu_memory_utilization"),
                              prm.get("gpu_memory_utilization"))
    return ({**policy, "gpu_memory_utilization": shares[0]}, {**prm, "gpu_memory_utilization": shares[1]})
