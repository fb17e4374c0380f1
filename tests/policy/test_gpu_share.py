"""Splitting one GPU between a vLLM policy and a vLLM PRM, checked without a GPU on the real
models' shapes (configs only: parameters are counted on the meta device)."""

from __future__ import annotations

import json

import pytest

from tts.policy.gpu_share import GIB, USABLE, EngineSize, engine_size, share_one_gpu, split_gpu_memory

# Qwen2.5-Math-1.5B-Instruct and the Qwen2.5-7B shape of DeepSeek-R1-Distill-Qwen-7B (GenPRM-7B's base).
QWEN_1_5B = dict(architectures=["Qwen2ForCausalLM"], model_type="qwen2", hidden_size=1536, intermediate_size=8960,
                 num_hidden_layers=28, num_attention_heads=12, num_key_value_heads=2, vocab_size=151936,
                 max_position_embeddings=4096, tie_word_embeddings=True, torch_dtype="bfloat16")
QWEN_7B = dict(architectures=["Qwen2ForCausalLM"], model_type="qwen2", hidden_size=3584, intermediate_size=18944,
               num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4, vocab_size=152064,
               max_position_embeddings=131072, tie_word_embeddings=False, torch_dtype="bfloat16")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    out = {}
    for name, cfg in (("policy", QWEN_1_5B), ("prm", QWEN_7B)):
        d = tmp_path_factory.mktemp(name)
        (d / "config.json").write_text(json.dumps(cfg))
        out[name] = d
    return out


def test_sizes_of_the_real_shapes(checkpoints):
    policy = engine_size("policy", checkpoints["policy"])
    prm = engine_size("PRM", checkpoints["prm"], max_model_len=8192)
    assert 2.85 < policy.weight_bytes / GIB < 2.9  # 1.54 B parameters in bf16
    assert 14.0 < prm.weight_bytes / GIB < 14.3  # 7.6 B parameters in bf16
    assert prm.kv_bytes_per_token == 2 * 28 * 4 * 128 * 2 and prm.max_model_len == 8192
    assert engine_size("policy", checkpoints["policy"], dtype="float32").weight_bytes == 2 * policy.weight_bytes


def test_both_fit_on_an_h100_and_share_the_kv_room(checkpoints):
    policy = engine_size("policy", checkpoints["policy"])
    prm = engine_size("PRM", checkpoints["prm"], max_model_len=16384)
    total = 80 * GIB
    a, b = split_gpu_memory(policy, prm, total)
    assert a + b == pytest.approx(USABLE, abs=1e-3) and a < b
    assert a * total > policy.floor and b * total > prm.floor
    # Both caches hold the same number of tokens beyond their floors.
    tokens_a = (a * total - policy.floor) / policy.kv_bytes_per_token
    tokens_b = (b * total - prm.floor) / prm.kv_bytes_per_token
    assert tokens_a == pytest.approx(tokens_b, rel=1e-3)


def test_a_clear_error_when_they_cannot_fit(checkpoints):
    policy = engine_size("policy", checkpoints["policy"])
    prm = engine_size("PRM", checkpoints["prm"])  # the full 131k context
    with pytest.raises(ValueError, match="do not fit together") as e:
        split_gpu_memory(policy, prm, 24 * GIB)
    assert "max_model_len" in str(e.value) and "GiB" in str(e.value)


def test_explicit_shares_are_kept_or_refused():
    small = EngineSize("policy", 3 * GIB, 28672, 4096)
    big = EngineSize("PRM", 15 * GIB, 57344, 8192)
    assert split_gpu_memory(small, big, 80 * GIB, policy_share=0.2) == (0.2, pytest.approx(USABLE - 0.2))
    assert split_gpu_memory(small, big, 80 * GIB, 0.3, 0.5) == (0.3, 0.5)
    with pytest.raises(ValueError, match="add up to"):
        split_gpu_memory(small, big, 80 * GIB, 0.5, 0.5)
    with pytest.raises(ValueError, match="leaves"):
        split_gpu_memory(small, big, 24 * GIB, policy_share=0.8)


def test_only_two_vllm_engines_with_a_generative_prm_are_split(checkpoints):
    policy = {"backend": "vllm", "model": str(checkpoints["policy"])}
    prm = {"backend": "vllm", "kind": "genprm", "model": str(checkpoints["prm"]), "max_model_len": 16384}
    p, r = share_one_gpu(policy, prm, total_bytes=80 * GIB)
    assert 0 < p["gpu_memory_utilization"] < r["gpu_memory_utilization"] < USABLE
    assert share_one_gpu({**policy, "backend": "hf"}, prm, total_bytes=80 * GIB) == ({**policy, "backend": "hf"}, prm)
    assert share_one_gpu(policy, {**prm, "kind": "dprm"}, total_bytes=80 * GIB)[0] == policy
