"""Remote code of the shipped Qwen2.5-Math-PRM twin: these files are copied into its checkpoint
folder (relative imports only, so they work there and here)."""

from pathlib import Path

FILES = tuple(sorted(p for p in Path(__file__).parent.glob("*_qwen2_rm.py")))
AUTO_MAP = {"AutoConfig": "configuration_qwen2_rm.Qwen2RMConfig",
            "AutoModel": "modeling_qwen2_rm.Qwen2ForProcessRewardModel"}
