"""A process reward model in Qwen2.5-Math-PRM's convention: a Qwen2 decoder whose last hidden states
go through a two-layer head to two classes (step wrong / step right) at every position; a step's
reward is p(class 1) at the separator token that ends it.

This file imports only torch, transformers and its sibling configuration file (relatively), because
it is shipped inside the checkpoint folder and named in its ``config.json`` ``auto_map``, so that
``AutoModel.from_pretrained(path, trust_remote_code=True)`` loads the model offline, which is how
Qwen2.5-Math-PRM-7B loads.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import Qwen2Model, Qwen2PreTrainedModel
from transformers.modeling_outputs import ModelOutput

from .configuration_qwen2_rm import Qwen2RMConfig


@dataclass
class ProcessRewardOutput(ModelOutput):
    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None


class Qwen2ForProcessRewardModel(Qwen2PreTrainedModel):
    config_class = Qwen2RMConfig

    def __init__(self, config: Qwen2RMConfig) -> None:
        super().__init__(config)
        self.num_labels = getattr(config, "num_labels", 2)
        self.model = Qwen2Model(config)
        self.score = nn.Sequential(
            nn.Linear(config.hidden_size, config.hidden_size),
            nn.ReLU(),
            nn.Linear(config.hidden_size, self.num_labels),
        )
        self.post_init()

    def get_input_embeddings(self):
        return self.model.embed_tokens

    def set_input_embeddings(self, value):
        self.model.embed_tokens = value

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None,
                inputs_embeds=None, labels=None, use_cache=False, **kwargs) -> ProcessRewardOutput:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                            past_key_values=past_key_values, inputs_embeds=inputs_embeds, use_cache=use_cache,
                            **kwargs).last_hidden_state
        logits = self.score(hidden)
        loss = None
        if labels is not None:  # -100 everywhere but at separators
            loss = nn.functional.cross_entropy(logits.view(-1, self.num_labels).float(), labels.view(-1),
                                               ignore_index=-100)
        return ProcessRewardOutput(loss=loss, logits=logits)
