import math

import pytest

from tts.models.families import r1_distill_tokenizer
from tts.prm import protocol as P
from tts.prm.base import aggregate, clean_prefix, first_wrong_step
from tts.policy import Prefix


def test_messages_follow_genprm_turns():
    chat = P.messages("Q?", ["s1", "s2", "s3"], ["v1", "v2"])
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert chat[1]["content"] == "Q?\ns1" and chat[3]["content"] == "s2" and chat[-1]["content"] == "s3"
    with pytest.raises(ValueError, match="one verification per earlier step"):
        P.messages("Q?", ["s1", "s2"], [])


def test_reward_from_logprobs_rules():
    yes, no = 10, 11
    lp = {yes: math.log(0.6), no: math.log(0.2), 3: math.log(0.1)}
    assert P.reward_from_logprobs([1, yes, 2], [{}, lp, {}], yes, no, "{Yes}$") == pytest.approx(0.75)
    # No missing from the top-k: the smallest returned log-prob stands in for it.
    only_yes = {yes: math.log(0.9), 3: math.log(0.01)}
    assert P.reward_from_logprobs([yes], [only_yes], yes, no, "{Yes}") == pytest.approx(0.9 / 0.91)
    # No judgement in the text: 0.5.
    assert P.reward_from_logprobs([1, 2], [{}, {}], yes, no, "no verdict here") == 0.5
    assert P.reward_from_logprobs([], [], yes, no, "") == 0.5


def test_code_and_analysis_extraction():
    text = "<analyze>\nLet's analyze the Paragraph 2 step by step: It is wrong.\n</analyze>\n```python\na=1\n```\n```python\nprint(2)\n```\n"
    assert P.last_code(text) == "print(2)"
    assert P.analysis_of(text) == "It is wrong."
    assert P.last_code("no code") is None


def test_aggregations_and_first_error():
    r = [0.9, 0.4, 0.8]
    assert aggregate(r, "min") == 0.4 and aggregate(r, "last") == 0.8
    assert aggregate(r, "prod") == pytest.approx(0.288) and aggregate(r, "mean") == pytest.approx(0.7)
    assert aggregate([], "min") == 0.0
    with pytest.raises(ValueError, match="aggregation"):
        aggregate(r, "median")
    assert first_wrong_step(r) == 1 and first_wrong_step([0.9]) == -1 and first_wrong_step(r, 0.3) == -1


def test_clean_prefix_makes_bad_text_scorable():
    bad = b"caf\xff".decode("utf-8", "surrogateescape")
    p = clean_prefix(Prefix("Q " + bad, (bad,)))
    p.problem.encode("utf-8")  # no lone surrogates left
    assert p.steps[0].startswith("caf")
    with pytest.raises(TypeError, match="Prefix"):
        clean_prefix(("Q", ()))


def test_prompt_matches_the_reference_byte_for_byte_on_an_r1_distill_template():
    """GenPRM's reference renders the chat up to the user turn of the step under review and
    appends the forced analysis opening: no assistant tag before ``<analyze>``."""
    from tts.prm.generative import GenerativePRM

    tok = r1_distill_tokenizer()  # the shipped GenPRM twin's tokens and chat template
    verification = "<analyze>\nLet's analyze the Paragraph 1 step by step: fine</analyze>\n" + P.OUTPUT_START + "{Yes}$\n" + P.OUTPUT_END
    expected = ("<｜begin▁of▁sentence｜>" + P.SYSTEM + "<｜User｜>Start with 3. Add 4.\n3 + 4 = 7"
                "<｜Assistant｜>" + verification + "<｜end▁of▁sentence｜>" + "<｜User｜>7 * 2 = 14"
                "<analyze>\nLet's analyze the Paragraph 2 step by step: ")

    class Engine:  # only the tokenizer is read to build a prompt
        tokenizer = tok

    prm = GenerativePRM(Engine(), code=False)
    key = ("Start with 3. Add 4.", ("3 + 4 = 7",), 0)
    from tts.prm.generative import _Done

    prm._cache[key] = _Done(verification, 0.9)
    job = prm._job(("Start with 3. Add 4.", ("3 + 4 = 7", "7 * 2 = 14"), 0))
    # The old prompt had "<｜Assistant｜>" before this "<analyze>"; the opening's trailing space
    # is left to the model (P.healed), so the text it writes is the reference's.
    assert job.prompt + job.text == expected.rstrip(" ")


@pytest.mark.parametrize("opening", [P.ANALYZE_START.format(index=2), P.THINK_FINAL])
def test_healed_opening_tokenises_as_a_prefix_of_the_written_text(opening):
    """The prompt a verifier continues is, token for token, the start of the text it was trained
    on: with the reference's trailing space it would end on a bare space token instead."""
    tok = r1_distill_tokenizer()
    written = opening + "The problem reads: Add 48. Multiply by 3. Yes"
    ids = tok(written, add_special_tokens=False).input_ids
    healed = tok(P.healed(opening), add_special_tokens=False).input_ids
    raw = tok(opening, add_special_tokens=False).input_ids
    assert ids[: len(healed)] == healed
    assert ids[: len(raw)] != raw
