"""Model cards (README.md in a checkpoint folder) written from measured figures."""

from __future__ import annotations

import json
from pathlib import Path

from tts.models.evaluate_policy import format_table

TOKENIZER = """The tokenizer is the testbed family's byte-level BPE, built with the `tokenizers` library: Qwen2's
pre-tokenization (its split regex, so every digit is its own token; NFC; byte-level alphabet), merges
learnt on the testbed's own text (`tts.models.tokenizer`), saved as a `Qwen2Tokenizer` (loaded by
`AutoTokenizer.from_pretrained` as Qwen2 checkpoints are). The architecture is `Qwen2ForCausalLM`-style
Qwen2 (grouped-query attention, biased q/k/v, RMSNorm, RoPE, tied embeddings as Qwen2.5-0.5B/1.5B)."""

# What each checkpoint copies, and where that was checked (the issue asks every card to say so).
FORMATS = {
    "policy": """## Format copied: Qwen2.5-Math-Instruct, chain-of-thought

- Special tokens: Qwen2.5's 22 added tokens in Qwen2.5's id order (`<|endoftext|>`, `<|im_start|>`,
  `<|im_end|>`, ..., `<|file_sep|>`; `<tool_call>`/`</tool_call>` added but not special), no BOS,
  EOS `<|im_end|>`, padding `<|endoftext|>`; generation stops at `<|im_end|>` or `<|endoftext|>`
  (Qwen2.5-Math-Instruct's `generation_config.json` has `eos_token_id: [151645, 151643]`).
- Chat template: the ChatML layout of Qwen2.5-Math-Instruct's template (tool calls left out), whose
  default system prompt is the chain-of-thought one; prompted with `Please reason step by step, and
  put your final answer within \\boxed{}.` as Qwen2.5-Math's README and its evaluation prompt
  `qwen25-math-cot` (`evaluation/utils.py` in QwenLM/Qwen2.5-Math) do.
- Steps are paragraphs separated by a blank line (`\\n\\n`), the stop string search-and-learn's
  beam search and DVTS use (`stop=["\\n\\n"]` in huggingface/search-and-learn); each step is a
  sentence around its equation; the answer is `\\boxed{}`.
- Checked against: the Qwen2.5-Math README and `evaluation/utils.py`, Qwen2.5 tokenizer configs (special
  tokens and ids), huggingface/search-and-learn `src/sal/search/beam_search.py`; a test renders the
  `qwen25-math-cot` prompt byte for byte (`tests/models/test_tokenizer.py`).""",
    "genprm": """## Format copied: GenPRM-1.5B/7B on DeepSeek-R1-Distill-Qwen

- Base-model tokens (GenPRM-1.5B/7B are fine-tuned from DeepSeek-R1-Distill-Qwen-1.5B/7B, per the
  GenPRM paper and the GenPRM-7B card's `base_model`): `<｜end▁of▁sentence｜>` (EOS and padding, at
  Qwen's `<|endoftext|>` id), `<｜User｜>`, `<｜Assistant｜>`, `<｜begin▁of▁sentence｜>` (BOS), `<|EOT|>`,
  `<think>`, `</think>`, in that model's id order.
- Chat template: the layout of DeepSeek-R1-Distill-Qwen's (tool calls left out): BOS, the system
  prompt untagged, `<｜User｜>` turns, `<｜Assistant｜>...<｜end▁of▁sentence｜>` turns, generation prompt
  `<｜Assistant｜><think>\\n`. The real tokenizer class is `LlamaTokenizerFast`, which also prepends BOS
  on encode (so the reference's prompts carry two); this one is saved as `Qwen2Tokenizer` and does not.
- Verification chat, as GenPRM's reference (`src/prm_evaluation/prm_evaluate.py`, `genprm_inference.py`
  in RyanLiu112/GenPRM): system prompt `You are a math teacher. Your task is to review and critique
  the paragraphs in solution step by step.`; the first user turn is the problem, a newline and step 1;
  a user turn per later step; earlier verifications as assistant turns; the prompt rendered without a
  generation prompt, so the forced `<analyze>\\nLet's analyze the Paragraph k step by step: ` follows
  the user turn directly; `<verify>` with a Python block whose output is appended as `[Code Output]`;
  `<output>\\n**Judgement**: $\\boxed{Yes}$\\n</output>\\n`; reward p(Yes) / (p(Yes) + p(No)) at the
  judgement token. Trained in that inference layout (the current turn untagged).
- One departure, in tokens only: the forced opening's trailing space is left to the model (the
  prompt ends at `step by step:`), because byte-level BPE merges that space into the next word
  (`ĠThe`), so a prompt ending on the bare space token is a sequence no training text contains.
  The text is the reference's.
- Checked against: the reference's code and its demo notebook's logged prompt; a test rebuilds that
  prompt byte for byte, less that space (`tests/prm/test_protocol.py`).""",
    "dprm": """## Format copied: Qwen2.5-Math-PRM-7B

- Tokens: Qwen2.5's, with `<extra_0>` (the step separator) where Qwen2.5 has `<|quad_end|>` (151651,
  the `step_tag_id` vLLM defaults to for this architecture).
- Input: system prompt `Please reason step by step, and put your final answer within \\boxed{}.`, the
  problem as the user turn, the steps joined by `<extra_0>` with one after the last as the assistant
  turn (the model card's example); reward: softmax over two classes at each `<extra_0>`, class 1.
- Architecture: `Qwen2ForProcessRewardModel` (a Qwen2 decoder, head Linear-ReLU-Linear to 2 classes,
  weights `score.0`/`score.2`); `config.json` has `model_type: qwen2` and an `auto_map` naming
  `configuration_qwen2_rm.Qwen2RMConfig` and `modeling_qwen2_rm.Qwen2ForProcessRewardModel`, both
  files shipped in this folder, so `AutoModel.from_pretrained(path, trust_remote_code=True)` loads it
  offline, as the real checkpoint loads.
- Checked against: the Qwen2.5-Math-PRM-7B model card and config.json, vLLM's `qwen2_rm.py` (head
  layout, step tag id) and huggingface/search-and-learn's `Qwen_2_5_Math` reward model.""",
}


