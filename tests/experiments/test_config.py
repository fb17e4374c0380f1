"""Every config in conf/ composes; bad keys and bad choices fail with Hydra's error and the fix."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hydra.utils import instantiate

import search
from tts import Budget
from tts.experiments.grid import ConfigError, compose_cells, compose_config, conf_dir
from tts.experiments.runner import build_strategy, plain

GROUPS = ("policy", "prm", "strategy", "dataset", "budget", "experiment")


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))


@pytest.mark.parametrize(("group", "option"), [(g, o) for g in GROUPS for o in options(g)])
def test_every_config_composes(group, option):
    overrides = [f"{group}={option}"]
    if group == "dataset" and option == "jsonl":
        overrides.append("dataset.path=x.jsonl")
    cfg = compose_config(overrides)
    config = plain(cfg)  # resolves every interpolation; a missing mandatory value raises here
    assert set(GROUPS[:-1]) <= set(config)
    if group == "strategy":
        assert callable(build_strategy(config["strategy"]))
        assert config["strategy"]["name"] == option
    if group == "budget":
        assert isinstance(instantiate(config["budget"]), Budget)


def test_every_strategy_of_search_has_a_schema_and_a_config():
    targets = {plain(compose_config([f"strategy={o}"]))["strategy"]["_target_"].rsplit(".", 1)[1]
               for o in options("strategy")}
    assert set(search.__all__) <= targets


def test_experiment_grid_expands_and_cli_sweeps_replace_an_axis():
    _, cells = compose_cells(["experiment=smoke"])
    assert [c.overrides for c in cells] == [
        ["strategy=majority", "budget.per_problem=64"], ["strategy=majority", "budget.per_problem=128"],
        ["strategy=beam", "budget.per_problem=64"], ["strategy=beam", "budget.per_problem=128"]]
    _, cells = compose_cells(["experiment=smoke", "budget.per_problem=32,48,96", "prm.samples=1,2"])
    assert len(cells) == 2 * 3 * 2
    assert {c.config.budget.per_problem for c in cells} == {32, 48, 96}
    assert {c.config.prm.samples for c in cells} == {1, 2}
    _, cells = compose_cells(["experiment=smoke", "strategy=mcts", "strategy.k=2"])  # a fixed value pins the axis
    assert [c.config.strategy.name for c in cells] == ["mcts", "mcts"]
    assert all(c.config.strategy.k == 2 for c in cells)


def test_a_list_of_grids_runs_each_and_the_main_job_pools_its_sampling_strategies():
    _, cells = compose_cells(["experiment=main"])
    assert [c.overrides for c in cells] == [
        ["strategy=pool", "n=16"], ["strategy=beam", "n=4"], ["strategy=beam", "n=16"],
        ["strategy=particle_filter", "n=4"], ["strategy=particle_filter", "n=16"]]
    assert cells[0].config.dataset.limit == 20
    # A command-line sweep replaces the axis in every sub-grid; cells they share run once.
    _, cells = compose_cells(["experiment=main", "n=8,16"])
    assert len(cells) == 3 * 2
    _, cells = compose_cells(["experiment=main", "n=16", "strategy=pool"])
    assert [c.overrides for c in cells] == [[]]


def test_unknown_key_names_the_valid_keys():
    with pytest.raises(ConfigError) as e:
        compose_config(["strategy=beam", "strategy.widht=8"])
    message = str(e.value)
    assert "Could not override 'strategy.widht'" in message  # Hydra's own words
    assert "Valid keys under 'strategy'" in message and "width" in message and "lookahead" in message
    with pytest.raises(ConfigError, match="Valid keys: policy, prm, strategy"):
        compose_config(["budgt.per_problem=3"])


def test_unknown_choice_lists_the_options():
    with pytest.raises(ConfigError) as e:
        compose_config(["strategy=bem"])
    assert "Could not find 'strategy/bem'" in str(e.value)
    assert "beam" in str(e.value) and "mcts" in str(e.value)
    assert "schema" not in str(e.value).split("Available options")[1].split("Config search path")[0]


def test_cli_reports_bad_input_in_one_line(tmp_path):
    def tts(*args):
        return subprocess.run([sys.executable, "-m", "tts.cli", *args], capture_output=True, text=True, cwd=tmp_path)

    bad_key = tts("run", "strategy.widht=8")
    assert bad_key.returncode == 2 and "width" in bad_key.stderr and "Traceback" not in bad_key.stderr
    missing = tmp_path / "nope.jsonl"
    no_file = tts("run", "dataset=math500", f"dataset.path={missing}", f"results={tmp_path}/r.jsonl")
    assert no_file.returncode == 2 and str(missing) in no_file.stderr and "Traceback" not in no_file.stderr
    hub = tts("run", "dataset=gsm8k", f"results={tmp_path}/r.jsonl")
    assert hub.returncode == 2 and "dataset.path" in hub.stderr


class Recording:
    """The real engine, with every generate call's arguments kept (what the engine receives)."""

    def __init__(self, inner):
        self.inner, self.model, self.name, self.calls = inner, inner.model, inner.name, []

    def generate(self, prefixes, n, sampling, delimiter="\n\n", stop_at_step=True):
        self.calls.append((sampling, delimiter, stop_at_step))
        return self.inner.generate(prefixes, n, sampling, delimiter=delimiter, stop_at_step=stop_at_step)


