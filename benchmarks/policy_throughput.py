"""Policy engine throughput on the step-expansion workload, every installed backend in one run.

    python -m benchmarks.policy_throughput [--prefixes 64] [--n 4] [--backends hf vllm http]
    python -m benchmarks.policy_throughput --random-qwen2-0.5b   # GPU: a 0.5B-class random model

Workload: B prefixes (testbed problems with 0-2 gold steps written) x n candidates, sampled at
T=0.8, stopping at the step delimiter. For each backend it reports the start-up time, generated
tokens/s for the batched call, the same workload sent one prefix per call, and their ratio; then
the vLLM/HF ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from tts.policy import Prefix, Sampling, load_policy, shipped_model
from tts.tasks.splits import testbed_split


def workload(num: int) -> list[Prefix]:
    problems = testbed_split("test")[:num]
    return [Prefix(p.problem, tuple((p.steps or [])[: i % 3])) for i, p in enumerate(problems)]


def random_qwen2(out: Path) -> Path:
    """A random-weight model of Qwen2-0.5B's shape (with the testbed's Qwen2.5 tokenizer: no hub here)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from tts.models.families import qwen25_math_tokenizer

    tok = qwen25_math_tokenizer()
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                      num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=2048,
                      tie_word_embeddings=True, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def measure(backend: str, model: str, prefixes: list[Prefix], n: int, sampling: Sampling, repeats: int,
            **kwargs) -> dict:
    start = time.perf_counter()
    policy = load_policy(backend, model, seed=0, **kwargs)
    startup = time.perf_counter() - start
    policy.generate(prefixes[:2], n, sampling)  # warm-up

    def run(batches: list[list[Prefix]]) -> tuple[float, int]:
        t0, tokens = time.perf_counter(), 0
        for _ in range(repeats):
            for batch in batches:
                tokens += sum(c.generated_tokens for row in policy.generate(batch, n, sampling) for c in row)
        return time.perf_counter() - t0, tokens

    t_batched, tok_batched = run([prefixes])
    t_single, tok_single = run([[p] for p in prefixes])
    policy.close()
    return {"backend": backend, "startup_s": startup, "batched_tok_s": tok_batched / t_batched,
            "per_prefix_tok_s": tok_single / t_single,
            "batched_over_per_prefix": (tok_batched / t_batched) / (tok_single / t_single)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefixes", type=int, default=64)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--backends", nargs="+", default=["hf", "vllm", "http"])
    parser.add_argument("--model", default=str(shipped_model("tiny-policy")))
    parser.add_argument("--random-qwen2-0.5b", dest="qwen", action="store_true",
                        help="benchmark a random-weight Qwen2-0.5B-shaped model instead (for GPUs)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args(argv)

    model = args.model
    dtype = "float32"
    if args.qwen:
        model = str(random_qwen2(Path(tempfile.mkdtemp()) / "qwen2-0.5b-random"))
        dtype = "bfloat16"
    prefixes = workload(args.prefixes)
    sampling = Sampling(temperature=0.8, max_tokens=64)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU, {os.cpu_count()} cores"
    print(f"# policy_throughput: {args.prefixes} prefixes x n={args.n}, stop at delimiter, T=0.8, "
          f"model {Path(model).name}, {device}, torch {torch.__version__}, {platform.python_version()}")
    rows = []
    for backend in args.backends:
        try:
            if backend == "http":
                from tts.policy.server import vllm_server

                t0 = time.perf_counter()
                with vllm_server(model, "bench", dtype=dtype) as url:
                    server_start = time.perf_counter() - t0
                    row = measure("http", "bench", prefixes, args.n, sampling, args.repeats, base_url=url)
                    row["startup_s"] += server_start  # the server's start-up is the backend's
            else:
                kwargs = {"dtype": dtype}
                if backend == "vllm":
                    kwargs["max_model_len"] = 512
                row = measure(backend, model, prefixes, args.n, sampling, args.repeats, **kwargs)
        except ImportError as e:
            print(f"# {backend}: not installed ({e})")
            continue
        rows.append(row)
        print(f"# {backend}: {json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})}",
              flush=True)
    print("| backend | start-up s | batched tokens/s | one prefix per call tokens/s | batched / per-prefix |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['backend']} | {r['startup_s']:.1f} | {r['batched_tok_s']:,.0f} | {r['per_prefix_tok_s']:,.0f} "
              f"| {r['batched_over_per_prefix']:.1f}x |")
    by = {r["backend"]: r for r in rows}
    if "vllm" in by and "hf" in by:
        print(f"vLLM / HF batched throughput: {by['vllm']['batched_tok_s'] / by['hf']['batched_tok_s']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
