"""Hugging Face transformers backend: batched ``generate`` with KV cache and left padding.

The CPU default (on tiny models it is as fast as vLLM and starts in a second) and the fallback
where vLLM is absent.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from transformers import LogitsProcessorList

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
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).to(self.device).eval()
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
        # Each sequence may use the context its own prompt leaves; the batch runs to the longest
        # allowance and longer-prompt sequences are cut at theirs afterwards.
        budgets = [min(cap, self.max_model_len - len(e)) for cap, e in zip(caps, encoded, strict=True)]
        n, copies = greedy_split(n, sampling)
        # Rows are the prompts repeated n times; sampled rows draw from their own seeded stream
        # (RowSampler), so a row's tokens do not depend on the rest of the batch.
        input_ids, mask = input_ids.repeat_interleave(n, 0), mask.repeat_interleave(n, 0)
        steps = max(budgets)
        past = decode_cache(self.model.config, width + steps,
                            [(entry.layers if entry is not None else None, m) for (entry, _), m in zip(hits, reuse, strict=True)],
                            cached_w, n)
        processors = [] if sampling.greedy else [RowSampler(
            [row_seed(s, j) for s in seeds for j in range(n)], steps, width, sampling)]
        gen = self.model.generate(
            input_ids=input_ids, attention_mask=mask, max_new_tokens=steps, do_sample=False,
            logits_processor=LogitsProcessorList(processors), pad_token_id=pad, eos_token_id=sorted(self.eos_ids),
            stop_strings=list(stops) or None, tokenizer=self.tokenizer if stops else None,
            return_dict_in_generate=True, output_logits=True, past_key_values=past,
        )
        generated = gen.sequences[:, width:]
        new_tokens = generated.tolist()
        # Log-probs under the raw model distribution (as vLLM reports them by default), one step
        # at a time: a [batch, steps, vocab] tensor would not fit for a 150k-token vocabulary.
        chosen, top_ids, top_vals = [], [], []
        for t, step in enumerate(gen.logits):
            logp = step.float().log_softmax(-1)
            chosen.append(logp.gather(-1, generated[:, t : t + 1]).squeeze(-1))
            if top_logprobs:
                vals, ids = logp.topk(min(top_logprobs, logp.shape[-1]), dim=-1)
                top_ids.append(ids)
                top_vals.append(vals)
        chosen = torch.stack(chosen, dim=1).tolist()
        if top_logprobs:
            top_ids = torch.stack(top_ids, dim=1).tolist()  # [rows, steps, k]
            top_vals = torch.stack(top_vals, dim=1).tolist()
        results = []
        for i, e in enumerate(encoded):
            cands = []
            for j in range(n):
                row = i * n + j
                tops = [dict(zip(ids, vals, strict=True)) for ids, vals in zip(top_ids[row], top_vals[row], strict=True)] \
                    if top_logprobs else []
                cands.append(replace(self._candidate(new_tokens[row], chosen[row], tops, len(e), budgets[i], stops,
                                                     include_stop), cached_tokens=reuse[i]))
            results.append(repeat_candidates(cands, copies))
        self._keep(encoded, n, mask, new_tokens, [c.generated_tokens for r in results for c in r[:: copies]],
                   gen.past_key_values)
        return results

    def _keep(self, encoded: list[list[int]], n: int, mask: torch.Tensor, new_tokens: list[list[int]],
              ends: list[int], cache) -> None:
        """Store each row's computed sequence (the prompt and its generated tokens up to where the
        candidate ended, as far as they were fed back) in the prefix cache, and log it for the
        perfect-cache comparison."""
        steps = len(new_tokens[0]) if new_tokens else 0
        log = []
        for i, e in enumerate(encoded):
            for j in range(n):
                row = i * n + j
                toks = new_tokens[row]
                fed = min(ends[row], steps - 1)  # the last token was sampled, never fed
                log.append((e, toks[:fed]))
                if self.prefix_cache is None or cache is None:
                    continue
                where = mask[row].nonzero().squeeze(-1)
                where = torch.cat([where, torch.arange(mask.shape[1], mask.shape[1] + fed, device=self.device)])
                layers = [(layer.keys[row].index_select(1, where), layer.values[row].index_select(1, where))
                          for layer in cache.layers]
                self.prefix_cache.store(e + toks[:fed], layers)
        if self.prefill_log is not None:
            self.prefill_log.append(log)

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
