"""Train the testbed's tiny PRMs on synthesised data (``tts prm synth``).

Generative (GenPRM format): one multi-turn verification chat per sampled solution; the loss covers
the PRM's own words (analysis, code, judgement) of the steps that passed consensus filtering, and
never the executed code's output, which the model reads but does not write. A share of the chats
is written without code (the no-code ablation) and a share as ThinkPRM verifications, so the one
shipped model serves all three verifier styles.

Discriminative (Qwen2.5-Math-PRM style): a separator token after each step and a two-class head
read at each separator, trained on the same steps and labels.

Deterministic given the seed and the thread count.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import LlamaForCausalLM, LlamaForTokenClassification

from tts.data.rationale import StepRationale, genprm_turn, rationales, think_turn
from tts.models.fit import fit, llama_config
from tts.models.prm_tokenizers import (
    SEPARATOR,
    dprm_tokenizer,
    genprm_tokenizer,
    render_segments,
)
from tts.prm import protocol as P
from tts.tasks.jsonl import read_jsonl


@dataclass
class PRMTrainConfig:
    seed: int = 0
    steps: int = 700
    batch_size: int = 24
    lr: float = 2e-3
    warmup: int = 40
    weight_decay: float = 0.01
    threads: int = 2
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    ffn: int = 256
    max_positions: int = 1024
    # Generative only: shares of the chats written without code / as ThinkPRM.
    formats: dict = field(default_factory=lambda: {"code": 0.7, "nocode": 0.15, "think": 0.15})


# -- examples: token ids and a loss mask ------------------------------------------------------
def _encode(tokenizer, pieces: list[tuple[str, bool]]) -> tuple[list[int], list[bool]]:
    """Tokenise the concatenated text once (so tokens are what inference sees) and mark a token
    for loss when it starts inside a piece marked True."""
    text = "".join(p for p, _ in pieces)
    enc = tokenizer(text, return_offsets_mapping=True)
    spans, at = [], 0
    for piece, loss in pieces:
        if loss:
            spans.append((at, at + len(piece)))
        at += len(piece)
    mask = [any(a <= start < b for a, b in spans) and end > start for start, end in enc.offset_mapping]
    return enc.input_ids, mask


def _genprm_pieces(problem: str, steps: list[str], rs: list[StepRationale], keep: list[bool],
                   fmt: str) -> list[tuple[str, bool]]:
    if fmt == "think":
        user = problem + "\n\n" + "\n\n".join(steps)
        chat = [{"role": "system", "content": P.THINK_SYSTEM}, {"role": "user", "content": user},
                {"role": "assistant", "content": think_turn(rs)}]
        pieces = []
        for role, text in render_segments(chat):
            if role != "assistant":
                pieces.append((text, False))
                continue
            lines = text.split("\n")
            for i, line in enumerate(lines):
                ok = keep[i] if i < len(keep) else all(keep)
                pieces.append((line + ("\n" if i < len(lines) - 1 else ""), ok))
        return pieces
    code = fmt == "code"
    turns = [genprm_turn(i + 1, r, code=code) for i, r in enumerate(rs)]
    chat = P.messages(problem, steps, turns[:-1]) + [{"role": "assistant", "content": turns[-1]}]
    pieces = []
    t = 0
    for role, text in render_segments(chat):
        if role != "assistant":
            pieces.append((text, False))
            continue
        ok = keep[t]
        t += 1
        if code and "[Code Output]" in text:  # the executed output is read, not written
            head, rest = text.split("[Code Output]", 1)
            out, tail = rest.split(P.VERIFY_END, 1)
            pieces += [(head, ok), ("[Code Output]" + out, False), (P.VERIFY_END + tail, ok)]
        else:
            pieces.append((text, ok))
    return pieces


def genprm_examples(records: list[dict], tokenizer) -> dict[str, list[tuple[list[int], list[bool]]]]:
    out: dict[str, list] = {"code": [], "nocode": [], "think": []}
    for r in records:
        rs = rationales(r["problem"], r["steps"])
        for fmt in out:
            out[fmt].append(_encode(tokenizer, _genprm_pieces(r["problem"], r["steps"], rs, r["keep"], fmt)))
    return out


def dprm_example(tokenizer, problem: str, steps: list[str]) -> str:
    """The discriminative PRM's input: the problem, then each step followed by the separator."""
    chat = [{"role": "user", "content": problem},
            {"role": "assistant", "content": "".join(f"{s}{SEPARATOR}" for s in steps)}]
    return tokenizer.apply_chat_template(chat, tokenize=False)


