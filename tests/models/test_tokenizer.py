from tts.models.tokenizer import build_tokenizer
from tts.tasks.splits import testbed_split


def test_round_trip_and_compact_encoding():
    tok = build_tokenizer()
    p = testbed_split("dev", limit=1)[0]
    text = p.problem + "\n\n" + "\n\n".join(p.steps)
    ids = tok(text).input_ids
    assert ids[0] == tok.bos_token_id
    assert tok.decode(ids, skip_special_tokens=True) == text
    pieces = tok.convert_ids_to_tokens(tok("37 + 48 = 85\n\nThe answer is").input_ids[1:])
    assert pieces == ["3", "7", " + ", "4", "8", " = ", "8", "5", "\n\n", "The", " answer", " is"]


def test_unknown_words_fall_back_to_characters():
    tok = build_tokenizer()
    assert tok.convert_ids_to_tokens(tok("Addition").input_ids[1:]) == list("Addition")
    assert tok.unk_token_id not in tok("any ASCII text, even ~`|^").input_ids
