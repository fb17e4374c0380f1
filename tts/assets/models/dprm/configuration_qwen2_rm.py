"""The configuration of a Qwen2.5-Math-PRM-style process reward model: Qwen2's, plus the two step
classes. Shipped inside the checkpoint folder beside ``modeling_qwen2_rm.py`` (see there)."""

from transformers import Qwen2Config


class Qwen2RMConfig(Qwen2Config):
    # Qwen2.5-Math-PRM's config.json says "qwen2" too; only auto_map tells the two apart.
    model_type = "qwen2"