# -- training -----------------------------------------------------------------------------------
def _pad(rows: list[list[int]], labels: list[list[int]], pad: int):
    width = max(map(len, rows))  # right padding: training positions start at 0 in every row
    ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    lab = torch.tensor([lab + [-100] * (width - len(lab)) for lab in labels])
    return ids, mask, lab


def _save(model, tokenizer, out_dir: str | Path, metrics: dict, cfg: PRMTrainConfig, data: str | Path, extra: dict) -> dict:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "generation_config") and model.generation_config is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    metrics = metrics | {"config": asdict(cfg), "data": str(data)} | extra
    (out / "training.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def _setup(data: str | Path, cfg: PRMTrainConfig) -> list[dict]:
    """Threads and seed (both part of the recipe), then the synthesised records."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    return list(read_jsonl(data))


def train_genprm(data: str | Path, out_dir: str | Path, cfg: PRMTrainConfig | None = None, progress: bool = True) -> dict:
    cfg = cfg or PRMTrainConfig()
    records = _setup(data, cfg)
    tokenizer = genprm_tokenizer()
    examples = genprm_examples(records, tokenizer)
    too_long = sum(len(ids) > cfg.max_positions for ex in examples.values() for ids, _ in ex)
    examples = {k: [e for e in v if len(e[0]) <= cfg.max_positions] for k, v in examples.items()}
    fmts = list(cfg.formats)
    weights = np.array([cfg.formats[f] for f in fmts], dtype=float)
    weights /= weights.sum()
    model = LlamaForCausalLM(llama_config(cfg, tokenizer))

    def next_batch(rng):
        rows, labels = [], []
        for _ in range(cfg.batch_size):
            pool = examples[fmts[int(rng.choice(len(fmts), p=weights))]]
            ids, mask = pool[int(rng.integers(len(pool)))]
            rows.append(ids)
            labels.append([t if m else -100 for t, m in zip(ids, mask, strict=True)])
        return _pad(rows, labels, tokenizer.pad_token_id)

    metrics = fit(model, cfg, next_batch, "train genprm", progress)
    return _save(model, tokenizer, out_dir, metrics, cfg, data,
                 {"records": len(records), "dropped_too_long": too_long})


def train_dprm(data: str | Path, out_dir: str | Path, cfg: PRMTrainConfig | None = None, progress: bool = True) -> dict:
    cfg = cfg or PRMTrainConfig()
    records = _setup(data, cfg)
    tokenizer = dprm_tokenizer()
    sep = tokenizer.convert_tokens_to_ids(SEPARATOR)
    examples = []
    for r in records:
        ids = tokenizer(dprm_example(tokenizer, r["problem"], r["steps"])).input_ids
        at = [i for i, t in enumerate(ids) if t == sep]
        labels = [-100] * len(ids)
        for i, lab, keep in zip(at, r["rpe"], r["keep"], strict=True):
            if keep:
                labels[i] = lab
        examples.append((ids, labels))
    model = LlamaForTokenClassification(llama_config(cfg, tokenizer, num_labels=2))

    def next_batch(rng):
        picks = [examples[int(rng.integers(len(examples)))] for _ in range(cfg.batch_size)]
        return _pad([p[0] for p in picks], [p[1] for p in picks], tokenizer.pad_token_id)

    metrics = fit(model, cfg, next_batch, "train dprm", progress)
    model.config.prm_separator = SEPARATOR
    return _save(model, tokenizer, out_dir, metrics, cfg, data, {"records": len(records)})
