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
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import Qwen2ForCausalLM

from tts.data.rationale import StepRationale, genprm_turn, rationales, think_turn
from tts.models import qwen2_rm
from tts.models.families import PRM_SEPARATOR, qwen25_math_tokenizer, r1_distill_tokenizer
from tts.models.fit import fit, qwen2_config, token_weights
from tts.models.qwen2_rm.configuration_qwen2_rm import Qwen2RMConfig
from tts.models.qwen2_rm.modeling_qwen2_rm import Qwen2ForProcessRewardModel
from tts.models.warm_start import warm_start
from tts.policy.base import Prefix
from tts.prm import protocol as P
from tts.prm.discriminative import chat_of
from tts.tasks.jsonl import read_jsonl


@dataclass
class PRMTrainConfig:
    seed: int = 0
    steps: int = 450
    batch_size: int = 24
    lr: float = 2e-3
    warmup: int = 40
    weight_decay: float = 0.01
    threads: int = 2
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    kv_heads: int = 2
    ffn: int = 384
    max_positions: int = 16384  # context in config.json (genprm_7b.yaml asks for 16384); longer chats are dropped
    # The checkpoint the PRM is fine-tuned from (its sizes must be the ones above), as GenPRM is from
    # R1-Distill-Qwen and Qwen2.5-Math-PRM from Qwen2.5-Math-Instruct; None trains from scratch.
    base: str | None = "tiny-policy"
    # Loss weights. The reward is read at the verdict word (Yes/No, correct/incorrect), one token
    # in ~130 of a verification: at weight 1 a tiny model settles on the majority verdict long
    # before it learns to read the code's output. Digits carry the step's claim and the check.
    verdict_weight: float = 10.0
    digit_weight: float = 3.0
    # The operation the problem states next (" Add", " Subtract", ...) and its sign in the code: the
    # one non-local copy a verification makes. At weight 1 it lagged far behind the digits (teacher-
    # forced, most wrong verifications had the right numbers and the wrong operation).
    op_weight: float = 3.0
    # Generative only: shares of the chats written without code / as ThinkPRM.
    formats: dict = field(default_factory=lambda: {"code": 0.7, "nocode": 0.15, "think": 0.15})


# -- examples: token ids and a loss mask ------------------------------------------------------
def _encode(tokenizer, text: str, spans: list[tuple[int, int]]) -> tuple[list[int], list[bool]]:
    """Tokenise ``text`` once (so tokens are what inference sees) and mark a token for loss when it
    starts inside one of the character ``spans``."""
    enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    mask = [any(a <= start < b for a, b in spans) and end > start for start, end in enc.offset_mapping]
    return enc.input_ids, mask


def _written(turn: str, ok: bool, at: int) -> list[tuple[int, int]]:
    """Character spans of a verification starting at ``at`` that the PRM writes (all of it when its
    step passed consensus filtering, none otherwise), without the executed code's output, which it
    reads."""
    if not ok:
        return []
    if "[Code Output]" not in turn:
        return [(at, at + len(turn))]
    head, rest = turn.split("[Code Output]", 1)
    tail = rest[rest.index(P.VERIFY_END):]
    return [(at, at + len(head)), (at + len(turn) - len(tail), at + len(turn))]


def genprm_example(tokenizer, problem: str, steps: list[str], rs: list[StepRationale], keep: list[bool],
                   fmt: str, upto: int | None = None) -> tuple[str, list[tuple[int, int]]]:
    """(text, loss spans) of one training example, laid out exactly as inference prompts it.

    GenPRM (``code``/``nocode``): the chat for verifying step ``upto`` (1-based; default the last)
    rendered without a generation prompt, earlier verifications as assistant turns, then the
    verification of step ``upto`` written straight after its user turn, as the reference prompts
    (with the forced ``<analyze>`` opening, no assistant tag). ThinkPRM: the whole prefix in one
    user turn, the template's assistant opening, one verification, EOS."""
    if fmt == "think":
        chat = [{"role": "system", "content": P.THINK_SYSTEM},
                {"role": "user", "content": problem + "\n\n" + "\n\n".join(steps)}]
        prompt = P.render_chat(tokenizer, chat, generation_prompt=True)
        turn = think_turn(rs) + tokenizer.eos_token
        lines, spans, at = turn.split("\n"), [], len(prompt)
        for i, line in enumerate(lines):  # a verdict line is learnt only where its step passed filtering
            ok = keep[i] if i < len(keep) else all(keep)
            if ok:
                spans.append((at, at + len(line) + 1))
            at += len(line) + 1
        return prompt + turn, spans
    code = fmt == "code"
    upto = len(steps) if upto is None else upto
    turns = [genprm_turn(i + 1, r, code=code) for i, r in enumerate(rs[:upto])]
    prompt = P.render_chat(tokenizer, P.messages(problem, steps[:upto], turns[:-1]))
    spans, cursor = [], 0
    for i, turn in enumerate(turns[:-1]):
        at = prompt.index(turn, cursor)
        spans += _written(turn, keep[i], at)
        cursor = at + len(turn)
    spans += _written(turns[-1], keep[upto - 1], len(prompt))
    return prompt + turns[-1], spans


def verdict_tokens(tokenizer) -> list[int]:
    """Ids of the verdict words GenPRM and ThinkPRM write (the boxed Yes/No and correct/incorrect,
    and ThinkPRM's final " Yes"/" No"): in the PRM's own words they occur nowhere else."""
    ids = [tokenizer(w, add_special_tokens=False).input_ids for w in ("Yes", "No", "correct", "incorrect", " Yes", " No")]
    if any(len(i) != 1 for i in ids):
        raise ValueError(f"{tokenizer.name_or_path!r}: every verdict word must be one token; the family's "
                         "tokenizer keeps them whole (see tts/models/tokenizer.py)")
    return [i[0] for i in ids]


