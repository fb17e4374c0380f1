"""Regression tests for the strategies' and scheduler's bugs found against the reference
implementations. Each uses a deterministic scripted policy and PRM: the fakes are the point, as
they pin the exact situation (which candidate finishes, what it scores) the bug needs."""

from __future__ import annotations

import numpy as np
import pytest

import search
from search.particle_filter import resampling_weights
from tts import Budget, Expand, Outcome, Prefix, PRMScore, StepCandidate, StepSettings, search as run
from tts.policy.base import STOP_DELIMITER, STOP_EOS, STOP_LENGTH
from tts.tasks.records import Problem


class ScriptedPolicy:
    """Candidates from ``script(prefix, j, to_end) -> (text, finish_reason)``; every candidate
    costs ``max_tokens`` generated tokens (the worst case a budget must plan for)."""

    name = "scripted"

    def __init__(self, script):
        self.script = script
        self.calls: list[int] = []

    def generate(self, prefixes, n, sampling, delimiter="\n\n", stop_at_step=True):
        self.calls.append(len(prefixes))
        out = []
        for p in prefixes:
            row = []
            for j in range(n):
                text, reason = self.script(p, j, not stop_at_step)
                row.append(StepCandidate(text, reason, prompt_tokens=5, generated_tokens=sampling.max_tokens,
                                         logprobs=[-0.1] * sampling.max_tokens))
            out.append(row)
        return out

    def close(self):
        pass


class ScriptedPRM:
    """Step rewards from ``reward(step_text)``; optional per-step analyses for the critic."""

    name = "scripted-prm"

    def __init__(self, reward):
        self.reward = reward
        self.seen: list[Prefix] = []

    def score(self, prefixes):
        self.seen.extend(prefixes)
        return [PRMScore([self.reward(s) for s in p.steps], 1, 1,
                         [[f"<analyze>\nLet's analyze the Paragraph {i + 1} step by step: check {s}</analyze>\n"]
                          for i, s in enumerate(p.steps)]) for p in prefixes]

    def close(self):
        pass


PROBLEM = Problem("p0", "Start with 1. Add 6. What is the result?", "7")


# -- bug 1: beam search stopped once `width` candidates finished, whatever their scores --------
def test_beam_search_runs_live_beams_that_can_still_beat_the_finished_ones():
    def script(p, j, to_end):
        if not p.steps:  # root: two early (wrong) answers, two promising partial steps
            return ("The answer is \\boxed{1}", STOP_EOS) if j < 2 else (f"partial {j}", STOP_DELIMITER)
        return "The answer is \\boxed{7}", STOP_EOS

    prm = ScriptedPRM(lambda s: 0.1 if "{1}" in s else (0.9 if "{7}" in s else 0.95))
    policy = ScriptedPolicy(script)
    [r] = run([PROBLEM], search.beam_search(width=2, k=4), policy, prm, progress=False)
    assert r.answer == "7" and r.correct and len(policy.calls) == 2
    # Width 1 (what n=4 configures): the first finished candidate anywhere no longer ends it.
    policy = ScriptedPolicy(script)
    [r] = run([PROBLEM], search.beam_search(width=1, k=4), policy, prm, progress=False)
    assert r.answer == "7" and len(policy.calls) == 2


def test_beam_search_stops_when_no_live_beam_can_beat_a_finished_solution():
    def script(p, j, to_end):
        return ("The answer is \\boxed{7}", STOP_EOS) if j == 0 else (f"step {len(p.steps)}", STOP_DELIMITER)

    policy = ScriptedPolicy(script)
    prm = ScriptedPRM(lambda s: 0.9 if "{7}" in s else 0.5)  # min over a live beam can only fall below 0.5
    [r] = run([PROBLEM], search.beam_search(width=2, k=3, steps=StepSettings(max_steps=8)), policy, prm, progress=False)
    assert r.answer == "7" and len(policy.calls) == 1


# -- bug 3: MCTS rollouts left dead leaves below the depth cap ---------------------------------
def test_mcts_rollouts_respect_the_depth_cap_and_the_search_keeps_growing():
    def script(p, j, to_end):
        if to_end:  # a rollout cut by the token cap: many steps, no answer
            return "\n\n".join(f"r{len(p.steps)}.{i}" for i in range(6)), STOP_LENGTH
        return f"s{len(p.steps)}.{j}", STOP_DELIMITER

    policy = ScriptedPolicy(script)
    prm = ScriptedPRM(lambda s: 0.5 + 0.01 * (hash(s) % 40))
    [r] = run([PROBLEM], search.mcts(simulations=40, parallel=1, k=2, steps=StepSettings(max_steps=3)), policy, prm, progress=False)
    tree = r.tree
    for node in range(len(tree)):
        assert tree.depth(node) <= 3
        if tree.depth(node) == 3:
            assert tree.is_terminal(node)  # can never be expanded, so it must not wait for it
    assert len(policy.calls) > 10  # the old code made 2 policy calls: 39 of 40 simulations idle
    assert r.extra["finished"] == 0  # nothing finished: a depth-capped leaf is no solution


