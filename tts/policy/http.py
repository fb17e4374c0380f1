"""OpenAI-compatible HTTP backend (``/v1/completions``), e.g. a vLLM OpenAI server.

One request per prefix (``n`` candidates each), sent concurrently so the server batches them.
Retries with exponential backoff on connection errors, timeouts and 5xx answers; a server that
stays down gives one clear error naming the URL.

Top log-probs (what a generative PRM reads its Yes/No probability from) are asked for with vLLM's
``return_tokens_as_token_ids``, so they come back keyed by token id (``"token_id:1234"``) rather
than by a string that several ids may decode to. A verifier over HTTP also needs its tokenizer
on this side (``tokenizer=``: the checkpoint's path or hub id) to render its chat template.
"""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tts.policy.base import (
    STOP_CONTEXT,
    STOP_DELIMITER,
    STOP_EOS,
    STOP_LENGTH,
    PolicyBase,
    Sampling,
    StepCandidate,
    greedy_split,
    repeat_candidates,
    too_long,
)


class PolicyServerError(ConnectionError):
    """The policy server could not be reached or kept failing."""


class HTTPPolicy(PolicyBase):
    name = "http"

    def __init__(self, base_url: str = "http://127.0.0.1:8000", model: str | None = None,
                 prompt_format: str = "qwen_math_chat", seed: int = 0, timeout: float = 60.0,
                 max_retries: int = 3, backoff: float = 0.5, concurrency: int = 16,
                 tokenizer: str | None = None) -> None:
        super().__init__(prompt_format, seed)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.concurrency = concurrency
        self.model = model or self._served_model()
        self.max_model_len = self._served_context()
        self.tokenizer = None
        if tokenizer is not None:
            from transformers import AutoTokenizer

            from tts.policy.model_path import resolve_model_path

            self.tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(tokenizer))

    def _request(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        data = json.dumps(payload).encode() if payload is not None else None
        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as e:
                body = e.read().decode(errors="replace")[:500]
                if e.code < 500:  # our request is wrong: retrying will not help
                    raise ValueError(f"policy server at {url} rejected the request ({e.code}): {body}") from e
                last = e
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
                last = e
        raise PolicyServerError(
            f"policy server at {url} is unreachable or failing after {self.max_retries + 1} tries "
            f"({last}); start one with `python -m vllm.entrypoints.openai.api_server --model PATH "
            f"--port PORT` or fix policy.base_url")

    def _served_context(self) -> int | None:
        """The served model's context length (vLLM reports it in /v1/models), or None."""
        for m in self._request("/v1/models").get("data", []):
            if m.get("id") == self.model and m.get("max_model_len"):
                return int(m["max_model_len"])
        return None

    def _room(self, prompt: str, cap: int) -> int:
        """What a prompt may generate: its cap, within the served context (counted with the local
        tokenizer when there is one; else the server refuses a prompt that does not fit)."""
        if self.max_model_len is None:
            return cap
        used = len(self.tokenizer(prompt).input_ids) if self.tokenizer is not None else 1
        return min(cap, self.max_model_len - used)

    def _served_model(self) -> str:
        models = self._request("/v1/models").get("data", [])
        if not models:
            raise PolicyServerError(f"policy server at {self.base_url} serves no model")
        return models[0]["id"]

    def _generate(self, prompts: list[str], n: int, sampling: Sampling, stops: tuple[str, ...],
                  seeds: list[int], top_logprobs: int = 0, include_stop: bool = False,
                  caps: list[int] | None = None) -> list[list[StepCandidate]]:
        n_req, copies = greedy_split(n, sampling)

        def one(i: int) -> list[StepCandidate]:
            room = self._room(prompts[i], self._cap(sampling, caps, i))
            if room < 1:
                return too_long(-1, n)
            payload = {
                "model": self.model, "prompt": prompts[i], "n": n_req, "temperature": sampling.temperature,
                "top_p": sampling.top_p, "max_tokens": room, "logprobs": top_logprobs,
                "stop": list(stops) or None, "seed": seeds[i],
                "include_stop_str_in_output": include_stop,
                "skip_special_tokens": True, "return_token_ids": True,
            }
            if sampling.top_k > 0:
                payload["top_k"] = sampling.top_k
            if top_logprobs:
                payload["return_tokens_as_token_ids"] = True  # top log-probs keyed by id, not by string
            try:
                body = self._request("/v1/completions", payload)
            except ValueError as e:
                if "maximum context length" in str(e) or "context length" in str(e):
                    return too_long(-1, n)
                raise
            usage = body.get("usage") or {}
            prompt_tokens = int(usage.get("prompt_tokens", 0))
            # Reported by servers started with --enable-prompt-tokens-details (ours are).
            cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
            choices = sorted(body["choices"], key=lambda c: c["index"])
            cands = [dataclasses.replace(self._candidate(c, prompt_tokens, top_logprobs), cached_tokens=cached)
                     for c in choices]
            if self.max_model_len is not None:  # the context, not max_tokens, ended these
                cands = [dataclasses.replace(c, finish_reason=STOP_CONTEXT)
                         if c.finish_reason == STOP_LENGTH and c.prompt_tokens + c.generated_tokens >= self.max_model_len
                         else c for c in cands]
            return repeat_candidates(cands, copies)

        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(one, range(len(prompts))))

    @staticmethod
    def _candidate(c: dict[str, Any], prompt_tokens: int, top_logprobs: int = 0) -> StepCandidate:
        lp = c.get("logprobs") or {}
        logprobs = [float(x) for x in lp.get("token_logprobs") or []]
        tops = []
        for position in (lp.get("top_logprobs") or []) if top_logprobs else []:
            # vLLM adds the sampled token to the top-k; keep the k most likely, as the engines do.
            ids = {_token_id(tok): float(x) for tok, x in (position or {}).items()}
            tops.append(dict(sorted(ids.items(), key=lambda kv: -kv[1])[:top_logprobs]))
        token_ids = list(c.get("token_ids") or [])
        stop = None
        if c.get("finish_reason") == "stop":
            stop = c.get("stop_reason") if isinstance(c.get("stop_reason"), str) else None
            reason = STOP_DELIMITER if stop is not None else STOP_EOS
        else:
            reason = STOP_LENGTH
        if c.get("prompt_token_ids"):
            prompt_tokens = len(c["prompt_token_ids"])
        if not token_ids and lp.get("tokens") and top_logprobs:
            token_ids = [_token_id(t) for t in lp["tokens"]]
        return StepCandidate(text=c["text"], finish_reason=reason, prompt_tokens=prompt_tokens,
                             generated_tokens=len(token_ids) or len(logprobs), token_ids=token_ids,
                             logprobs=logprobs, top_logprobs=tops, stop=stop)


def _token_id(token: str) -> int:
    """The id in vLLM's ``token_id:1234`` form (``return_tokens_as_token_ids``)."""
    if not token.startswith("token_id:"):
        raise ValueError(f"the server sent top log-probs keyed by {token!r}, not by token id: it must support "
                         "vLLM's return_tokens_as_token_ids (a vLLM OpenAI server does)")
    return int(token.split(":", 1)[1])