def test_step_keys_reach_the_engine(hf_policy, hf_genprm_engine, sandbox):
    from tts import search as run
    from tts.prm import GenerativePRM
    from tts.tasks.splits import testbed_split

    config = plain(compose_config(["strategy=beam", "steps.temperature=0.6", "steps.top_p=0.9", "steps.top_k=20",
                                   "steps.max_step_tokens=40", "steps.max_steps=3", "strategy.lookahead=1"]))
    assert config["steps"]["max_step_tokens"] == 40  # `tts run --cfg` prints this config
    policy = Recording(hf_policy)
    [r] = run(testbed_split("dev", limit=1), build_strategy(config["strategy"], config["steps"]), policy,
              GenerativePRM(hf_genprm_engine, sandbox=sandbox), progress=False)
    assert r.error is None and len(policy.calls) <= 2 * 3  # 3 steps, each with one lookahead call
    sampled = [s for s, _, _ in policy.calls if s.temperature > 0]
    assert sampled and all((s.temperature, s.top_p, s.top_k, s.max_tokens) == (0.6, 0.9, 20, 40) for s in sampled)
    greedy = [s for s, _, _ in policy.calls if s.temperature == 0]
    assert all(s.max_tokens == 40 for s in greedy)  # lookahead: greedy, same step cap


def test_solution_keys_and_delimiter_reach_the_engine(hf_policy):
    from tts import search as run
    from tts.tasks.splits import testbed_split

    config = plain(compose_config(["strategy=majority", "n=2", "steps.max_solution_tokens=99",
                                   "steps.delimiter=\\n"]))
    policy = Recording(hf_policy)
    run(testbed_split("dev", limit=1), build_strategy(config["strategy"], config["steps"]), policy, progress=False)
    [(sampling, delimiter, stop_at_step)] = policy.calls
    assert sampling.max_tokens == 99 and delimiter == "\n" and not stop_at_step


def test_engine_keys_reach_the_engine_and_bad_ones_are_named():
    from tts.experiments.runner import make

    config = plain(compose_config(["policy.max_model_len=300", "policy.dtype=bfloat16",
                                   "prm.max_model_len=400", "prm.sampling.temperature=0.7", "prm.samples=2"]))
    policy = make(config["policy"])
    assert policy.max_model_len == 300 and str(policy.model.dtype) == "torch.bfloat16"
    prm = make(config["prm"])
    assert prm.engine.max_model_len == 400 and prm.sampling.temperature == 0.7 and prm.samples == 2
    prm.close()
    with pytest.raises(ValueError, match="vLLM engine keys"):
        make(plain(compose_config(["policy.backend=hf", "policy.tensor_parallel_size=2"]))["policy"])
    with pytest.raises(ValueError, match="given twice"):
        make(plain(compose_config(["policy.max_model_len=300", "+policy.engine_kwargs.max_model_len=200"]))["policy"])
    with pytest.raises(ConfigError, match="Could not override 'steps.temprature'"):
        compose_config(["steps.temprature=0.5"])
