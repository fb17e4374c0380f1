import re
import subprocess
import sys
import textwrap

import pytest


@pytest.mark.slow
def test_script_importing_tts_can_start_vllm(tmp_path):
    """A user script that imports tts (and with it Numba) at the top, as a search script does,
    must be able to start a vLLM engine: vLLM's spawned worker re-imports that script."""
    script = tmp_path / "search.py"
    script.write_text(textwrap.dedent("""
        import tts
        from tts.policy import GREEDY, Prefix, load_policy

        if __name__ == "__main__":
            policy = load_policy("vllm", "tiny-policy", max_model_len=512)
            [[c]] = policy.generate([Prefix("Start with 3. Add 4. What is the result?")], 1, GREEDY)
            print("STEP", c.text, c.finish_reason)
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    # One step of the twin's format (a sentence around its equation), cut at the step delimiter.
    assert re.search(r"^STEP .*\b3 \+ 4 = \d+\..* delimiter$", out.stdout, re.MULTILINE), out.stdout[-2000:]