# -- bug 4: per-problem and total budgets together ----------------------------------------------
def test_per_problem_allowance_is_not_cut_by_other_problems_reservations():
    policy = ScriptedPolicy(lambda p, j, to_end: ("The answer is \\boxed{7}", STOP_EOS))
    problems = [PROBLEM, Problem("p1", "Start with 2. Add 5. What is the result?", "7")]
    for budget in (Budget(per_problem=100, total=10_000), Budget(per_problem=100)):
        results = run(problems, search.majority_vote(4, steps=StepSettings(max_solution_tokens=256)), policy,
                      budget=budget, progress=False)
        assert [r.spend.policy_generated for r in results] == [100, 100]
        assert all(r.answer == "7" for r in results)


def test_the_shared_total_is_still_split_within_a_round():
    policy = ScriptedPolicy(lambda p, j, to_end: ("The answer is \\boxed{7}", STOP_EOS))
    problems = [PROBLEM, Problem("p1", "Start with 2. Add 5. What is the result?", "7")]
    results = run(problems, search.majority_vote(4, steps=StepSettings(max_solution_tokens=256)), policy,
                  budget=Budget(per_problem=100, total=120), progress=False)
    assert [r.spend.policy_generated for r in results] == [100, 20]


# -- bug 5: the answer is the last box of the whole solution ------------------------------------
def test_the_answer_is_read_from_the_whole_solution():
    policy = ScriptedPolicy(lambda p, j, to_end: ("Adding 6 gives 7, so \\boxed{7}.\n\nI hope this helps.", STOP_EOS))
    [r] = run([PROBLEM], search.majority_vote(4), policy, progress=False)
    assert r.steps[-1] == "I hope this helps." and r.answer == "7" and r.correct


# -- bug 6: refine kept nothing when the budget ran out mid-turn ---------------------------------
def test_refine_keeps_its_best_solution_when_the_budget_runs_out():
    def script(p, j, to_end):
        return "Adding 6 to 1 gives 7.\n\nThe answer is \\boxed{7}", STOP_EOS

    prm = ScriptedPRM(lambda s: 0.2 if s.startswith("Adding") else 0.9)  # flags a right step: a rewrite follows
    policy = ScriptedPolicy(script)
    [r] = run([PROBLEM], search.refine(turns=3, steps=StepSettings(max_solution_tokens=256)), policy, prm,
              budget=Budget(per_problem=300), progress=False)
    assert r.error is None and r.answer == "7" and r.steps


# -- bug 8: Expand(k=0) gets one (empty) row per prefix --------------------------------------
def test_expand_with_no_candidates_gets_one_empty_row_per_prefix():
    got = []

    def strategy(problem):
        rows = yield Expand([Prefix(problem.problem), Prefix(problem.problem, ("a",))], 0)
        got.append(rows)
        return Outcome([])

    run([PROBLEM], strategy, ScriptedPolicy(lambda *a: ("x", STOP_EOS)), progress=False)
    assert got == [[[], []]]


# -- divergence 1: particle filtering weights as in the paper ------------------------------------
def test_particle_filter_weights_follow_the_paper():
    assert resampling_weights([0.95, 0.5, 0.2]) == pytest.approx([0.94, 0.05, 0.01], abs=0.005)
    assert resampling_weights([0.95, 0.5, 0.2], weighting="power") == pytest.approx([0.58, 0.30, 0.12], abs=0.005)
    # Certain rewards (0 and 1) have infinite logits: clipped, never NaN.
    w = resampling_weights([1.0, 0.0, 1.0])
    assert np.isfinite(w).all() and w.sum() == pytest.approx(1) and w[1] < 1e-9
    with pytest.raises(ValueError, match="weighting"):
        search.particle_filter(weighting="linear")


# -- divergence 2: the critic shows the policy its critique; the refined answer is the result ----
def test_refine_shows_the_policy_the_flagged_paragraph_and_the_analysis():
    prompts = []

    def script(p, j, to_end):
        prompts.append(p)
        if not p.feedback:
            return "Adding 6 to 1 gives 8.\n\nThe answer is \\boxed{8}", STOP_EOS
        return "Adding 6 to 1 gives 7.\n\nThe answer is \\boxed{7}", STOP_EOS

    prm = ScriptedPRM(lambda s: 0.05 if "8" in s else 0.9)
    [r] = run([PROBLEM], search.refine(turns=3), ScriptedPolicy(script), prm, progress=False)
    assert r.answer == "7" and r.extra["turns"] == 1
    [(solution, critique)] = prompts[1].feedback
    assert solution == "Adding 6 to 1 gives 8.\n\nThe answer is \\boxed{8}"
    assert critique.startswith("There might be some problem in this paragraph of your reasoning, please rethink")
    assert "Adding 6 to 1 gives 8." in critique and "check Adding 6 to 1 gives 8." in critique  # the PRM's analysis


