"""zoo: the classic PyTorch tutorial models as a tested Lightning model zoo.

Names resolve lazily so that `zoo list` and `zoo --help` start without importing Lightning.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Recipe",
    "ZooError",
    "build",
    "build_datamodule",
    "default_datamodule",
    "list_datamodules",
    "list_models",
    "load_checkpoint",
    "model_card",
    "register_datamodule",
    "register_model",
]


def __getattr__(name: str) -> Any:
    if name == "Recipe":
        from zoo.recipes import Recipe

        return Recipe
    if name == "ZooError":
        from zoo.errors import ZooError

        return ZooError
    if name in __all__:
        from zoo import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
