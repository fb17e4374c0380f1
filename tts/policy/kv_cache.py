"""A token-prefix KV cache for the Hugging Face engine: a prompt that extends a sequence computed
before (the next stage of a GenPRM verification, the next step's chat, a sibling candidate's
shared problem text) computes only its new tokens.

vLLM has this built in (automatic prefix caching); HF ``generate`` has none across calls. Entries
are keyed by their token ids, so a match is exact whatever the tokenizer does at a text boundary:
the longest common token prefix with any stored sequence is reused, found through chained hashes
of fixed-size token blocks and then extended token by token. Entries are evicted least recently
used past ``max_bytes``; an entry that another entry extends is dropped (the longer one serves
both).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import torch

BLOCK = 16  # tokens per hashed block; matches are then extended within the next block


@dataclass
class _Entry:
    tokens: tuple[int, ...]
    layers: list[tuple[torch.Tensor, torch.Tensor]]  # per layer (keys, values): [kv_heads, len, head_dim]
    hashes: list[int]
    nbytes: int


def _block_hashes(tokens: Sequence[int]) -> list[int]:
    """Chained hashes of the complete leading blocks: ``hashes[k]`` identifies tokens[:(k+1)*BLOCK]."""
    out, h = [], 0
    for k in range(len(tokens) // BLOCK):
        h = hash((h, tuple(tokens[k * BLOCK : (k + 1) * BLOCK])))
        out.append(h)
    return out


class PrefixKVCache:
    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"the prefix cache size must be >= 0 bytes, got {max_bytes}")
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._by_hash: dict[int, set[int]] = {}  # block hash -> entries holding that prefix
        self._next = 0
        self.hits = 0
        self.lookups = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self._by_hash.clear()
        self.bytes = 0

    def lookup(self, tokens: Sequence[int]) -> tuple[_Entry | None, int]:
        """The stored entry sharing the longest token prefix with ``tokens`` and that length."""
        self.lookups += 1
        found = None
        for h in _block_hashes(tokens):
            keys = self._by_hash.get(h)
            if not keys:
                break
            found = max(keys)  # the newest entry holding these blocks
        if found is None:
            return None, 0
        entry = self._entries[found]
        self._entries.move_to_end(found)
        n, limit = 0, min(len(tokens), len(entry.tokens))
        # The blocks matched by hash; then token by token past them (hash collisions re-checked).
        while n < limit and entry.tokens[n] == tokens[n]:
            n += 1
        self.hits += n > 0
        return entry, n

    def store(self, tokens: Sequence[int], layers: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        tokens = tuple(tokens)
        if len(tokens) < BLOCK:
            return  # too short to be found again
        if self._contains(tokens):
            return  # a stored sequence already extends it
        nbytes = sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in layers)
        if nbytes > self.max_bytes:
            return
        hashes = _block_hashes(tokens)
        # Drop entries this one extends: every one of their blocks is among this one's.
        for j, h in enumerate(hashes):
            for key in [k for k in self._by_hash.get(h, ()) if len(self._entries[k].hashes) == j + 1]:
                old = self._entries[key].tokens
                if len(old) <= len(tokens) and tokens[: len(old)] == old:
                    self._drop(key)
        key, self._next = self._next, self._next + 1
        self._entries[key] = _Entry(tokens, layers, hashes, nbytes)
        for h in hashes:
            self._by_hash.setdefault(h, set()).add(key)
        self.bytes += nbytes
        while self.bytes > self.max_bytes and self._entries:
            self._drop(next(iter(self._entries)))

    def _contains(self, tokens: tuple[int, ...]) -> bool:
        hashes = _block_hashes(tokens)
        keys = self._by_hash.get(hashes[-1], ()) if hashes else ()
        return any(self._entries[k].tokens[: len(tokens)] == tokens for k in keys)

    def _drop(self, key: int) -> None:
        entry = self._entries.pop(key)
        self.bytes -= entry.nbytes
        for h in entry.hashes:
            keys = self._by_hash[h]
            keys.discard(key)
            if not keys:
                del self._by_hash[h]


def perfect_prefill(calls: Sequence[Sequence[tuple[Sequence[int], Sequence[int]]]]) -> int:
    """The prompt tokens a perfect prefix cache computes for a run of engine calls: each call is a
    list of (prompt ids, ids the engine went on to compute after the prompt); a prompt's tokens
    that continue any sequence computed before it (in an earlier call, or earlier in its own
    call) are free."""
    trie: dict = {}
    total = 0
    for call in calls:
        for prompt, after in call:
            node, shared = trie, 0
            for t in prompt:
                if t not in node:
                    break
                node, shared = node[t], shared + 1
            total += len(prompt) - shared
            node = trie
            for t in (*prompt, *after):
                node = node.setdefault(t, {})
    return total