def write_policy_card(out_dir: str | Path, command: str, evaluation: dict, others: list[dict] = ()) -> Path:
    """``others``: evaluations of the same problems at other temperatures, summarised under the table."""
    out = Path(out_dir)
    training = json.loads((out / "training.json").read_text())
    cfg = training["config"]
    chain = cfg["chain"]
    table = format_table(evaluation["table"])
    text = f"""# tiny-policy: the embedded testbed's policy

A Qwen2-architecture twin of Qwen2.5-Math-Instruct ({training['parameters']:,} parameters: {cfg['layers']} layers,
width {cfg['hidden']}, {cfg['heads']} query / {cfg['kv_heads']} key-value heads, FFN {cfg['ffn']}), trained on
generated arithmetic chains of the training grid (start {chain['start_range']}, +/- {chain['add_range']},
* and // {chain['mul_range']}, values <= {chain['max_value']}, {chain['min_ops']}-{chain['max_ops']} operations).
It is meant to be often wrong but often right in some sample: the headroom that PRM-guided search
must capture.

{TOKENIZER}

{FORMATS['policy']}

## Reproduce

```bash
{command}
```

Deterministic given `--seed` and `--threads` (CPU reductions depend on the thread count).
Training: {cfg['steps']} steps of batch {cfg['batch_size']}, AdamW lr {cfg['lr']} with cosine decay,
loss on solution tokens only, digits weighted x{cfg['digit_weight']:g} and the first token of each
operation word (`Adding`, ` add`, ` +`, ...) x{cfg.get('op_weight', 1):g}; {training['train_seconds']:.0f} s on 2 CPU cores
({training['tokens_per_second']:,} tokens/s); final loss {training['final_loss']:.3f}.

## Measured accuracy (%)

Testbed split `{evaluation['split']}` ({evaluation['table'][-1]['problems']} problems), backend
`{evaluation['backend']}`, {evaluation['samples']} samples at T={evaluation['temperature']}
(`tts eval policy --split {evaluation['split']} --limit {evaluation['table'][-1]['problems']} --samples {evaluation['samples']}`).
`step_err` is the share of wrong steps among steps whose earlier steps were all right.

{table}
{_other_temperatures(others)}
Load it with `AutoModelForCausalLM.from_pretrained`, `vllm.LLM(model=...)` or
`python -m vllm.entrypoints.openai.api_server --model ...`; in tts it is the model named `tiny-policy`.
"""
    path = out / "README.md"
    path.write_text(text)
    (out / "evaluation.json").write_text(json.dumps(evaluation | ({"other_temperatures": list(others)} if others else {}), indent=2) + "\n")
    return path


