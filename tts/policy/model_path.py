"""Resolve a model argument: a shipped testbed model's name, a local checkpoint, or a hub id."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

MODELS_DIR = Path(str(resources.files("tts") / "assets" / "models"))
SHIPPED = {"tiny-policy": "policy", "tiny-genprm": "genprm", "tiny-dprm": "dprm"}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def shipped_model(name: str) -> Path:
    return MODELS_DIR / SHIPPED[name]


def resolve_model_path(model: str | Path) -> str:
    """The path (or hub id) to load. A shipped name maps into the package; a local path must
    exist; ``org/name`` that is not a local folder is passed on as a hub id (it needs a hub)."""
    text = str(model)
    if text in SHIPPED:
        path = shipped_model(text)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"shipped model {text!r} is missing at {path}; reinstall tts or retrain it with "
                "`tts train policy --out " + str(path) + "`")
        return str(path)
    path = Path(text).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} is not a Hugging Face checkpoint (no config.json)")
        return str(path)
    if _HUB_ID.match(text) and not text.startswith((".", "/", "~")):
        return text
    raise FileNotFoundError(
        f"model path not found: {text}; pass a local Hugging Face checkpoint folder, a shipped "
        f"model ({', '.join(SHIPPED)}), or a hub id where a hub is reachable")
