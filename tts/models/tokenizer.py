"""The testbed's tokenizer family, in Qwen2's style, built with the ``tokenizers`` library.

Byte-level BPE with Qwen2's pre-tokenization (its split regex, so digits are one token each and
arithmetic stays learnable; NFC; byte-level alphabet), merges learnt here on the testbed's own text
(problems, solutions, verifications, the protocols' fixed strings) once, and shipped frozen in
``tts/assets/tokenizer/bpe.json`` (``tts train tokenizer`` re-learns it). One vocabulary serves every
shipped model; each checkpoint adds the special tokens of the model it stands in for (Qwen2.5's
``<|im_start|>`` family, or DeepSeek-R1-Distill-Qwen's ``<｜User｜>`` family for GenPRM), as the real
checkpoints add theirs to Qwen2's BPE. Saved as a ``Qwen2Tokenizer``, so
``AutoTokenizer.from_pretrained`` loads it exactly as it loads a Qwen2 checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import Qwen2Tokenizer
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

VOCAB_SIZE = 1024  # byte alphabet + merges; the testbed's words all fit well below this
CORPUS_SEED = 20_261_125
CORPUS_CHAINS = 1500


def _bpe_tokenizer() -> Tokenizer:
    """An empty BPE model with Qwen2's normalizer and pre-tokenizer (taken from transformers'
    ``Qwen2Tokenizer``, so the two cannot drift apart)."""
    ref = Qwen2Tokenizer(vocab={"<|endoftext|>": 0}, merges=[])._tokenizer
    tok = Tokenizer(models.BPE(dropout=None, unk_token=None, continuing_subword_prefix="", end_of_word_suffix="",
                               fuse_unk=False, byte_fallback=False))
    tok.normalizer = ref.normalizer
    tok.pre_tokenizer = ref.pre_tokenizer
    tok.decoder = ref.decoder
    return tok


def corpus(seed: int = CORPUS_SEED, chains: int = CORPUS_CHAINS) -> list[str]:
    """The text the merges are learnt from: the training grid's problems with their reference and
    corrupted solutions, and the PRM protocols' verifications of them."""
    from tts.data.rationale import genprm_turn, rationales, think_turn
    from tts.policy.prompts import QWEN_MATH_SYSTEM
    from tts.prm import protocol as P
    from tts.tasks.arithmetic import ChainConfig, generate_chain
    from tts.tasks.corrupt import KINDS, corrupt_chain

    rng = np.random.default_rng(seed)
    # Words a chat template or a verdict writes on their own: whole tokens in Qwen2's vocabulary,
    # so they should be whole here (a verdict is read at its token).
    own_words = "system user assistant Yes No correct incorrect True False"
    texts = [QWEN_MATH_SYSTEM, *P.PIECES, *[own_words] * 20]
    for _ in range(chains):
        chain = generate_chain(rng, ChainConfig())
        problem = chain.problem_text()
        solutions = [chain.gold_steps()]
        bad = corrupt_chain(rng, chain, KINDS[int(rng.integers(len(KINDS)))])
        if bad is not None:
            solutions.append(bad[0])
        for steps in solutions:
            rs = rationales(problem, steps)
            texts += [problem, "\n\n".join(steps), think_turn(rs)]
            texts += [genprm_turn(i + 1, r, code=bool(i % 2)) for i, r in enumerate(rs)]
    return texts


# The family's vocabulary, learnt once and shipped: every checkpoint's embedding rows are indexed by
# it, so it must not move when the corpus does (a new PRM rationale format would otherwise change
# the merges and orphan the policy). Real families work the same way: Qwen2's BPE is fixed, and
# every model built on it reads the same ids.
FROZEN = Path(str(resources.files("tts") / "assets" / "tokenizer" / "bpe.json"))


@lru_cache(maxsize=1)
def bpe_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """(vocab, merges) of the family: the frozen vocabulary shipped in ``tts/assets/tokenizer``."""
    if not FROZEN.is_file():
        raise FileNotFoundError(f"the family's BPE vocabulary is missing at {FROZEN}; learn one with "
                                f"`tts train tokenizer --out {FROZEN}` (every shipped checkpoint must then be retrained)")
    data = json.loads(FROZEN.read_text(encoding="utf-8"))
    return data["vocab"], [tuple(m) for m in data["merges"]]


def learn_bpe_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """(vocab, merges) learnt deterministically from ``corpus()``: how the frozen vocabulary was
    made (``tts train tokenizer``)."""
    tok = _bpe_tokenizer()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tok.train_from_iterator(corpus(), trainer)
    model = json.loads(tok.to_str())["model"]
    return _without_brace_words(model["vocab"], merge_pairs(model["merges"]))


def merge_pairs(merges: list) -> list[tuple[str, str]]:
    """A ``tokenizer.json`` BPE model's merges as pairs (newer ``tokenizers`` write lists, older
    ones ``"a b"`` strings)."""
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in merges]


def save_bpe_vocab(path: str | Path, vocab: dict[str, int], merges: list[tuple[str, str]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"vocab": vocab, "merges": [list(m) for m in merges]}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def _without_brace_words(vocab: dict[str, int], merges: list[tuple[str, str]]):
    """Drop merges that glue ``{`` to a word (and every merge built on one). Qwen2's regex makes
    ``{Yes`` one pre-token, and in our small corpus it is frequent enough to become a token; in
    Qwen2's real vocabulary it is not, and GenPRM reads its reward at the token ``Yes`` after
    ``\\boxed{``. Ids are renumbered densely, keeping their order."""
    dropped: set[str] = set()
    kept = []
    for a, b in merges:
        merged = a + b
        if a in dropped or b in dropped or (merged.startswith("{") and any(c.isalpha() for c in merged)):
            dropped.add(merged)
        else:
            kept.append((a, b))
    tokens = sorted((t for t in vocab if t not in dropped), key=vocab.get)
    return {t: i for i, t in enumerate(tokens)}, kept


def build_tokenizer(special: Sequence[str], bos: str | None, eos: str, pad: str,
                    chat_template: str | None = None, extra: Iterable[str] = ()) -> Qwen2Tokenizer:
    """The family's BPE plus ``special`` tokens (ids right after the BPE vocabulary, in the given
    order, as Qwen2 checkpoints put theirs after 151,643 BPE ids); ``extra``: added tokens that are
    not special (Qwen2.5's ``<tool_call>``), kept in their place in the id order."""
    vocab, merges = bpe_vocab()
    vocab = dict(vocab)
    extra = set(extra)
    for token in special:
        vocab.setdefault(token, len(vocab))
    tok = Qwen2Tokenizer(vocab=vocab, merges=list(merges), unk_token=None, bos_token=bos,
                         eos_token=eos, pad_token=pad, errors="replace", model_max_length=32768,
                         clean_up_tokenization_spaces=False, split_special_tokens=False)
    from tokenizers import AddedToken

    tok.add_tokens([AddedToken(t, special=t not in extra, normalized=False) for t in special])
    if chat_template is not None:
        tok.chat_template = chat_template
    return tok
