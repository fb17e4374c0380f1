"""Train the testbed's tiny policy: a Qwen2-architecture twin of Qwen2.5-Math-Instruct, on
generated arithmetic chains of the training grid.

Prompted exactly as Qwen2.5-Math-Instruct is for chain-of-thought (its chat template and system
prompt, through the same prompt file the policy engines use); the completion is the solution, one
sentence-with-equation step per paragraph, then ``<|im_end|>``. A share of the rows are refinement
turns (earlier wrong solutions and a critic's pointer at their first error, then the reference
solution), so the critic mode of ``refine`` has a policy that reads critiques. Loss is on solution
tokens only.
Deterministic given the seed and the thread count (CPU matmul reductions depend on threads, so
``threads`` is part of the recipe).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase, Qwen2ForCausalLM

from tts.grading.steps import DEFAULT_DELIMITER
from tts.models.families import qwen25_math_tokenizer
from tts.models.fit import fit, qwen2_config, token_weights
from tts.policy.prompts import render_prompt
from tts.prm.protocol import critique_text
from tts.tasks.arithmetic import Chain, ChainConfig, generate_chain

PROMPT_FORMAT = "qwen_math_chat"


@dataclass
class PolicyTrainConfig:
    seed: int = 0
    steps: int = 2400
    batch_size: int = 32
    lr: float = 2e-3
    warmup: int = 50
    weight_decay: float = 0.01
    threads: int = 2
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    kv_heads: int = 2
    ffn: int = 384
    max_positions: int = 4096  # Qwen2.5-Math-Instruct's context (RoPE: no weights depend on it)
    refine_share: float = 0.1  # batches of refinement turns after a critic's feedback
    # Loss weight of digit tokens: the arithmetic is a few digits among many predictable words,
    # and a tiny model learns it far sooner when its gradient is not diluted by them.
    digit_weight: float = 4.0
    # Loss weight of the words and signs that name a step's operation: choosing it is the one
    # non-local read a step makes (the t-th operation of the problem), and a third of the first
    # errors of the weighted-digits-only recipe were that read gone wrong ("Add 79" as "Adding 47").
    op_weight: float = 3.0
    chain: ChainConfig = field(default_factory=ChainConfig)


def build_model(cfg: PolicyTrainConfig, tokenizer: PreTrainedTokenizerBase) -> Qwen2ForCausalLM:
    return Qwen2ForCausalLM(qwen2_config(cfg, tokenizer))


def training_text(problem: str, steps: list[str], delimiter: str = DEFAULT_DELIMITER,
                  feedback: tuple[tuple[str, str], ...] = ()) -> tuple[str, str]:
    """(prompt, completion): the completion is every step, joined as the engines will see them;
    the final step ends with EOS rather than a delimiter."""
    prompt = render_prompt(PROMPT_FORMAT, problem, (), delimiter, feedback)
    return prompt, delimiter.join(steps)


def refinement_feedback(rng: np.random.Generator, chain: Chain, turns: int,
                        delimiter: str = DEFAULT_DELIMITER) -> tuple[tuple[str, str], ...]:
    """``turns`` earlier (wrong solution, critique) pairs, as the ``refine`` strategy shows them:
    each a solution with one mistake, and a critique quoting its first wrong paragraph and the
    analysis GenPRM writes of it. The completion after them is the reference solution, so the
    policy learns to use a critic's pointer (GenPRM's critic mode)."""
    from tts.data.rationale import rationales
    from tts.tasks.corrupt import KINDS, corrupt_chain

    problem = chain.problem_text()
    pairs = []
    while len(pairs) < turns:
        bad = corrupt_chain(rng, chain, KINDS[int(rng.integers(len(KINDS)))])
        if bad is None:
            continue
        steps, label = bad
        analysis = rationales(problem, steps)[label].analysis
        pairs.append((delimiter.join(steps), critique_text(steps[label], analysis)))
    return tuple(pairs)


def make_batch(rng: np.random.Generator, cfg: PolicyTrainConfig, tokenizer: PreTrainedTokenizerBase):
    # One chain length per batch: rows are then nearly the same length, so little is padding.
    # Lengths are still drawn uniformly over the grid, batch by batch.
    n_ops = int(rng.integers(cfg.chain.min_ops, cfg.chain.max_ops + 1))
    chains = replace(cfg.chain, min_ops=n_ops, max_ops=n_ops)
    # Refinement batches too are whole batches (of one or two earlier turns), for the same reason.
    turns = 0 if rng.random() >= cfg.refine_share else (1 if rng.random() < 0.7 else 2)
    rows, labels = [], []
    for _ in range(cfg.batch_size):
        chain = generate_chain(rng, chains)
        feedback = refinement_feedback(rng, chain, turns) if turns else ()
        prompt, completion = training_text(chain.problem_text(), chain.gold_steps(), feedback=feedback)
        p_ids = tokenizer(prompt).input_ids
        c_ids = tokenizer(completion, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
        rows.append(p_ids + c_ids)
        labels.append([-100] * len(p_ids) + c_ids)
    width = max(map(len, rows))
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    target = torch.tensor([lab + [-100] * (width - len(lab)) for lab in labels])
    return input_ids, mask, target, token_weights(target, loss_weights(cfg, tokenizer))


# The first word of each phrasing (tts.tasks.arithmetic._SENTENCES) names the operation, as do the
# verb after "Next we" and the operator in the equation.
OPERATION_WORDS = ("Adding", "Subtracting", "Multiplying", "Dividing", " add", " subtract", " multiply",
                   " divide", " +", " -", " *", " //")


def loss_weights(cfg: PolicyTrainConfig, tokenizer: PreTrainedTokenizerBase) -> dict[int, float]:
    """Loss weight by token id: digits, and the first token of each operation word."""
    weights = dict.fromkeys(tokenizer.convert_tokens_to_ids(list("0123456789")), cfg.digit_weight)
    for word in OPERATION_WORDS:
        weights[tokenizer(word, add_special_tokens=False).input_ids[0]] = cfg.op_weight
    return weights


def train_policy(cfg: PolicyTrainConfig, out_dir: str | Path, progress: bool = True) -> dict:
    """Train and save (HF format, safetensors) to ``out_dir``; returns training metrics."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    tokenizer = qwen25_math_tokenizer()
    model = build_model(cfg, tokenizer)
    metrics = fit(model, cfg, lambda rng: make_batch(rng, cfg, tokenizer), "train policy", progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Qwen2.5-Math-Instruct stops at <|im_end|> or <|endoftext|>.
    model.generation_config.eos_token_id = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    metrics["config"] = {k: v for k, v in asdict(cfg).items() if k != "chain"} | {"chain": asdict(cfg.chain)}
    (out / "training.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
