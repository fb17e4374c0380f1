"""Config schemas for the Hydra entry points, registered in Hydra's ConfigStore.

The YAML files in ``conf/`` extend these schemas (``defaults: [schema]``), so a typo in a file or
on the command line fails at composition with Hydra's own error. Strategy schemas are built from
the factories' signatures in ``search/``: a new strategy gets a checked config by existing.
Only the entry points (``tts run``, ``tts sweep``) see these configs; library code takes plain
arguments.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

import search
from tts.policy.steps import StepSettings


@dataclass
class PolicyConf:
    _target_: str = "tts.load_policy"
    backend: Optional[str] = None  # None: vllm where a GPU is, else hf
    model: str = "tiny-policy"
    seed: int = 0
    prompt_format: str = "qwen_math_chat"
    base_url: Optional[str] = None  # backend=http: the policy's OpenAI-compatible server
    # Engine keys (null: the engine's own default). The vLLM-only ones are refused by hf.
    dtype: Optional[str] = None  # float32 | bfloat16 | float16 | auto
    max_model_len: Optional[int] = None
    tensor_parallel_size: Optional[int] = None
    gpu_memory_utilization: Optional[float] = None  # null with a PRM on the same GPU: split from sizes
    enforce_eager: Optional[bool] = None
    engine_kwargs: dict[str, Any] = field(default_factory=dict)  # any other vLLM / HF engine argument


def _mutable_copy(name: str, frozen) -> type:
    """A config schema with a library dataclass's fields and defaults (one place defines them);
    Hydra needs it mutable to apply overrides."""
    hints = typing.get_type_hints(frozen)
    return dataclasses.make_dataclass(name, [(f.name, hints[f.name], field(default=f.default))
                                             for f in dataclasses.fields(frozen)])


StepsConf = _mutable_copy("StepsConf", StepSettings)


@dataclass
class PRMSamplingConf:
    """The verifier's sampling when ``samples`` > 1 (GenPRM's Maj@N: T=0.6, top-p 0.95, top-k 20);
    one verification is greedy."""

    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int = 20


@dataclass
class PRMConf:
    _target_: str = "tts.load_prm"
    kind: str = "genprm"  # genprm | genprm-nocode | thinkprm | dprm
    model: Optional[str] = None  # None: the shipped tiny model of that kind
    backend: Optional[str] = None
    samples: int = 1  # Maj@N verifications per step
    sampling: PRMSamplingConf = field(default_factory=PRMSamplingConf)
    base_url: Optional[str] = None  # backend=http: the verifier's OpenAI-compatible server
    # Engine keys of the verifier's engine, as for the policy.
    dtype: Optional[str] = None
    max_model_len: Optional[int] = None
    tensor_parallel_size: Optional[int] = None
    gpu_memory_utilization: Optional[float] = None
    enforce_eager: Optional[bool] = None
    engine_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class DatasetConf:
    _target_: str = "tts.experiments.datasets.load_dataset"
    name: str = "testbed"  # testbed | math500 | aime | gsm8k | processbench | jsonl
    split: str = "test"
    path: Optional[str] = None  # a local JSONL; None: the testbed, or the hub when reachable
    limit: Optional[int] = None


@dataclass
class BudgetConf:
    _target_: str = "tts.Budget"
    per_problem: Optional[int] = 1024  # generated policy tokens per problem
    total: Optional[int] = None  # shared by every problem of a config
    per_problem_compute: Optional[int] = None  # policy + PRM tokens computed per problem
    per_problem_flops: Optional[float] = None  # policy + PRM FLOPs per problem


@dataclass
class LauncherConf:
    kind: str = "local"  # local | ray
    workers: int = 2  # ray: actors, each holding its own engines
    address: Optional[str] = None  # ray: an existing cluster ("auto"); None: start a local one
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0


@dataclass
class RunConf:
    policy: PolicyConf = field(default_factory=PolicyConf)
    prm: PRMConf = field(default_factory=PRMConf)
    strategy: Any = None  # one of the strategy schemas, by the strategy group's choice
    # Sampling and step keys for every strategy (``tts.StepSettings``'s fields and defaults).
    steps: StepsConf = field(default_factory=StepsConf)  # type: ignore[valid-type]
    dataset: DatasetConf = field(default_factory=DatasetConf)
    budget: BudgetConf = field(default_factory=BudgetConf)
    name: str = "main"
    # The width every strategy scales with (samples, beams x candidates, particles, simulations):
    # the strategy configs read it through ${n}, so one axis sweeps compute for all of them.
    n: int = 16
    # Problems in flight at once per cell: new ones enter as others finish, so records stream and
    # memory follows the window; results do not depend on it. null: the whole cell at once.
    window: Optional[int] = 8
    results: str = "results/${name}/results.jsonl"
    # override key -> values, swept as a product; or a list of such grids, run one after another
    # (e.g. a sample pool at its largest N only, beside strategies swept over N)
    grid: Any = None
    resume: bool = False
    threads: int = 1  # torch threads per process
    progress: bool = True
    store_trees: bool = True
    plot: bool = True
    launcher: LauncherConf = field(default_factory=LauncherConf)


_PLAIN = (bool, int, float, str)


def _plain_type(hint) -> Any | None:
    """The annotation Hydra can check for a factory parameter, or None to leave it out."""
    if hint in _PLAIN:
        return hint
    args = typing.get_args(hint)
    if (typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args):
        inner = next(a for a in args if a is not type(None))
        return Optional[inner] if inner in _PLAIN else None
    return None


def strategy_schema(name: str, factory, target: str | None = None) -> type:
    """A dataclass with ``name``, ``_target_`` (default: the factory's import path) and the
    factory's plain parameters as fields."""
    hints = typing.get_type_hints(factory)
    target = target or f"{factory.__module__}.{factory.__name__}"
    fields: list[tuple] = [("name", str, field(default=name)), ("_target_", str, field(default=target))]
    for p in inspect.signature(factory).parameters.values():
        kind = _plain_type(hints.get(p.name))
        if kind is not None and p.default is not inspect.Parameter.empty:
            fields.append((p.name, kind, field(default=p.default)))
    return dataclasses.make_dataclass(f"{name.title().replace('_', '')}Conf", fields)


def register_resolvers() -> None:
    """``${tts.div:a,b}`` (floor division, at least 1), ``${tts.mul:a,b}`` and ``${tts.min:a,b}``,
    for deriving a strategy's widths from ``n``."""
    if not OmegaConf.has_resolver("tts.div"):
        OmegaConf.register_new_resolver("tts.div", lambda a, b: max(1, int(a) // int(b)))
    if not OmegaConf.has_resolver("tts.mul"):
        OmegaConf.register_new_resolver("tts.mul", lambda a, b: int(a) * int(b))
    if not OmegaConf.has_resolver("tts.min"):
        OmegaConf.register_new_resolver("tts.min", lambda a, b: min(int(a), int(b)))


def register_configs() -> None:
    register_resolvers()
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=RunConf)
    # Schemas live in their own groups so they do not show up as choices of policy/, strategy/...
    cs.store(group="schema/policy", name="base", node=PolicyConf)
    cs.store(group="schema/prm", name="base", node=PRMConf)
    cs.store(group="schema/dataset", name="base", node=DatasetConf)
    cs.store(group="schema/budget", name="base", node=BudgetConf)
    for name in search.__all__:
        # The package-level name: search.best_of_n is the function, which shadows its module.
        cs.store(group="schema/strategy", name=name,
                 node=strategy_schema(name, getattr(search, name), target=f"search.{name}"))
