"""The HF engine's token-prefix KV cache: exact reuse, eviction, and the perfect-cache count."""

import pytest
import torch

from tts.policy import GREEDY, Prefix, Sampling, load_policy
from tts.policy.kv_cache import BLOCK, PrefixKVCache, perfect_prefill


def kv(n, width=2):
    """Layers whose values encode their token positions, to check what a lookup returns."""
    t = torch.arange(n, dtype=torch.float32).reshape(1, n, 1).expand(1, n, width).contiguous()
    return [(t, t.clone())]


def test_lookup_finds_the_longest_common_token_prefix():
    cache = PrefixKVCache(2**20)
    a = list(range(100, 140))
    cache.store(a, kv(40))
    entry, n = cache.lookup(a[:37] + [7, 8, 9])
    assert n == 37 and entry.tokens[:37] == tuple(a[:37])
    assert cache.lookup(list(range(BLOCK - 1)))[1] == 0  # shorter than a block: never found
    assert cache.lookup([1] + a)[1] == 0  # a prefix, not a substring


def test_an_extending_sequence_replaces_the_one_it_extends_and_prefixes_are_not_stored():
    cache = PrefixKVCache(2**20)
    a = list(range(200, 240))
    cache.store(a, kv(40))
    cache.store(a + [1, 2, 3], kv(43))
    assert len(cache) == 1 and cache.lookup(a + [1, 2, 3, 4])[1] == 43
    cache.store(a[:30], kv(30))  # already held by the longer entry
    assert len(cache) == 1
    cache.store(a[:20] + [5] * 20, kv(40))  # a branch: both kept
    assert len(cache) == 2 and cache.lookup(a[:20] + [5] * 25)[1] == 40 and cache.lookup(a)[1] == 40


def test_least_recently_used_entries_go_first_past_the_size_limit():
    one = sum(k.numel() * 4 + v.numel() * 4 for k, v in kv(32))
    cache = PrefixKVCache(2 * one)
    seqs = [[s] * 32 for s in (1, 2, 3)]
    cache.store(seqs[0], kv(32))
    cache.store(seqs[1], kv(32))
    cache.lookup(seqs[0])  # used: the second becomes the oldest
    cache.store(seqs[2], kv(32))
    assert cache.bytes <= 2 * one and len(cache) == 2
    assert cache.lookup(seqs[1])[1] == 0 and cache.lookup(seqs[0])[1] == 32
    with pytest.raises(ValueError, match="prefix cache size"):
        PrefixKVCache(-1)


def test_perfect_prefill_counts_what_no_earlier_sequence_covered():
    calls = [[([1, 2, 3], [4, 5]), ([1, 2, 9], [])], [([1, 2, 3, 4, 5, 6], [])]]
    # 3 new; then [1, 2] shared with the first prompt in the same call (9 new); then 6 new.
    assert perfect_prefill(calls) == 3 + 1 + 1


@pytest.fixture(scope="module")
def engines():
    cached = load_policy("hf", "tiny-genprm", seed=0)
    plain = load_policy("hf", "tiny-genprm", seed=0, prefix_cache_gb=0)
    return cached, plain


@pytest.mark.parametrize("sampling", [GREEDY, Sampling(temperature=0.8, max_tokens=24)], ids=["greedy", "sampled"])
def test_cached_generation_equals_computing_everything(engines, sampling):
    cached, plain = engines
    sampling = Sampling(temperature=sampling.temperature, max_tokens=24)
    base = "<|im_start|>system\nYou are a math teacher. Verify each step.<|im_end|>\n<|im_start|>user\n"
    prompts = [base + "Start with 12. Add 5. ", base + "Start with 40. Subtract 3. What is it?", "short"]
    for engine in engines:
        engine.restart()
    first = [cached.complete(prompts, 2, sampling), plain.complete(prompts, 2, sampling)]
    # The second round extends the first round's sequences: the cache serves their prefixes.
    longer = [p + c.text + " Then double it." for p, row in zip(prompts, first[0], strict=True) for c in row[:1]]
    before = cached.prefill_computed
    second = [cached.complete(longer, 2, sampling), plain.complete(longer, 2, sampling)]
    assert cached.prefill_computed - before < 0.5 * sum(len(cached.tokenizer(p).input_ids) for p in longer)
    for a_rows, b_rows in (first, second):
        for a_row, b_row in zip(a_rows, b_rows, strict=True):
            for a, b in zip(a_row, b_row, strict=True):
                assert a.token_ids == b.token_ids and a.text == b.text
                assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)


def test_policy_steps_reuse_their_prefix(engines):
    cached, _ = engines
    cached.prefill_log = []
    try:
        p = Prefix("Start with 3. Add 4. Multiply by 2. What is the result?")
        [[c]] = cached.generate([p], 1, Sampling(temperature=0.0, max_tokens=16))
        cached.generate([Prefix(p.problem, (c.text,))], 1, Sampling(temperature=0.0, max_tokens=16))
        assert cached.prefill_computed < cached.prefill_prompt
        assert perfect_prefill(cached.prefill_log) <= cached.prefill_computed
    finally:
        cached.prefill_log = None
