"""GenPRM: a generative PRM that verifies each step with an analysis, Python code whose output it
reads, and a Yes/No judgement; batched over a whole frontier.

Every stage runs for all pending verifications at once: one engine call for the analyses, then
per round one call that writes code (or the judgement) and one sandbox batch that runs all the
code in parallel. ``samples`` > 1 is GenPRM's Maj@N: N sampled verifications per step, rewards
averaged. Verifications are cached by (problem, steps so far, sample), so a search that extends a
node never re-verifies its earlier steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tts.policy.base import STOP_DELIMITER, Prefix, Sampling
from tts.prm import protocol as P
from tts.prm.base import PRMScore, clean_prefix
from tts.sandbox import SandboxPool, Snippet

Key = tuple[str, tuple[str, ...], int]  # (problem, steps up to and including the verified one, sample)


@dataclass
class _Job:
    key: Key
    prompt: str  # the rendered chat up to the empty assistant turn
    text: str  # the assistant turn so far
    rounds: int = 0
    reward: float | None = None
    prompt_tokens: int = 0
    cached_tokens: int = 0
    generated_tokens: int = 0
    context_full: bool = False  # the chat ran out of the model's context: no verdict, reward 0.5

    @property
    def analysis(self) -> str:
        return self.text.split(P.ANALYZE_END)[0] + P.ANALYZE_END


@dataclass
class _Done:
    text: str
    reward: float
    context_full: bool = False


def chain_id(key: Key) -> str:
    """The sandbox namespace of a verification chain (one per solution path and sample)."""
    h = hashlib.sha1(repr(key).encode("utf-8", "replace")).hexdigest()
    return h[:20]


class GenerativePRM:
    name = "genprm"
    # Step t's verification reads steps <= t only and is cached: scoring a prefix, then a longer
    # one, costs what the longer one alone costs, so Rank verifies step-major and prunes.
    incremental = True

    def __init__(self, engine, samples: int = 1, sampling: Sampling | None = None, code: bool = True,
                 max_rounds: int = 3, max_tokens: int = 2048, top_logprobs: int = 20,
                 sandbox: SandboxPool | None = None, sandbox_workers: int = 2) -> None:
        """``engine``: a policy backend with ``complete`` and ``tokenizer`` (vLLM or HF) loaded
        with the PRM's weights. ``sampling``: greedy when ``samples`` is 1, else GenPRM's
        T=0.6, top-p 0.95, top-k 20. ``code=False`` is the no-code ablation: the judgement follows
        the analysis directly."""
        if samples < 1:
            raise ValueError(f"samples (Maj@N) must be >= 1, got {samples}")
        if max_rounds < 1:
            raise ValueError(f"max_rounds must be >= 1, got {max_rounds}")
        self.engine = engine
        self.samples = samples
        self.sampling = sampling or (Sampling(temperature=0.0) if samples == 1 else
                                     Sampling(temperature=0.6, top_p=0.95, top_k=20))
        self.code = code
        self.max_rounds = max_rounds
        self.max_tokens = max_tokens
        self.top_logprobs = top_logprobs
        tok = engine.tokenizer
        self.yes_id, self.no_id = P.token_id(tok, "Yes"), P.token_id(tok, "No")
        self._own_sandbox = sandbox is None and code
        self.sandbox = sandbox if sandbox is not None else (SandboxPool(sandbox_workers) if code else None)
        self._cache: dict[Key, _Done] = {}
        self.engine_calls = 0
        if not code:
            self.name = "genprm-nocode"

    # -- public -------------------------------------------------------------------------------
    def score(self, prefixes: Sequence[Prefix]) -> list[PRMScore]:
        prefixes = [clean_prefix(p) for p in prefixes]
        spent: dict[Key, tuple[int, int, int]] = {}
        # Waves: step t's chat needs the verifications of steps < t, so a wave holds every step
        # (at any depth) whose earlier steps are verified. Verifying whole solutions, a wave is
        # a depth; a pruned ranking pass (each candidate one step further, at different depths,
        # the earlier ones cached) is one wave, so one batch, not one per depth.
        while True:
            todo: dict[Key, _Job] = {}
            for p in prefixes:
                for t in range(len(p.steps)):
                    key = (p.problem, p.steps[: t + 1], 0)
                    if key in self._cache:
                        continue
                    for j in range(self.samples):
                        key = (p.problem, p.steps[: t + 1], j)
                        if key not in todo:
                            todo[key] = self._job(key)
                    break  # its later steps wait for this one
            if not todo:
                break
            jobs = list(todo.values())
            self._verify(jobs)
            for job in jobs:
                self._cache[job.key] = _Done(job.text, job.reward, job.context_full)
                spent[job.key] = (job.prompt_tokens, job.generated_tokens, job.cached_tokens)
        out = []
        counted: set[Key] = set()
        for p in prefixes:
            rewards, texts, prompt_tokens, generated, full, cached = [], [], 0, 0, 0, 0
            for t in range(len(p.steps)):
                done = [self._cache[(p.problem, p.steps[: t + 1], j)] for j in range(self.samples)]
                rewards.append(sum(d.reward for d in done) / len(done))
                texts.append([d.text for d in done])
                for j in range(self.samples):
                    key = (p.problem, p.steps[: t + 1], j)
                    if key in spent and key not in counted:  # charge shared work once
                        counted.add(key)
                        prompt_tokens += spent[key][0]
                        generated += spent[key][1]
                        cached += spent[key][2]
                        full += self._cache[key].context_full
            out.append(PRMScore(rewards, prompt_tokens, generated, texts, context_full=full, cached_tokens=cached))
        return out

    def release(self, problem: str) -> None:
        """Forget the verifications of one problem (its search has finished) and end their
        sandbox chains."""
        keys = [k for k in self._cache if k[0] == problem]
        if self.sandbox is not None:
            self.sandbox.forget([chain_id(k) for k in keys])
        for k in keys:
            del self._cache[k]

    def clear_cache(self) -> None:
        if self.sandbox is not None:
            self.sandbox.forget([chain_id(k) for k in self._cache])
        self._cache.clear()

    def restart(self) -> None:
        """Forget every verification and restart the engine's seed streams: the next run scores
        exactly as in a fresh process (a resumed sweep config, a benchmark row)."""
        self.clear_cache()
        if hasattr(self.engine, "restart"):
            self.engine.restart()

    def close(self) -> None:
        if self._own_sandbox and self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    # -- the stages ---------------------------------------------------------------------------
    def _job(self, key: Key) -> _Job:
        problem, steps, j = key
        earlier = [self._cache[(problem, steps[: i + 1], j)].text for i in range(len(steps) - 1)]
        chat = P.messages(problem, steps, earlier)
        prompt = P.render_chat(self.engine.tokenizer, chat)
        return _Job(key, prompt, P.healed(P.ANALYZE_START.format(index=len(steps))))

    def _complete(self, jobs: list[_Job], stop: tuple[str, ...], max_tokens: int | None = None,
                  logprobs: bool = False):
        """One engine call for every job; each job may generate what its verification has left
        of ``self.max_tokens`` (and at most ``max_tokens`` in this stage)."""
        caps = [max(1, min(self.max_tokens - j.generated_tokens, max_tokens or self.max_tokens)) for j in jobs]
        self.engine_calls += 1
        outs = self.engine.complete([j.prompt + j.text for j in jobs], 1, replace(self.sampling, max_tokens=max(caps)),
                                    stop=stop, top_logprobs=self.top_logprobs if logprobs else 0, max_tokens=caps)
        cands = []
        for job, (cand,) in zip(jobs, outs, strict=True):
            job.prompt_tokens += max(cand.prompt_tokens, 0)
            job.cached_tokens += cand.cached_tokens
            job.generated_tokens += cand.generated_tokens
            if cand.context_full:  # counted and reported, never run past the model's positions
                job.context_full = True
                job.reward = 0.5
            cands.append(cand)
        return cands

    def _verify(self, jobs: list[_Job]) -> None:
        # Stage 1: the analyses.
        for job, cand in zip(jobs, self._complete(jobs, (P.ANALYZE_END,)), strict=True):
            job.text += cand.text if cand.stop == P.ANALYZE_END else cand.text + "\n" + P.ANALYZE_END
        jobs = [j for j in jobs if not j.context_full]  # a chat that filled the context gets no verdict
        if not self.code:
            self._judge(jobs, prefix=P.OUTPUT_START)
            return
        for job in jobs:
            job.text += P.VERIFY_START
        active = list(jobs)
        while active:
            # Stage 2..: write (more) code or the judgement; run all finished code blocks at once.
            cands = self._complete(active, (P.CODE_END, P.OUTPUT_END), logprobs=True)
            coding = []
            for job, cand in zip(active, cands, strict=True):
                job.text += cand.text
                if job.context_full:
                    continue
                if cand.stop == P.CODE_END and cand.finish_reason == STOP_DELIMITER:
                    job.rounds += 1
                    coding.append(job)
                else:  # a judgement, or the model stopped without one
                    job.reward = P.reward_from_logprobs(cand.token_ids, cand.top_logprobs, self.yes_id, self.no_id, cand.text)
            self._execute(coding)
            over = [j for j in coding if j.rounds >= self.max_rounds]
            active = [j for j in coding if j.rounds < self.max_rounds]
            if over:  # past the round limit: judge from the analysis alone, as the reference does
                for job in over:
                    job.text = job.analysis
                self._judge(over, prefix=P.OUTPUT_START)

    def _execute(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        snippets = []
        for job in jobs:
            problem, steps, j = job.key
            # A step's verification continues from its previous step's (GenPRM keeps one
            # interpreter per solution): its chain is forked from the parent chain's process.
            parent = chain_id((problem, steps[:-1], j)) if len(steps) > 1 else None
            code = P.last_code(job.text) or "print('Code format error: No code found.')"
            snippets.append(Snippet(chain_id(job.key), code, parent))
        for job, res in zip(jobs, self.sandbox.run(snippets), strict=True):
            job.text += P.CODE_OUTPUT.format(output=res.output.strip())

    def _judge(self, jobs: list[_Job], prefix: str) -> None:
        for job in jobs:
            job.text += prefix
        cands = self._complete(jobs, (P.OUTPUT_END,), max_tokens=20, logprobs=True)
        for job, cand in zip(jobs, cands, strict=True):
            job.text += cand.text
            if job.context_full:
                continue
            job.reward = P.reward_from_logprobs(cand.token_ids, cand.top_logprobs, self.yes_id, self.no_id, cand.text)
