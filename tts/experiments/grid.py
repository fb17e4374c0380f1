"""Compose the configs of a run: one per cell of the grid (experiment ``grid`` x command-line sweeps).

``tts run strategy=beam,mcts budget.per_problem=256,1024`` sweeps like Hydra's ``--multirun``
(comma lists), but every cell runs in this process with engines loaded once; an experiment file
gives its default axes in ``grid``, and a command-line sweep of the same key replaces that axis.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from dataclasses import dataclass
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf

from tts.experiments.config import register_configs


class ConfigError(ValueError):
    """A config that does not compose: Hydra's message plus the keys that would have been valid."""


def conf_dir() -> Path:
    """``conf/`` of this checkout, or ``$TTS_CONF_DIR``."""
    path = Path(os.environ.get("TTS_CONF_DIR") or Path(__file__).resolve().parents[2] / "conf")
    if not (path / "config.yaml").is_file():
        raise FileNotFoundError(f"no Hydra config at {path}/config.yaml: run from a checkout of tts (pip install -e .) "
                                "or set TTS_CONF_DIR to its conf/ directory")
    return path


@dataclass
class Cell:
    overrides: list[str]  # this cell's grid values, e.g. ["strategy=beam", "budget.per_problem=256"]
    config: DictConfig


@contextlib.contextmanager
def _hydra():
    """Hydra initialised on ``conf/`` (once for all the compositions of a run)."""
    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(conf_dir()), version_base="1.3"):
        yield


def _compose(overrides: list[str]) -> DictConfig:
    """Compose inside ``_hydra()``; bad keys raise ``ConfigError`` listing the valid ones."""
    try:
        return compose("config", overrides=list(overrides))
    except ConfigCompositionException as e:
        raise ConfigError(_explain(e, overrides)) from e


def compose_config(overrides: list[str]) -> DictConfig:
    """One composed config; bad keys raise ``ConfigError`` listing the valid ones."""
    with _hydra():
        return _compose(overrides)


def compose_cells(overrides: list[str]) -> tuple[DictConfig, list[Cell]]:
    """The base config (no grid values) and one composed config per grid cell."""
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    sweeps = {o.get_key_element(): list(o.sweep_string_iterator()) for o in parsed if o.is_sweep_override()}
    with _hydra():
        base = _compose(fixed)
        grids = base.grid if OmegaConf.is_list(base.grid) else [base.grid or {}]
        cells, seen = [], set()
        for grid in grids:
            axes: dict[str, list[str]] = {}
            for key, values in (grid or {}).items():
                values = OmegaConf.to_container(values) if OmegaConf.is_list(values) else str(values).split(",")
                axes[str(key)] = [_literal(v) for v in values]
            for key, values in sweeps.items():
                axes[key.lstrip("+~")] = values
            # A fixed command-line value of an axis key pins that axis.
            for o in parsed:
                if not o.is_sweep_override() and o.get_key_element() in axes:
                    del axes[o.get_key_element()]
            for combo in itertools.product(*axes.values()):
                cell = [f"{k}={v}" for k, v in zip(axes, combo, strict=True)]
                if tuple(sorted(cell)) not in seen:  # sub-grids may overlap once the command line pins axes
                    seen.add(tuple(sorted(cell)))
                    cells.append(Cell(cell, _compose(fixed + cell)))
    return base, cells


def _literal(value) -> str:
    return "null" if value is None else str(value)


def _explain(error: Exception, overrides: list[str]) -> str:
    """Hydra's message, plus the valid keys at the level where a key was not found."""
    message = str(error)
    cause = error.__cause__
    full_key = getattr(cause, "full_key", None) or ""
    if "not in struct" in message or "Could not override" in message:
        parent = full_key.rsplit(".", 1)[0] if "." in full_key else ""
        good = [o for o in overrides if not o.lstrip("+~").startswith(full_key or "\0")]
        message += f"\n{str(cause).splitlines()[0]}" if cause is not None else ""
        try:
            cfg = compose("config", overrides=good)  # inside compose_config's Hydra context
            node = OmegaConf.select(cfg, parent) if parent else cfg
            if isinstance(node, DictConfig):
                keys = ", ".join(str(k) for k in node.keys())
                message += f"\nValid keys{f' under {parent!r}' if parent else ''}: {keys}"
        except Exception:  # noqa: BLE001  (the hint is best effort; Hydra's own message stands)
            pass
    return message
