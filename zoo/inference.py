"""Deprecated: what `zoo.inference` held now lives in modules of one job each. Its names keep
working for now and warn, pointing to their new home (as timm keeps renamed names).

Reading raw inputs is the model card's `inputs` (`zoo.inputs`); answering them is the task's
`answer`; rows and tables are `zoo.answers`; output files `zoo.files`; loading
`zoo.checkpoints`; export `zoo.export`.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Sequence
from typing import Any

from zoo.text import HELLO_INPUT

MOVED = {
    "Row": "zoo.answers",
    "format_table": "zoo.answers",
    "rows_frame": "zoo.answers",
    "row_record": "zoo.answers",
    "write_csv": "zoo.answers",
    "output_path": "zoo.files",
    "replaced_file": "zoo.files",
    "PRECIOUS_FILES": "zoo.files",
    "load_model": "zoo.checkpoints",
    "load_checkpoint": "zoo.checkpoints",
    "export": "zoo.export",
    "EXPORT_FORMATS": "zoo.export",
    "parse_numbers": "zoo.inputs",
}


def deprecated(old: str, new: str) -> None:
    warnings.warn(f"zoo.inference.{old} is deprecated; use {new}", DeprecationWarning, stacklevel=3)


def __getattr__(name: str) -> Any:
    if name in MOVED:
        deprecated(name, f"{MOVED[name]}.{name}")
        return getattr(importlib.import_module(MOVED[name]), name)
    raise AttributeError(f"module 'zoo.inference' has no attribute {name!r}")


def predict(model: Any, inputs: Sequence[Any], k: int = 3, length: int = 200, temperature: float = 0.8,
            seed: int | None = None) -> Any:
    deprecated("predict", "model.answer(inputs, k=...)")
    return model.answer(inputs, k=k, length=length, temperature=temperature, seed=seed)


def top_countries(model: Any, names: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
    deprecated("top_countries", "[row.top for row in model.answer(names, k=...)]")
    return [row.top for row in model.answer(names, k=k)]


def transduce(model: Any, text: str = HELLO_INPUT) -> str:
    deprecated("transduce", "model.answer([text])[0].prediction")
    return str(model.answer([text])[0].prediction)
