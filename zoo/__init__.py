"""zoo: the classic PyTorch tutorial models as a tested Lightning model zoo.

Names resolve lazily so that `zoo list` and `zoo --help` start without importing Lightning.
"""

from __future__ import annotations

import importlib
from typing import Any

PUBLIC: dict[str, str] = {
    "Recipe": "zoo.recipes",
    "ZooError": "zoo.errors",
    "build": "zoo.building",
    "build_net": "zoo.building",
    "build_datamodule": "zoo.building",
    "default_datamodule": "zoo.building",
    "list_datamodules": "zoo.registry",
    "list_models": "zoo.registry",
    "model_card": "zoo.registry",
    "register_datamodule": "zoo.registry",
    "register_model": "zoo.registry",
    "load_checkpoint": "zoo.checkpoints",
}
__all__ = sorted(PUBLIC)


def __getattr__(name: str) -> Any:
    if name in PUBLIC:
        return getattr(importlib.import_module(PUBLIC[name]), name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
