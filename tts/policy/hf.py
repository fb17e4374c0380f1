"""Hugging Face transformers backend: batched decoding (``hf_decode``) with a KV cache and left padding.

The CPU default (on tiny models it is as fast as vLLM and starts in a second) and the fallback
where vLLM is absent.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from tts.policy.attention import attention_for
from tts.policy.base import (
    STOP_CONTEXT,
    STOP_DELIMITER,
    STOP_EOS,
    STOP_LENGTH,
    PolicyBase,
    Sampling,
    StepCandidate,
    first_stop,
    greedy_split,
    repeat_candidates,
    too_long,
)
from tts.policy.decode_cache import decode_cache
from tts.policy.hf_decode import decode
from tts.policy.kv_cache import PrefixKVCache
from tts.policy.model_path import resolve_model_path
from tts.policy.row_sampler import RowSampler, row_seed


class HFPolicy(PolicyBase):
    name = "hf"

    def __init__(
        self,
        model: str | Path,
        prompt_format: str = "qwen_math_chat",
        seed: int = 0,
        dtype: str = "float32",
        device: str | None = None,
        max_batch_size: int = 256,
        max_model_len: int | None = None,
        prefix_cache_gb: float = 1.0,
    ) -> None:
        """``prefix_cache_gb``: memory for the token-prefix KV cache (``kv_cache.PrefixKVCache``)
        on the model's device; 0 turns it off (every prompt computed from its first token)."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = resolve_model_path(model)
        super().__init__(prompt_format, seed)
        self.max_batch_size = max_batch_size
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(
            path, dtype=getattr(torch, dtype), attn_implementation=attention_for(self.device)).to(self.device).eval()
        self.max_model_len = max_model_len or int(self.model.config.max_position_embeddings)
        self.eos_ids = self._eos_ids()
        self.prefix_cache = PrefixKVCache(int(prefix_cache_gb * 2**30)) if prefix_cache_gb > 0 else None
        # Prompt tokens given to the engine, and those it computed (the rest came from the cache).
        self.prefill_prompt = 0
        self.prefill_computed = 0
        # When a list: each call's [(prompt ids, ids computed after the prompt)], to compare with
        # a perfect prefix cache (``kv_cache.perfect_prefill``).
        self.prefill_log: list | None = None

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def close(self) -> None:
        del self.model
        if self.prefix_cache is not None:
            self.prefix_cache.clear()

    def restart(self) -> None:
        super().restart()
        if self.prefix_cache is not None:
            self.prefix_cache.clear()

    @torch.inference_mode()
    def _generate(self, prompts: list[str], n: int, sampling: Sampling, stops: tuple[str, ...],
                  seeds: list[int], top_logprobs: int = 0, include_stop: bool = False,
                  caps: list[int] | None = None) -> list[list[StepCandidate]]:
        encoded = self.tokenizer(prompts).input_ids if prompts else []
        out: list[list[StepCandidate] | None] = [None] * len(prompts)
        fits = []
        for i, ids in enumerate(encoded):
            if len(ids) >= self.max_model_len:
                out[i] = too_long(len(ids), n)
            else:
                fits.append(i)
        per_chunk = max(1, self.max_batch_size // n)
        for c in range(0, len(fits), per_chunk):
            chunk = fits[c : c + per_chunk]
            results = self._generate_chunk([encoded[i] for i in chunk], n, sampling,
                                           [seeds[i] for i in chunk], stops, top_logprobs, include_stop,
                                           [self._cap(sampling, caps, i) for i in chunk])
            for i, cands in zip(chunk, results, strict=True):
                out[i] = cands
        return out  # type: ignore[return-value]

    def _generate_chunk(self, encoded: list[list[int]], n: int, sampling: Sampling, seeds: list[int],
                        stops: tuple[str, ...], top_logprobs: int, include_stop: bool,
                        caps: list[int]) -> list[list[StepCandidate]]:
        pad = self.tokenizer.pad_token_id
        # Rows are [pad, cached tokens, pad, new tokens]: the cached part's KV comes from the prefix
        # cache (left-padded to the longest), the new part is computed; positions follow the mask.
        hits = [self.prefix_cache.lookup(e) if self.prefix_cache is not None else (None, 0) for e in encoded]
        reuse = [min(m, len(e) - 1) for (_, m), e in zip(hits, encoded, strict=True)]  # >= 1 token to compute
        cached_w = max(reuse)
        new_w = max(len(e) - m for e, m in zip(encoded, reuse, strict=True))
        width = cached_w + new_w
        rows, masks = [], []
        for e, m in zip(encoded, reuse, strict=True):
            fresh = len(e) - m
            rows.append([pad] * (cached_w - m) + e[:m] + [pad] * (new_w - fresh) + e[m:])
            masks.append([0] * (cached_w - m) + [1] * m + [0] * (new_w - fresh) + [1] * fresh)
        input_ids = torch.tensor(rows, device=self.device)
        mask = torch.tensor(masks, device=self.device)
        self.prefill_prompt += sum(map(len, encoded))
        self.prefill_computed += sum(len(e) - m for e, m in zip(encoded, reuse, strict=True))
        # Each sequence may use the context its own prompt leaves, and stops at its own allowance.
        budgets = [min(cap, self.max_model_len - len(e)) for cap, e in zip(caps, encoded, strict=True)]
        n, copies = greedy_split(n, sampling)
        # Rows are the prompts repeated n times; sampled rows draw from their own seeded stream
        # (RowSampler), so a row's tokens do not depend on the rest of the batch.
        input_ids, mask = input_ids.repeat_interleave(n, 0), mask.repeat_interleave(n, 0)
        steps = max(budgets)
        past = decode_cache(self.model.config, width + steps,
                            [(entry.layers if entry is not None else None, m) for (entry, _), m in zip(hits, reuse, strict=True)],
                            cached_w, n)
        sampler = None if sampling.greedy else RowSampler([row_seed(s, j) for s in seeds for j in range(n)], steps, sampling)
        prompts = [e for e in encoded for _ in range(n)]

        def keep(row: int, layers: list, fed: list[int]) -> None:
            self.prefix_cache.store(prompts[row] + fed, layers)

        out = decode(self.model, input_ids, mask, past, cached_w, [b for b in budgets for _ in range(n)], self.eos_ids,
                     self._stop_check(stops), sampler, top_logprobs, keep if self.prefix_cache is not None else None)
        if self.prefill_log is not None:  # what each row computed, for the perfect-cache comparison
            self.prefill_log.append([(e, toks[:fed]) for e, toks, fed in zip(prompts, out.tokens, out.fed, strict=True)])
        results = []
        for i, e in enumerate(encoded):
            cands = [replace(self._candidate(out.tokens[row], out.logprobs[row], out.top[row], len(e), budgets[i], stops,
                                             include_stop), cached_tokens=reuse[i])
                     for row in range(i * n, (i + 1) * n)]
            results.append(repeat_candidates(cands, copies))
        return results

    def _stop_check(self, stops: tuple[str, ...]):
        """Whether a row's generated tokens contain a stop string, looking at the tail where a
        string that was not there one token ago must end (every token decodes to at least one
        character, so a string of c characters lies within its last c + 1 tokens)."""
        if not stops:
            return None
        tail = max(map(len, stops)) + 1
        decode_ = self.tokenizer.decode

        def stopped(tokens: list[int]) -> bool:
            text = decode_(tokens[-tail:], skip_special_tokens=True)
            return any(s in text for s in stops)

        return stopped

    def _candidate(self, tokens: list[int], logprobs: list[float], tops: list[dict[int, float]],
                   prompt_len: int, budget: int, stops: tuple[str, ...], include_stop: bool) -> StepCandidate:
        tokens = tokens[:budget]
        end = len(tokens)
        reason = STOP_CONTEXT if prompt_len + end >= self.max_model_len else STOP_LENGTH
        for k, t in enumerate(tokens):
            if t in self.eos_ids:
                end, reason = k + 1, STOP_EOS
                break
        text = self.tokenizer.decode(tokens[: end - (reason == STOP_EOS)], skip_special_tokens=True)
        at, stop = first_stop(text, stops)
        if stop is not None:
            end = self._tokens_covering(tokens[:end], at + len(stop))
            text, reason = text[: at + len(stop) * include_stop], STOP_DELIMITER
        return StepCandidate(text=text, finish_reason=reason, prompt_tokens=prompt_len, generated_tokens=end,
                             token_ids=tokens[:end], logprobs=logprobs[:end], top_logprobs=tops[:end], stop=stop)

    def _tokens_covering(self, tokens: list[int], chars: int) -> int:
        """The fewest leading tokens whose decoded text is at least ``chars`` long."""
        lo, hi = 1, len(tokens)
        while lo < hi:
            mid = (lo + hi) // 2
            if len(self.tokenizer.decode(tokens[:mid], skip_special_tokens=True)) >= chars:
                hi = mid
            else:
                lo = mid + 1
        return lo