def _other_temperatures(others: list[dict]) -> str:
    lines = []
    for ev in others:
        a, n = ev["table"][-1], ev["samples"]
        lines.append(f"- T={ev['temperature']}, {n} samples: greedy {a['greedy']:.1f}, sampled {a['sampled']:.1f}, "
                     f"maj@{n} {a[f'maj@{n}']:.1f}, pass@{n} {a[f'pass@{n}']:.1f}")
    return "\nThe same problems at other temperatures (all operations):\n\n" + "\n".join(lines) + "\n" if lines else ""


PRM_KINDS = {
    "genprm": ("tiny-genprm: the embedded testbed's generative PRM",
               "writes GenPRM-format verifications (analysis, Python code that recomputes the step from the "
               "problem and the previous step, the executed output, a Yes/No judgement); a share of its "
               "training chats is written without code (the no-code ablation) and as ThinkPRM verifications, "
               "so it serves `genprm`, `genprm-nocode` and `thinkprm`",
               "`AutoModelForCausalLM.from_pretrained`, `vllm.LLM(model=...)` or the vLLM OpenAI server"),
    "dprm": ("tiny-dprm: the embedded testbed's discriminative PRM",
             "reads the problem and the steps, each followed by the separator `<extra_0>`, and a two-class "
             "head at each separator gives p(step is right) (Qwen2.5-Math-PRM style)",
             "`AutoModel.from_pretrained(path, trust_remote_code=True)`"),
}


def write_prm_card(out_dir: str | Path, kind: str, command: str, synth: dict | None = None) -> Path:
    out = Path(out_dir)
    training = json.loads((out / "training.json").read_text())
    cfg = training["config"]
    title, what, auto = PRM_KINDS[kind]
    data = ""
    if synth:
        c = synth["config"]
        data = (f"\n## Training data\n\n`tts prm synth` on the shipped policy's own samples and each problem's reference "
                f"and corrupted solutions: {synth['solutions']:,} solutions ({c['problems']} training-grid problems, "
                f"{c['samples']} policy samples each at T={c['temperature']}), {synth['steps']:,} steps. "
                f"{synth['rpe_labelled_steps']:,} steps got a Relative Progress Estimation label (K={c['rollouts']} "
                f"rollouts per prefix, eps={c['eps']}; after an MC estimate of 0 RPE has none); consensus filtering "
                f"with the code-verified rationales kept {100 * synth['consensus_rate']:.1f} % of those, and the "
                f"verdict alone labels the rest: {synth['kept_steps']:,} steps in the loss. RPE labels agree with the "
                f"exact step labels on {100 * synth['rpe_agrees_with_exact_labels']:.1f} % of the steps they label. "
                f"Synthesis took {synth['seconds']:.0f} s.\n")
    if synth:  # the data's own command first, so the card reproduces the checkpoint from nothing
        c = synth["config"]
        command = (f"tts prm synth --out {training['data']} --backend hf --problems {c['problems']} "
                   f"--samples {c['samples']} --rollouts {c['rollouts']} --eps {c['eps']} --seed {c['seed']}\n{command}")
    ws = training.get("warm_start") or {}
    start = (f"Fine-tuned from {ws['base']} (the policy twin, as the real PRMs start from a math LM): its decoder "
             f"whole and {ws['embedding_rows_copied']} of {ws['embedding_rows']} embedding rows, matched by token. "
             if ws else "Trained from scratch. ")
    text = f"""# {title}

A Qwen2-architecture model ({training['parameters']:,} parameters: {cfg['layers']} layers, width {cfg['hidden']},
{cfg['heads']} query / {cfg['kv_heads']} key-value heads, FFN {cfg['ffn']}) that {what}.
Load it with {auto}; in tts it is the model named `tiny-{kind}`.

{TOKENIZER}

{FORMATS[kind]}
{data}
## Reproduce

```bash
{command}
```

Deterministic given `--seed`, `--threads` and the base checkpoint. {start}Training: {cfg['steps']} steps of batch {cfg['batch_size']},
AdamW lr {cfg['lr']} with cosine decay; {training['train_seconds']:.0f} s on 2 CPU cores
({training['tokens_per_second']:,} tokens/s); final loss {training['final_loss']:.3f}.
ProcessBench figures: see the README's PRM benchmark (`python -m benchmarks.prm`).
"""
    path = out / "README.md"
    path.write_text(text)
    return path
