"""ThinkPRM-style verifier: one long verification of the whole prefix with a boxed verdict per
step (``\\boxed{correct}`` / ``\\boxed{incorrect}``), then a forced "Is the solution correct?"
whose Yes/No probability scores the prefix. Step t's reward is p(correct) at its verdict; steps
the verification never reached get the final Yes probability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tts.policy.base import Prefix, Sampling
from tts.prm import protocol as P
from tts.prm.base import PRMScore, clean_prefix


def _verdict_ids(tokenizer) -> tuple[int, int]:
    """The first token where ``\\boxed{correct}`` and ``\\boxed{incorrect}`` differ."""
    good = tokenizer.encode("\\boxed{correct}", add_special_tokens=False)
    bad = tokenizer.encode("\\boxed{incorrect}", add_special_tokens=False)
    for a, b in zip(good, bad, strict=False):
        if a != b:
            return a, b
    raise ValueError("the tokenizer cannot tell \\boxed{correct} from \\boxed{incorrect}")


class ThinkPRM:
    name = "thinkprm"
    incremental = False  # one pass over the whole solution: a prefix's rewards differ from the full one's

    def __init__(self, engine, samples: int = 1, sampling: Sampling | None = None, max_tokens: int = 1024,
                 top_logprobs: int = 20) -> None:
        if samples < 1:
            raise ValueError(f"samples must be >= 1, got {samples}")
        self.engine = engine
        self.samples = samples
        self.sampling = sampling or (Sampling(temperature=0.0) if samples == 1 else Sampling(temperature=0.6, top_p=0.95))
        self.max_tokens = max_tokens
        self.top_logprobs = top_logprobs
        tok = engine.tokenizer
        self.good_id, self.bad_id = _verdict_ids(tok)
        # The final question is forced without its trailing space (P.healed), so the answer is
        # the word with its space, as in training.
        self.yes_id, self.no_id = P.token_id(tok, " Yes"), P.token_id(tok, " No")
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[list[float], list[str], int, int]] = {}

    def _prompt(self, p: Prefix) -> str:
        chat = [{"role": "system", "content": P.THINK_SYSTEM},
                {"role": "user", "content": p.problem + "\n\n" + "\n\n".join(p.steps)}]
        return P.render_chat(self.engine.tokenizer, chat, generation_prompt=True)

    def score(self, prefixes: Sequence[Prefix]) -> list[PRMScore]:
        prefixes = [clean_prefix(p) for p in prefixes]
        todo = list(dict.fromkeys((p.problem, p.steps) for p in prefixes if p.steps and (p.problem, p.steps) not in self._cache))
        fresh = set(todo)
        if todo:
            self._run(todo)
        out, charged = [], set()
        for p in prefixes:
            if not p.steps:
                out.append(PRMScore([]))
                continue
            rewards, texts, pt, gt = self._cache[(p.problem, p.steps)]
            first = (p.problem, p.steps) in fresh and (p.problem, p.steps) not in charged
            charged.add((p.problem, p.steps))
            out.append(PRMScore(list(rewards), pt if first else 0, gt if first else 0, [[t] for t in texts]))
        return out

    def _run(self, todo: list[tuple[str, tuple[str, ...]]]) -> None:
        prompts = [self._prompt(Prefix(problem, steps)) for problem, steps in todo for _ in range(self.samples)]
        sampling = replace(self.sampling, max_tokens=self.max_tokens)
        final_q = P.healed(P.THINK_FINAL)
        first = self.engine.complete(prompts, 1, sampling, stop=(final_q,), top_logprobs=self.top_logprobs)
        texts = [c[0].text for c in first]
        forced = [p + (t if t.endswith(final_q) else t + "\n" + final_q) for p, t in zip(prompts, texts, strict=True)]
        final = self.engine.complete(forced, 1, replace(self.sampling, max_tokens=1), top_logprobs=self.top_logprobs)
        for i, (problem, steps) in enumerate(todo):
            per_sample, pt, gt = [], 0, 0
            for j in range(self.samples):
                k = i * self.samples + j
                (a,), (b,) = first[k], final[k]
                pt += a.prompt_tokens + b.prompt_tokens
                gt += a.generated_tokens + b.generated_tokens
                p_yes = P.two_way(b.top_logprobs[0], self.yes_id, self.no_id) if b.top_logprobs else 0.5
                verdicts = [P.two_way(tops, self.good_id, self.bad_id)
                            for tid, tops in zip(a.token_ids, a.top_logprobs, strict=False) if tid in (self.good_id, self.bad_id)]
                per_sample.append(verdicts[: len(steps)] + [p_yes] * max(0, len(steps) - len(verdicts)))
            rewards = [sum(col) / len(col) for col in zip(*per_sample, strict=True)]
            self._cache[(problem, steps)] = (rewards, [texts[i * self.samples]], pt, gt)

    def release(self, problem: str) -> None:
        """Forget the verifications of one problem (its search has finished)."""
        for key in [k for k in self._cache if k[0] == problem]:
            del self._cache[key]

    def clear_cache(self) -> None:
        self._cache.clear()

    def restart(self) -> None:
        """Forget every verification and restart the engine's seed streams: the next run scores
        exactly as in a fresh process (a resumed sweep config, a benchmark row)."""
        self.clear_cache()
        if hasattr(self.engine, "restart"):
            self.engine.restart()

    def close(self) -> None:
        pass
