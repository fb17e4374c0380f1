"""Train the testbed's tiny policy: a Llama-architecture model on generated arithmetic chains.

Deterministic given the seed and the thread count (CPU matmul reductions depend on threads, so
``threads`` is part of the recipe). Loss is on solution tokens only; prompts come from the same
prompt file the policy engines use.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from tts.grading.steps import DEFAULT_DELIMITER
from tts.models.fit import fit, llama_config
from tts.models.tokenizer import build_tokenizer
from tts.policy.prompts import render_prompt
from tts.tasks.arithmetic import ChainConfig, generate_chain

PROMPT_FORMAT = "testbed"


@dataclass
class PolicyTrainConfig:
    seed: int = 0
    steps: int = 800
    batch_size: int = 64
    lr: float = 2e-3
    warmup: int = 50
    weight_decay: float = 0.01
    threads: int = 2
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    ffn: int = 256
    max_positions: int = 512
    chain: ChainConfig = field(default_factory=lambda: ChainConfig(min_ops=2, max_ops=6))


def build_model(cfg: PolicyTrainConfig, tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    return LlamaForCausalLM(llama_config(cfg, tokenizer))


def training_text(problem: str, steps: list[str], delimiter: str = DEFAULT_DELIMITER) -> tuple[str, str]:
    """(prompt, completion): the completion is every step, joined as the engines will see them;
    the final step ends with EOS rather than a delimiter."""
    prompt = render_prompt(PROMPT_FORMAT, problem, (), delimiter)
    return prompt, delimiter.join(steps)


def make_batch(rng: np.random.Generator, cfg: PolicyTrainConfig, tokenizer: PreTrainedTokenizerFast):
    rows, labels = [], []
    for _ in range(cfg.batch_size):
        chain = generate_chain(rng, cfg.chain)
        prompt, completion = training_text(chain.problem_text(), chain.gold_steps())
        p_ids = tokenizer(prompt).input_ids  # with BOS
        c_ids = tokenizer(completion, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
        rows.append(p_ids + c_ids)
        labels.append([-100] * len(p_ids) + c_ids)
    width = max(map(len, rows))
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    target = torch.tensor([lab + [-100] * (width - len(lab)) for lab in labels])
    return input_ids, mask, target


def train_policy(cfg: PolicyTrainConfig, out_dir: str | Path, progress: bool = True) -> dict:
    """Train and save (HF format, safetensors) to ``out_dir``; returns training metrics."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    tokenizer = build_tokenizer()
    model = build_model(cfg, tokenizer)
    metrics = fit(model, cfg, lambda rng: make_batch(rng, cfg, tokenizer), "train policy", progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    metrics["config"] = {k: v for k, v in asdict(cfg).items() if k != "chain"} | {"chain": asdict(cfg.chain)}
    (out / "training.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
