"""The HF engine's grouped-query attention against transformers' own ``sdpa`` (which repeats the
key/value heads whenever there is a mask)."""

import torch
from transformers import AutoModelForCausalLM

from tts.policy import shipped_model
from tts.policy.attention import NAME, attention_for


def test_gqa_attention_equals_transformers_sdpa_on_a_padded_batch(hf_policy):
    ours = hf_policy.model
    assert ours.config._attn_implementation == NAME == attention_for(torch.device("cpu"))
    assert ours.config.num_key_value_heads < ours.config.num_attention_heads  # the case it exists for
    ref = AutoModelForCausalLM.from_pretrained(shipped_model("tiny-policy"), attn_implementation="sdpa").eval()
    enc = hf_policy.tokenizer(["Start with 12. Add 7.", "Start with 640. Divide by 8, rounding down. Add 91."],
                              padding=True, return_tensors="pt")
    assert (enc.attention_mask == 0).any()
    with torch.inference_mode():
        a = ours(**enc).logits
        b = ref(**enc).logits
        # And a decode step against a cache, the batched-generation shape.
        past_a, past_b = ours(**enc, use_cache=True).past_key_values, ref(**enc, use_cache=True).past_key_values
        step = torch.tensor([[5], [9]])
        mask = torch.cat([enc.attention_mask, torch.ones(2, 1, dtype=torch.long)], 1)
        c = ours(input_ids=step, attention_mask=mask, past_key_values=past_a).logits
        d = ref(input_ids=step, attention_mask=mask, past_key_values=past_b).logits
    real = enc.attention_mask.bool()
    assert torch.allclose(a[real], b[real], atol=1e-5)
    assert torch.allclose(c, d, atol=1e-5)
