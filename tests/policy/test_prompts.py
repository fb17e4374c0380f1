import pytest

from tts.policy import available_formats, render_prompt


def test_formats_live_in_files():
    assert "qwen_math_chat" in available_formats()


def test_chat_prompt_ends_where_the_next_step_starts():
    assert render_prompt("qwen_math_chat", "Q?", ["a", "b"]).endswith("Q?<|im_end|>\n<|im_start|>assistant\na\n\nb\n\n")
    assert render_prompt("qwen_math_chat", "Q?", ["a"], delimiter="\n").endswith("assistant\na\n")


def test_chat_prompt_leaves_the_assistant_turn_open():
    text = render_prompt("qwen_math_chat", "Q?", ["s1"])
    assert text.startswith("<|im_start|>system") and text.endswith("<|im_start|>assistant\ns1\n\n")


def test_unknown_format_names_the_choices(tmp_path):
    with pytest.raises(FileNotFoundError, match="qwen_math_chat"):
        render_prompt("nope", "Q?")
    custom = tmp_path / "mine.jinja"
    custom.write_text("P: {{ problem }}{% for s in steps %}|{{ s }}{% endfor %}")
    assert render_prompt(str(custom), "x", ["1", "2"]) == "P: x|1|2"