def test_refine_returns_the_last_refinement_not_the_best_scored_turn():
    answers = iter(["3", "4", "5"])

    def script(p, j, to_end):
        return f"So it is {next(answers)}.\n\nThe answer is \\boxed{{{len(p.feedback)}}}", STOP_EOS

    prm = ScriptedPRM(lambda s: 0.4 if "{0}" in s else 0.1)  # the first solution scores best, every one is flagged
    [r] = run([PROBLEM], search.refine(turns=2), ScriptedPolicy(script), prm, progress=False)
    assert r.answer == "2" and r.extra["turns"] == 2
    # PRM-guided resampling, its own strategy now, keeps the best-scored turn instead.
    answers = iter(["3", "4", "5"])
    [r] = run([PROBLEM], search.prm_resample(turns=2), ScriptedPolicy(script), prm, progress=False)
    assert r.answer == "0"


def test_self_refine_sends_the_policy_back_to_its_least_confident_step_without_a_verifier():
    """The baseline of GenPRM's critic experiment: no PRM call at all; the flagged step is the one
    written with the lowest mean token log-prob; every turn rewrites (nothing says stop)."""
    prompts = []

    class Unsure(ScriptedPolicy):
        def generate(self, prefixes, n, sampling, delimiter="\n\n", stop_at_step=True):
            out = super().generate(prefixes, n, sampling, delimiter, stop_at_step)
            for p, row in zip(prefixes, out, strict=True):
                for c in row:  # the second step is the one the policy is least sure of
                    c.logprobs = [-2.0 if len(p.steps) == 1 else -0.1] * 3
            return out

    def script(p, j, to_end):
        prompts.append(p)
        assert not to_end  # written step by step, so each step has its own log-probs
        turn = len(p.feedback)
        return [f"Start from {turn}.", f"Then {turn + 6}.", f"The answer is \\boxed{{{turn + 6}}}"][len(p.steps)], \
            STOP_DELIMITER if len(p.steps) < 2 else STOP_EOS

    prm = ScriptedPRM(lambda s: 0.5)
    [r] = run([PROBLEM], search.self_refine(turns=2), Unsure(script), prm, progress=False)
    assert not prm.seen  # no verifier
    assert r.extra["turns"] == 2 and [t["step"] for t in r.extra["picked"]] == [1, 1]
    assert r.answer == "8" and r.steps == ["Start from 2.", "Then 8.", "The answer is \\boxed{8}"]
    solution, critique = prompts[-1].feedback[0]
    assert solution == "Start from 0.\n\nThen 6.\n\nThe answer is \\boxed{6}"
    assert critique == "There might be some problem in this paragraph of your reasoning, please rethink and refine your answer:\nThen 6."


def test_a_format_without_a_feedback_slot_refuses_feedback(tmp_path):
    from tts.policy import render_prompt

    custom = tmp_path / "plain.jinja"
    custom.write_text("{{ problem }}{% for s in steps %}|{{ s }}{% endfor %}")
    assert render_prompt(str(custom), "Q", ["a"]) == "Q|a"
    with pytest.raises(ValueError, match="no feedback slot"):
        render_prompt(str(custom), "Q", [], feedback=(("old", "critique"),))
    chat = render_prompt("qwen_math_chat", "Q", [], feedback=(("old solution", "critique"),))
    assert chat.endswith("<|im_start|>assistant\nold solution<|im_end|>\n<|im_start|>user\ncritique<|im_end|>\n"
                         "<|im_start|>assistant\n")


# -- issue "Search tree": rollout children get log-prob priors; a node's priors sum to 1 -------
def test_mcts_priors_sum_to_one_after_widening_and_rollouts():
    def script(p, j, to_end):
        if to_end:
            return f"r{len(p.steps)}\n\nThe answer is \\boxed{{{len(p.steps)}}}", STOP_EOS
        return f"s{len(p.steps)}.{j}", STOP_DELIMITER

    prm = ScriptedPRM(lambda s: 0.3 + 0.01 * (sum(map(ord, s)) % 50))
    [r] = run([PROBLEM], search.mcts(simulations=24, parallel=2, k=2, steps=StepSettings(max_steps=4)), ScriptedPolicy(script), prm,
              progress=False)
    tree = r.tree
    widened = 0
    for node in range(len(tree)):
        kids = tree.children(node)
        if kids.size:
            assert tree.arrays.prior[kids].sum() == pytest.approx(1.0)
            widened += kids.size > 2
    assert widened  # some node holds a rollout child beside its expansion children
