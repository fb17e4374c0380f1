"""A decode-time KV cache that writes each new token in place.

transformers' ``DynamicLayer`` grows by ``torch.cat``, which copies the whole cache for every
decoded token: on a batch of long GenPRM chats that copy cost more than the model itself (it was a
third of batched verification's wall time on the CPU). ``PreallocatedLayer`` keeps a buffer sized
for the whole generation (prompt width + new tokens, known before decoding starts) and exposes
the filled part as a view; it only reallocates, doubling, if a caller runs past that size.
"""

from __future__ import annotations

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


class PreallocatedLayer(DynamicLayer):
    """A ``DynamicLayer`` whose ``keys``/``values`` are views of a buffer of ``capacity`` tokens."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity
        self._k: torch.Tensor | None = None
        self._v: torch.Tensor | None = None
        self._len = 0

    def _owns(self) -> bool:
        # transformers may replace ``keys`` itself (crop, reorder, batch selection): then the
        # buffer is rebuilt from what it left rather than trusted.
        return self._k is not None and self.keys.data_ptr() == self._k.data_ptr() and self.keys.shape[-2] == self._len \
            and self.keys.shape[0] == self._k.shape[0]

    def _reserve(self, need: int, like_k: torch.Tensor, like_v: torch.Tensor) -> None:
        # What is filled: the buffer's view, or what transformers left in ``keys`` (lazy
        # initialisation leaves an empty 1-d tensor).
        old_k, old_v = self.keys, self.values
        filled = old_k.shape[-2] if self.is_initialized and old_k.numel() else 0
        size = max(self.capacity, need) if self._k is None else max(2 * self._k.shape[-2], need)
        shape_k = (*like_k.shape[:-2], size, like_k.shape[-1])
        shape_v = (*like_v.shape[:-2], size, like_v.shape[-1])
        self._k = torch.empty(shape_k, dtype=like_k.dtype, device=like_k.device)
        self._v = torch.empty(shape_v, dtype=like_v.dtype, device=like_v.device)
        if filled:
            self._k[..., :filled, :] = old_k
            self._v[..., :filled, :] = old_v
        self._len = filled

    def seed(self, keys: torch.Tensor, values: torch.Tensor, filled: int) -> None:
        """Take ``keys``/``values`` (``[batch, heads, capacity, dim]``) as the buffer, the first
        ``filled`` positions already written."""
        self.dtype, self.device, self.is_initialized = keys.dtype, keys.device, True
        self._k, self._v, self._len = keys, values, filled
        self.keys, self.values = keys[..., :filled, :], values[..., :filled, :]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        if not self._owns():
            self._reserve(0, key_states, value_states)
        new = key_states.shape[-2]
        if self._len + new > self._k.shape[-2]:
            self._reserve(self._len + new, key_states, value_states)
        self._k[..., self._len : self._len + new, :] = key_states
        self._v[..., self._len : self._len + new, :] = value_states
        self._len += new
        self.keys, self.values = self._k[..., : self._len, :], self._v[..., : self._len, :]
        return self.keys, self.values

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep the batch rows ``indices`` (the decode loop drops finished rows), copying only the
        filled part of the buffer."""
        if not self._owns():
            super().batch_select_indices(indices)
            return
        k = self._k.new_empty((len(indices), *self._k.shape[1:]))
        v = self._v.new_empty((len(indices), *self._v.shape[1:]))
        k[..., : self._len, :] = self.keys.index_select(0, indices)
        v[..., : self._len, :] = self.values.index_select(0, indices)
        self._k, self._v = k, v
        self.keys, self.values = self._k[..., : self._len, :], self._v[..., : self._len, :]


def decode_cache(config, capacity: int, rows: list[tuple[list | None, int]] | None = None, width: int = 0,
                 n: int = 1) -> DynamicCache:
    """A cache for one batched decode of at most ``capacity`` positions. ``rows`` seeds it with
    each prompt's cached keys and values: ``(layers, m)`` puts the first ``m`` positions of
    ``layers`` (per layer ``([heads, tokens, dim] keys, values)``; None when ``m`` is 0) at the right
    of the first ``width`` columns, zeros to their left (masked out, but a finite 0 weight times
    garbage could still be NaN), for each of the prompt's ``n`` sample rows. Models whose layers are
    not all plain full-attention layers keep transformers' own layers."""
    cache = DynamicCache(config=config)
    plain = bool(cache.layers) and all(type(layer) is DynamicLayer for layer in cache.layers)
    if plain:
        cache.layers = [PreallocatedLayer(capacity) for _ in cache.layers]
    if rows and width:
        for li, layer in enumerate(cache.layers):
            k, v = _seeded(rows, li, width, n, capacity if plain else width)
            if plain:
                layer.seed(k, v, width)
            else:
                layer.update(k, v)
    return cache


def _seeded(rows, li: int, width: int, n: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Layer ``li``'s buffers of ``size`` positions with the cached part written straight in (one
    copy, rather than padding, stacking and repeating each row)."""
    layers, _ = next(r for r in rows if r[1])
    k0, v0 = layers[li]
    k = torch.empty((len(rows) * n, k0.shape[0], size, k0.shape[-1]), dtype=k0.dtype, device=k0.device)
    v = torch.empty((len(rows) * n, v0.shape[0], size, v0.shape[-1]), dtype=v0.dtype, device=v0.device)
    for i, (entry, m) in enumerate(rows):
        block = slice(i * n, (i + 1) * n)
        k[block, :, : width - m].zero_()
        v[block, :, : width - m].zero_()
        if m:
            ek, ev = entry[li]
            k[block, :, width - m : width] = ek[:, :m]
            v[block, :, width - m : width] = ev[:, :m]
    return k[:, :, :size], v[:, :, :size]
