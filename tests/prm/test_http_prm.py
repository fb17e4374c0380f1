"""A generative PRM behind an OpenAI-compatible server: every stage (analysis, code rounds,
judgement) over /v1/completions, the Yes/No probability read from the server's top log-probs by
token id; the same rewards (T=0) as the offline vLLM engine on the same checkpoint. And a whole
search with the policy on one server and the GenPRM on another."""

from __future__ import annotations

import pytest

import search
from tts import Budget, Prefix, search as run
from tts.evaluation.testbed_set import testbed_processbench
from tts.prm import GenerativePRM, load_prm
from tts.tasks.splits import testbed_split

pytestmark = pytest.mark.slow


def test_genprm_over_http_scores_as_the_offline_engine(genprm_server, vllm_genprm_engine, sandbox):
    samples = testbed_processbench(6)
    prefixes = [Prefix(s.problem, tuple(s.steps)) for s in samples]
    served = load_prm("genprm", backend="http", base_url=genprm_server, sandbox=sandbox)
    offline = GenerativePRM(vllm_genprm_engine, sandbox=sandbox)
    over_http = served.score(prefixes)
    local = offline.score(prefixes)
    assert [s.rewards for s in over_http] == [s.rewards for s in local]
    assert [s.verifications for s in over_http] == [s.verifications for s in local]
    assert sum(s.generated_tokens for s in over_http) == sum(s.generated_tokens for s in local) > 0
    assert any(r < 0.5 for s in over_http for r in s.rewards) and any(r > 0.5 for s in over_http for r in s.rewards)


def test_thinkprm_over_http(genprm_server, sandbox):
    prm = load_prm("thinkprm", backend="http", base_url=genprm_server)
    [score] = prm.score([Prefix("Start with 3. Add 4. What is the result?", ("3 + 4 = 7", "The answer is \\boxed{7}"))])
    assert len(score.rewards) == 2 and all(0 <= r <= 1 for r in score.rewards)


def test_a_search_with_policy_and_genprm_on_two_servers(http_policy, genprm_server, vllm_policy, vllm_genprm_engine,
                                                        sandbox):
    from tts import StepSettings

    problems = testbed_split("dev", limit=3)
    greedy = StepSettings(temperature=0.0)
    outcomes = []
    for policy, prm in ((http_policy, load_prm("genprm", backend="http", base_url=genprm_server, sandbox=sandbox)),
                        (vllm_policy, GenerativePRM(vllm_genprm_engine, sandbox=sandbox))):
        policy.restart()
        results = run(problems, search.beam_search(width=2, k=2, steps=greedy), policy, prm,
                      budget=Budget(per_problem=256), progress=False)
        assert all(r.error is None for r in results), [r.error for r in results]
        outcomes.append([(r.answer, r.steps, r.score) for r in results])
    assert outcomes[0] == outcomes[1]
