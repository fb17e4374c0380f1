"""Model cards (README.md in a checkpoint folder) written from measured figures."""

from __future__ import annotations

import json
from pathlib import Path

from tts.models.evaluate_policy import format_table


def write_policy_card(out_dir: str | Path, command: str, evaluation: dict) -> Path:
    out = Path(out_dir)
    training = json.loads((out / "training.json").read_text())
    cfg = training["config"]
    chain = cfg["chain"]
    table = format_table(evaluation["table"])
    text = f"""# tiny-policy: the embedded testbed's policy

A Llama-architecture model ({training['parameters']:,} parameters: {cfg['layers']} layers, width
{cfg['hidden']}, {cfg['heads']} heads, FFN {cfg['ffn']}, tied embeddings) with a `tokenizers`-built
word-or-character tokenizer, trained on generated arithmetic chains (start {chain['start_range']},
+/- {chain['add_range']}, * and // {chain['mul_range']}, values <= {chain['max_value']},
{chain['min_ops']}-{chain['max_ops']} operations). It is meant to be often wrong
but often right in some sample: the headroom that PRM-guided search must capture.

## Reproduce

```bash
{command}
```

Deterministic given `--seed` and `--threads` (CPU reductions depend on the thread count).
Training: {cfg['steps']} steps of batch {cfg['batch_size']}, AdamW lr {cfg['lr']} with cosine decay,
loss on solution tokens only; {training['train_seconds']:.0f} s on 2 CPU cores
({training['tokens_per_second']:,} tokens/s); final loss {training['final_loss']:.3f}.

## Measured accuracy (%)

Testbed split `{evaluation['split']}` ({evaluation['table'][-1]['problems']} problems), backend
`{evaluation['backend']}`, {evaluation['samples']} samples at T={evaluation['temperature']}
(`tts eval policy --split {evaluation['split']} --samples {evaluation['samples']}`).
`step_err` is the share of wrong steps among steps whose earlier steps were all right.

{table}

Load it with `AutoModelForCausalLM.from_pretrained`, `vllm.LLM(model=...)` or
`python -m vllm.entrypoints.openai.api_server --model ...`; in tts it is the model named `tiny-policy`.
"""
    path = out / "README.md"
    path.write_text(text)
    (out / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n")
    return path


PRM_KINDS = {
    "genprm": ("tiny-genprm: the embedded testbed's generative PRM",
               "writes GenPRM-format verifications (analysis, Python code that recomputes the step from the "
               "problem and the previous step, the executed output, a Yes/No judgement); a share of its "
               "training chats is written without code (the no-code ablation) and as ThinkPRM verifications, "
               "so it serves `genprm`, `genprm-nocode` and `thinkprm`", "AutoModelForCausalLM"),
    "dprm": ("tiny-dprm: the embedded testbed's discriminative PRM",
             "reads the problem and the steps, each followed by the separator `<extra_0>`, and a two-class "
             "head at each separator gives p(step is right) (Qwen2.5-Math-PRM style)", "AutoModelForTokenClassification"),
}


def write_prm_card(out_dir: str | Path, kind: str, command: str, synth: dict | None = None) -> Path:
    out = Path(out_dir)
    training = json.loads((out / "training.json").read_text())
    cfg = training["config"]
    title, what, auto = PRM_KINDS[kind]
    data = ""
    if synth:
        data = (f"\n## Training data\n\n`tts prm synth` on the shipped policy's own samples: {synth['solutions']:,} solutions "
                f"({synth['config']['problems']} problems x {synth['config']['samples']} samples at T=0.8), "
                f"{synth['steps']:,} steps labelled by Relative Progress Estimation (K={synth['config']['rollouts']} "
                f"rollouts per prefix, eps={synth['config']['eps']}); consensus filtering with the code-verified "
                f"rationales kept {synth['kept_steps']:,} steps ({100 * synth['consensus_rate']:.1f} %) for the loss. "
                f"RPE labels agree with the exact step labels on {100 * synth['rpe_agrees_with_exact_labels']:.1f} % of steps. "
                f"Synthesis took {synth['seconds']:.0f} s.\n")
    text = f"""# {title}

A Llama-architecture model ({training['parameters']:,} parameters: {cfg['layers']} layers, width {cfg['hidden']},
{cfg['heads']} heads, FFN {cfg['ffn']}, context {cfg['max_positions']}) that {what}.
Load it with `{auto}.from_pretrained`; in tts it is the model named `tiny-{kind}`.
{data}
## Reproduce

```bash
{command}
```

Deterministic given `--seed` and `--threads`. Training: {cfg['steps']} steps of batch {cfg['batch_size']},
AdamW lr {cfg['lr']} with cosine decay; {training['train_seconds']:.0f} s on 2 CPU cores
({training['tokens_per_second']:,} tokens/s); final loss {training['final_loss']:.3f}.
ProcessBench figures: see the README's PRM benchmark (`python -m benchmarks.prm`).
"""
    path = out / "README.md"
    path.write_text(text)
    return path
