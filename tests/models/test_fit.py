import numpy as np
import torch
from transformers import Qwen2ForCausalLM

from tts.models.families import qwen25_math_tokenizer
from tts.models.fit import qwen2_config, weighted_loss
from tts.models.train_policy import PolicyTrainConfig, make_batch


def _tiny():
    tok = qwen25_math_tokenizer()
    cfg = PolicyTrainConfig(hidden=32, layers=1, heads=2, kv_heads=1, ffn=64, batch_size=3)
    torch.manual_seed(0)
    return tok, cfg, Qwen2ForCausalLM(qwen2_config(cfg, tok))


def test_weighted_loss_with_unit_weights_is_the_models_own_loss():
    tok, cfg, model = _tiny()
    ids, mask, labels, _ = make_batch(np.random.default_rng(0), cfg, tok)
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    ours = weighted_loss(out.logits, labels, torch.ones(labels.shape))
    assert torch.allclose(ours, out.loss, atol=1e-5)


def test_digit_weight_marks_the_solution_digits_only():
    tok, cfg, _ = _tiny()
    from dataclasses import replace
    ids, mask, labels, weights = make_batch(np.random.default_rng(0), replace(cfg, digit_weight=4.0), tok)
    heavy = weights == 4.0
    assert heavy.any()
    assert (labels[heavy] != -100).all()  # never a prompt digit
    assert all(tok.convert_ids_to_tokens(int(t)).isdigit() for t in ids[heavy])
    # and every digit of the completion is weighted
    digit_ids = set(tok.convert_tokens_to_ids(list("0123456789")))
    assert all(bool(heavy[i, j]) for i, j in zip(*torch.where(labels != -100), strict=True)
               if int(labels[i, j]) in digit_ids)


def test_right_padding_needs_no_attention_mask_in_training():
    # fit drops the mask for speed: with right padding, causal attention never lets a real token
    # see a pad, so the loss is the same.
    tok, cfg, model = _tiny()
    ids, mask, labels, weights = make_batch(np.random.default_rng(1), cfg, tok)
    assert (mask == 0).any()  # rows of different lengths
    with_mask = weighted_loss(model(input_ids=ids, attention_mask=mask).logits, labels, weights)
    without = weighted_loss(model(input_ids=ids).logits, labels, weights)
    assert torch.allclose(with_mask, without, atol=1e-6)


def test_operation_weight_marks_each_steps_operation_in_the_solution_only():
    from dataclasses import replace

    from tts.models.train_policy import OPERATION_WORDS

    tok, cfg, _ = _tiny()
    ids, mask, labels, weights = make_batch(np.random.default_rng(0), replace(cfg, op_weight=3.0), tok)
    heavy = weights == 3.0
    op_ids = {tok(w, add_special_tokens=False).input_ids[0] for w in OPERATION_WORDS}
    assert (labels[heavy] != -100).all()  # the problem's operation words are read, not learnt
    assert {int(t) for t in ids[heavy]} <= op_ids
    for row in range(ids.shape[0]):  # every step names its operation, in words and as a sign
        steps = tok.decode(ids[row][labels[row] != -100]).count("=")
        assert int(heavy[row].sum()) >= steps


def test_policy_card_reports_every_temperature(tmp_path):
    import json
    import shutil
    from importlib.resources import files

    from tts.models.card import write_policy_card

    shipped = files("tts") / "assets" / "models" / "policy"
    shutil.copy(shipped / "training.json", tmp_path / "training.json")
    main = json.loads((shipped / "evaluation.json").read_text())
    main = {k: v for k, v in main.items() if k != "other_temperatures"}
    hot = main | {"temperature": 1.0}
    card = write_policy_card(tmp_path, "tts train policy --out DIR --evaluate", main, [hot]).read_text()
    assert "tts train policy --out DIR --evaluate" in card and "T=1.0, 16 samples: greedy" in card
    assert json.loads((tmp_path / "evaluation.json").read_text())["other_temperatures"][0]["temperature"] == 1.0
