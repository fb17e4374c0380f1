"""The testbed tokenizer, built with the ``tokenizers`` library.

Words of the problem statements are one token each; every other character is its own token
(digits one by one, so the model learns column arithmetic). A word outside the list falls back to
its characters, so any ASCII text encodes without ``<unk>``.
"""

from __future__ import annotations

import re
import string

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"
SPECIAL = (PAD, BOS, EOS, UNK)
WORDS = ("Start", "with", "Add", "Subtract", "Multiply", "by", "Divide", "rounding", "down",
         "What", "is", "the", "result", "The", "answer", "boxed", "Yes", "No")
# Multi-character pieces keep sequences short: a word with its leading space, and the operators
# of a step with their spaces ("37 + 48 = 85" is 8 tokens, not 12), the step delimiter.
SPACED_WORDS = tuple(f" {w}" for w in WORDS)
SYMBOLS = (" + ", " - ", " * ", " // ", " = ", "\\boxed{", "\n\n")
CHARS = tuple(dict.fromkeys(string.printable))  # digits, letters, punctuation, whitespace


def build_tokenizer(extra_words: tuple[str, ...] = (), extra_pieces: tuple[str, ...] = (),
                    extra_special: tuple[str, ...] = (), chat_template: str | None = None) -> PreTrainedTokenizerFast:
    """The policy's tokenizer; the PRMs add words, multi-character pieces (their protocol's fixed
    strings, so a verification is short) and special tokens. Extras are appended after the base
    vocabulary, so base token ids never change."""
    words = (*WORDS, *extra_words)
    spaced = tuple(f" {w}" for w in words)
    symbols = (*SYMBOLS, *extra_pieces)
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(
        (*SPECIAL, *WORDS, *SPACED_WORDS, *SYMBOLS, *CHARS, *extra_words, *spaced, *extra_pieces, *extra_special)))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))

    def alternation(pieces):
        return "|".join(re.escape(p) for p in sorted(pieces, key=len, reverse=True))

    # Known words as whole words only (longest first), then symbol pieces, else one character.
    special = f"{alternation(extra_special)}|" if extra_special else ""
    pattern = rf"{special}{alternation(symbols)}|(?:{alternation((*words, *spaced))})(?![A-Za-z])|[\s\S]"
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    tok.decoder = decoders.Fuse()  # spaces are tokens of their own: decoding is concatenation
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, vocab[BOS])]
    )
    out = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD, unk_token=UNK,
        padding_side="left", model_max_length=512, clean_up_tokenization_spaces=False,
        additional_special_tokens=list(extra_special) or None,
    )
    if chat_template is not None:
        out.chat_template = chat_template
    return out