def operation_tokens(tokenizer) -> list[int]:
    """Ids of the words and signs that name an operation in a verification (the problem's phrase
    the analysis quotes, the operator the code applies)."""
    words = (" Add", " Subtract", " Multiply", " Divide", " +", " -", " *", " //")
    ids = [tokenizer(w, add_special_tokens=False).input_ids for w in words]
    return [i[0] for i in ids if len(i) == 1]


def genprm_examples(records: list[dict], tokenizer, seed: int) -> dict[str, list[tuple[list[int], list[bool]]]]:
    """Per format, one example per record verifying its last step, and one more verifying a step
    drawn at random before it (so the unprefixed current turn is seen at every depth)."""
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {"code": [], "nocode": [], "think": []}
    for r in records:
        rs = rationales(r["problem"], r["steps"])
        n = len(r["steps"])
        for fmt in out:
            cuts = [None] if fmt == "think" or n == 1 else [None, int(rng.integers(1, n))]
            for upto in cuts:
                text, spans = genprm_example(tokenizer, r["problem"], r["steps"], rs, r["keep"], fmt, upto)
                out[fmt].append(_encode(tokenizer, text, spans))
    return out


def dprm_example(tokenizer, problem: str, steps: list[str]) -> str:
    """The discriminative PRM's input, exactly as ``DiscriminativePRM`` renders it."""
    return tokenizer.apply_chat_template(chat_of(Prefix(problem, tuple(steps)), PRM_SEPARATOR), tokenize=False)


# -- training -----------------------------------------------------------------------------------
def _similar_lengths(rng: np.random.Generator, by_length: list, n: int) -> list:
    """``n`` examples drawn from a random window of ``4 n`` neighbours in a length-sorted pool:
    every example is drawn as often as with uniform sampling (but at the pool's two ends), and a
    batch pads to little more than its rows' length."""
    width = min(len(by_length), 4 * n)
    lo = int(rng.integers(len(by_length) - width + 1))
    return [by_length[lo + int(i)] for i in rng.integers(width, size=n)]


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
    tokenizer = r1_distill_tokenizer()
    examples = genprm_examples(records, tokenizer, cfg.seed)
    too_long = sum(len(ids) > cfg.max_positions for ex in examples.values() for ids, _ in ex)
    examples = {k: [e for e in v if len(e[0]) <= cfg.max_positions] for k, v in examples.items()}
    fmts = list(cfg.formats)
    weights = np.array([cfg.formats[f] for f in fmts], dtype=float)
    weights /= weights.sum()
    model = Qwen2ForCausalLM(qwen2_config(cfg, tokenizer))
    started = warm_start(model, tokenizer, cfg.base) if cfg.base else {}
    weights_of = dict.fromkeys(tokenizer.convert_tokens_to_ids(list("0123456789")), cfg.digit_weight)
    weights_of |= dict.fromkeys(operation_tokens(tokenizer), cfg.op_weight)
    weights_of |= dict.fromkeys(verdict_tokens(tokenizer), cfg.verdict_weight)

    examples = {k: sorted(v, key=lambda e: len(e[0])) for k, v in examples.items()}

    def next_batch(rng):
        # One format per batch (drawn by its share), rows of similar length (little padding).
        pool = examples[fmts[int(rng.choice(len(fmts), p=weights))]]
        rows, labels = [], []
        for ids, mask in _similar_lengths(rng, pool, cfg.batch_size):
            rows.append(ids)
            labels.append([t if m else -100 for t, m in zip(ids, mask, strict=True)])
        ids, mask, labels = _pad(rows, labels, tokenizer.pad_token_id)
        return ids, mask, labels, token_weights(labels, weights_of)

    metrics = fit(model, cfg, next_batch, "train genprm", progress)
    return _save(model, tokenizer, out_dir, metrics, cfg, data,
                 {"records": len(records), "dropped_too_long": too_long, "warm_start": started})


def train_dprm(data: str | Path, out_dir: str | Path, cfg: PRMTrainConfig | None = None, progress: bool = True) -> dict:
    cfg = cfg or PRMTrainConfig()
    records = _setup(data, cfg)
    tokenizer = qwen25_math_tokenizer(prm_separator=True)
    sep = tokenizer.convert_tokens_to_ids(PRM_SEPARATOR)
    examples = []
    for r in records:
        ids = tokenizer(dprm_example(tokenizer, r["problem"], r["steps"])).input_ids
        at = [i for i, t in enumerate(ids) if t == sep]
        labels = [-100] * len(ids)
        for i, lab, keep in zip(at, r["label"], r["keep"], strict=True):
            if keep:
                labels[i] = lab
        examples.append((ids, labels))
    examples.sort(key=lambda e: len(e[0]))
    config = Qwen2RMConfig(**qwen2_config(cfg, tokenizer).to_dict())
    config.auto_map = dict(qwen2_rm.AUTO_MAP)
    model = Qwen2ForProcessRewardModel(config)
    started = warm_start(model, tokenizer, cfg.base) if cfg.base else {}

    def next_batch(rng):
        picks = _similar_lengths(rng, examples, cfg.batch_size)
        return _pad([p[0] for p in picks], [p[1] for p in picks], tokenizer.pad_token_id)

    metrics = fit(model, cfg, next_batch, "train dprm", progress)
    metrics = _save(model, tokenizer, out_dir, metrics, cfg, data, {"records": len(records), "warm_start": started})
    for f in qwen2_rm.FILES:  # the remote code AutoModel loads (config.json's auto_map names it)
        shutil.copyfile(f, Path(out_dir) / f.name)
    return metrics
