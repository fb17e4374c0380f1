"""The HF engine's decode loop: a batch whose finished rows leave it.

``generate`` runs every row until the last one stops, so one GenPRM analysis that never closes
keeps the whole batch decoding: on batched verification a single 420-token row among 55 rows that
stopped near 40 was a quarter of the wall time. Here a row finishes at its end-of-sequence token,
its stop string or its own token budget; once a quarter of the batch has finished (so compaction,
a copy of the survivors' keys and values, stays rare) the finished rows are dropped from the batch
and from the KV cache. Each step also computes the logits of the last position only.

Greedy rows take the argmax; sampled rows draw from their own seeded stream
(``row_sampler.RowSampler``), so a row's tokens never depend on which rows are beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from tts.policy.row_sampler import RowSampler


@dataclass
class Decoded:
    """Per row: the generated tokens (up to the one that finished it), their log-probs under the
    raw model distribution, the ``top_logprobs`` most likely tokens at each position (empty when 0),
    and how many generated tokens were fed back (their keys and values are in the cache)."""

    tokens: list[list[int]]
    logprobs: list[list[float]]
    top: list[list[dict[int, float]]]
    fed: list[int]


# keep(row, [(keys, values) of the row per layer, [kv_heads, positions, dim]], fed tokens): called
# for each row as it leaves the batch, before its cache rows are dropped.
Keep = Callable[[int, list[tuple[torch.Tensor, torch.Tensor]], list[int]], None]


@torch.inference_mode()
def decode(model, input_ids: torch.Tensor, mask: torch.Tensor, past, cached: int, budgets: list[int],
           eos_ids: set[int], stopped: Callable[[list[int]], bool] | None = None,
           sampler: RowSampler | None = None, top_logprobs: int = 0, keep: Keep | None = None,
           compact_share: float = 0.25) -> Decoded:
    """Decode every row of ``input_ids`` (``[rows, width]``, left-padded; ``mask`` marks real
    tokens) to at most ``budgets[row]`` new tokens. ``past`` holds the keys and values of the first
    ``cached`` columns; the rest are computed first. ``stopped(tokens)``: the row's generated
    tokens so far contain a stop string."""
    rows, width = input_ids.shape
    device = input_ids.device
    steps = max(budgets)
    k = min(top_logprobs, model.config.vocab_size)
    # Per step, every row's chosen log-prob and top-k (rows that left keep zeros): one transfer
    # and one ``tolist`` at the end rather than per token.
    chosen_steps: list[torch.Tensor] = []
    top_steps: list[tuple[torch.Tensor, torch.Tensor]] = []
    generated: list[list[int]] = [[] for _ in range(rows)]
    fed = [0] * rows
    active = list(range(rows))  # batch position -> row
    finished: set[int] = set()  # rows still in the batch that are done

    positions = (mask.long().cumsum(-1) - 1).clamp_(min=0)
    step_ids, step_pos = input_ids[:, cached:], positions[:, cached:]
    next_pos = positions[:, -1] + 1
    cur_mask = mask
    for t in range(steps):
        out = model(input_ids=step_ids, attention_mask=cur_mask, position_ids=step_pos, past_key_values=past,
                    use_cache=True, logits_to_keep=1)
        logits = out.logits[:, -1].float()
        logp = logits.log_softmax(-1)
        batch_rows = torch.tensor(active, device=device)
        token = sampler.pick(logits, t, batch_rows) if sampler is not None else logits.argmax(-1)
        chosen_steps.append(logp.new_zeros(rows).index_copy_(0, batch_rows, logp.gather(-1, token.unsqueeze(-1)).squeeze(-1)))
        if top_logprobs:
            vals, ids = logp.topk(k, dim=-1)
            top_steps.append((ids.new_zeros((rows, k)).index_copy_(0, batch_rows, ids),
                              vals.new_zeros((rows, k)).index_copy_(0, batch_rows, vals)))
        for row, tk in zip(active, token.tolist(), strict=True):
            if row in finished:
                continue
            generated[row].append(tk)
            if tk in eos_ids or t + 1 >= budgets[row] or (stopped is not None and stopped(generated[row])):
                finished.add(row)
                fed[row] = t  # the token just drawn is never fed back
        if len(finished) == len(active):
            break
        if len(finished) >= max(1, compact_share * len(active)):
            stay = [b for b, row in enumerate(active) if row not in finished]
            _leave(past, [b for b, row in enumerate(active) if row in finished], active, fed, generated, cur_mask, width, keep)
            sel = torch.tensor(stay, device=device)
            past.batch_select_indices(sel)
            active = [active[b] for b in stay]
            token, cur_mask, next_pos = token[sel], cur_mask[sel], next_pos[sel]
            finished.clear()
        step_ids = token.unsqueeze(-1)
        step_pos = next_pos.unsqueeze(-1)
        next_pos = next_pos + 1
        cur_mask = torch.cat([cur_mask, cur_mask.new_ones((cur_mask.shape[0], 1))], dim=-1)
    _leave(past, list(range(len(active))), active, fed, generated, cur_mask, width, keep)

    lengths = [len(g) for g in generated]
    logprobs = [lp[:n] for lp, n in zip(torch.stack(chosen_steps, 1).tolist(), lengths, strict=True)]
    top: list[list[dict[int, float]]] = [[] for _ in range(rows)]
    if top_logprobs:
        ids_all = torch.stack([i for i, _ in top_steps], 1).tolist()  # [rows, steps, k]
        vals_all = torch.stack([v for _, v in top_steps], 1).tolist()
        for row, n in enumerate(lengths):
            top[row] = [dict(zip(i, v, strict=True)) for i, v in zip(ids_all[row][:n], vals_all[row][:n], strict=True)]
    return Decoded(generated, logprobs, top, fed)


def _leave(past, positions: list[int], active: list[int], fed: list[int], generated: list[list[int]],
           mask: torch.Tensor, width: int, keep: Keep | None) -> None:
    """Hand the leaving rows' keys and values to ``keep``: the prompt's real tokens (where
    ``mask`` is set in its first ``width`` columns) and the generated tokens fed back (a row
    that finished before the last compaction has decoded junk after them)."""
    if keep is None or not positions:
        return
    for b in positions:
        row = active[b]
        real = torch.cat([mask[b, :width].nonzero().squeeze(-1),
                          torch.arange(width, width + fed[row], device=mask.device)])
        keep(row, [(layer.keys[b].index_select(1, real), layer.values[b].index_select(1, real))
                   for layer in past.layers], generated[row][: fed[row]])
