import json

from transformers import AutoTokenizer, Qwen2Tokenizer

from tts.models import tokenizer as family
from tts.models.families import QWEN25_SPECIAL, qwen25_math_tokenizer, r1_distill_tokenizer
from tts.policy.model_path import shipped_model
from tts.policy.prompts import render_prompt
from tts.prm import protocol as P
from tts.tasks.splits import testbed_split


def test_shipped_checkpoints_load_as_qwen2_tokenizers_with_qwen2_pretokenization(tmp_path):
    for name in ("policy", "genprm", "dprm"):
        tok = AutoTokenizer.from_pretrained(shipped_model(f"tiny-{name}"))
        assert isinstance(tok, Qwen2Tokenizer)
        saved = json.loads((shipped_model(f"tiny-{name}") / "tokenizer.json").read_text())
        reference = json.loads(Qwen2Tokenizer(vocab={"<|endoftext|>": 0}, merges=[])._tokenizer.to_str())
        assert saved["pre_tokenizer"] == reference["pre_tokenizer"] and saved["normalizer"] == reference["normalizer"]
        assert saved["model"]["type"] == "BPE"


def test_digits_are_single_tokens_and_text_round_trips():
    tok = qwen25_math_tokenizer()
    p = testbed_split("dev", limit=1)[0]
    text = p.problem + "\n\n" + "\n\n".join(p.steps)
    ids = tok(text).input_ids
    assert tok.decode(ids) == text
    pieces = tok.convert_ids_to_tokens(tok("Adding 48 to 37 gives 37 + 48 = 85.").input_ids)
    assert [t for t in pieces if any(c.isdigit() for c in t)] == ["4", "8", "3", "7", "3", "7", "4", "8", "8", "5"]
    assert "Ġgives" in pieces  # a word with its leading space is one merged token, as in Qwen2


def test_merges_are_learnt_deterministically(tmp_path):
    first = family.learn_bpe_vocab()
    assert family.learn_bpe_vocab() == first
    path = family.save_bpe_vocab(tmp_path / "bpe.json", *first)
    saved = json.loads(path.read_text())
    assert saved["vocab"] == first[0] and [tuple(m) for m in saved["merges"]] == first[1]


def test_every_shipped_checkpoint_is_on_the_frozen_vocabulary():
    """The family's vocabulary is frozen (tts/assets/tokenizer/bpe.json): each checkpoint's BPE is
    exactly it, its own special tokens after it."""
    vocab, merges = family.bpe_vocab()
    for name in ("policy", "genprm", "dprm"):
        model = json.loads((shipped_model(f"tiny-{name}") / "tokenizer.json").read_text())["model"]
        assert {t: i for t, i in model["vocab"].items() if t in vocab} == vocab
        assert family.merge_pairs(model["merges"]) == merges


def test_verdict_words_are_tokens_of_their_own_after_a_brace():
    tok = r1_distill_tokenizer()
    for word in ("Yes", "No"):
        ids = tok(P.OUTPUT_START + "{" + word + "}$\n", add_special_tokens=False).input_ids
        assert P.token_id(tok, word) in ids
    ids = tok("\\boxed{incorrect} \\boxed{correct}").input_ids
    assert tok.convert_tokens_to_ids("incorrect") in ids and tok.convert_tokens_to_ids("correct") in ids


def test_special_tokens_follow_the_real_checkpoints_order():
    qwen = qwen25_math_tokenizer()
    base = qwen.convert_tokens_to_ids("<|endoftext|>")
    assert [qwen.convert_tokens_to_ids(t) for t in QWEN25_SPECIAL] == list(range(base, base + len(QWEN25_SPECIAL)))
    assert qwen.bos_token is None and qwen.eos_token == "<|im_end|>" and qwen.pad_token == "<|endoftext|>"
    prm = qwen25_math_tokenizer(prm_separator=True)  # <extra_0> where Qwen2.5 has <|quad_end|> (151651)
    assert prm.convert_tokens_to_ids("<extra_0>") == qwen.convert_tokens_to_ids("<|quad_end|>") == base + 8
    r1 = r1_distill_tokenizer()
    assert r1.convert_tokens_to_ids("<｜end▁of▁sentence｜>") == base  # 151643 in both families
    assert r1.bos_token == "<｜begin▁of▁sentence｜>" and r1.eos_token == r1.pad_token == "<｜end▁of▁sentence｜>"


def test_qwen_math_chat_template_renders_the_qwen25_math_cot_prompt():
    """Qwen2.5-Math's evaluation prompt ("qwen25-math-cot" in its evaluation/utils.py), which the
    policy's prompt file and the twin's chat template both produce."""
    expected = ("<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
                "<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n")
    tok = qwen25_math_tokenizer()
    assert tok.apply_chat_template([{"role": "user", "content": "Q?"}], tokenize=False, add_generation_prompt=True) == expected
    assert render_prompt("qwen_math_chat", "Q?") == expected
    assert render_prompt("qwen_math_chat", "Q?", ["s1", "s2"]) == expected + "s1\n\ns2\n\n"
