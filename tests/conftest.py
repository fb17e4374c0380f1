import os

from hypothesis import settings

# Numba compiles on first call, so the first example of a property test can be slow; time is not
# what these tests check. CI runs more examples than the local loop.
settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")


import pytest


@pytest.fixture(scope="session")
def hf_policy():
    from tts.policy import load_policy

    return load_policy("hf", "tiny-policy", seed=0)


@pytest.fixture(scope="session")
def vllm_policy():
    from tts.policy import load_policy
    from tts.policy.vllm_offline import release_engines

    yield load_policy("vllm", "tiny-policy", seed=0, max_model_len=1024)
    release_engines()


@pytest.fixture(scope="session")
def policy_server():
    from tts.policy import shipped_model
    from tts.policy.server import vllm_server

    with vllm_server(shipped_model("tiny-policy"), "tiny-policy") as url:
        yield url


@pytest.fixture(scope="session")
def genprm_server():
    """The shipped GenPRM behind its own OpenAI server, as a 7B verifier is served beside a policy."""
    from tts.policy import shipped_model
    from tts.policy.server import vllm_server

    with vllm_server(shipped_model("tiny-genprm"), "tiny-genprm", max_model_len=4096) as url:
        yield url


@pytest.fixture(scope="session")
def http_policy(policy_server):
    from tts.policy import load_policy

    return load_policy("http", "tiny-policy", base_url=policy_server, seed=0)


@pytest.fixture(params=["hf", pytest.param("vllm", marks=pytest.mark.slow), pytest.param("http", marks=pytest.mark.slow)])
def policy(request):
    """Each backend in turn: the same tests run against all three."""
    return request.getfixturevalue(f"{request.param}_policy")


@pytest.fixture(scope="session")
def sandbox():
    from tts.sandbox import SandboxPool

    with SandboxPool(workers=2) as pool:
        yield pool


@pytest.fixture(scope="session")
def hf_genprm_engine():
    from tts.policy import load_policy

    return load_policy("hf", "tiny-genprm", seed=0)


@pytest.fixture(scope="session")
def vllm_genprm_engine():
    from tts.policy import load_policy
    from tts.policy.vllm_offline import release_engines

    yield load_policy("vllm", "tiny-genprm", seed=0, max_model_len=4096)
    release_engines()  # at teardown, while pytest's log capture is still open


@pytest.fixture(params=["hf", pytest.param("vllm", marks=pytest.mark.slow)])
def genprm_engine(request):
    """The shipped generative PRM's weights on each engine in turn."""
    return request.getfixturevalue(f"{request.param}_genprm_engine")
