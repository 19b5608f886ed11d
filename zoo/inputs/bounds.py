"""The values a number may hold, checked by one piece of code wherever numbers come in: a data
file's cells (`zoo.datamodules.tables`) and a person's inputs to a model (`zoo.inputs.Numbers`),
so a model is never asked about a value its data reader would have refused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Allowed:
    """The values a column may hold: low..high, whole numbers only when `whole`; `meaning` says
    why, in the words of the dataset ("the label is 0 or 1")."""

    low: float
    high: float
    meaning: str
    whole: bool = False

    @property
    def span(self) -> str:
        return f"{self.low:g}..{self.high:g}"


FLOAT32 = Allowed(-FLOAT32_MAX, FLOAT32_MAX, "the float32 range models compute in")
"""Any number a model can take in: the bound of inputs whose data says nothing narrower."""
SCALED_FEATURE = Allowed(-1.0, 1.0, "the features are scaled to [-1, 1]")
"""A feature scaled into [-1, 1], as the diabetes data's are: what a model of it was trained on."""


def first_bad_cell(values: np.ndarray, columns: Sequence[Allowed]) -> tuple[int, int] | None:
    """(row, column) of the first cell that is NaN (empty), infinite, out of range or not whole."""
    low = np.array([c.low for c in columns], dtype=np.float64)
    high = np.array([c.high for c in columns], dtype=np.float64)
    whole = np.array([c.whole for c in columns])
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < low) | (values > high) | (whole & (values != np.floor(values)))
    found = np.argwhere(bad)
    return (int(found[0][0]), int(found[0][1])) if len(found) else None


def problem(text: str, allowed: Allowed) -> str:
    """What is wrong with a cell `first_bad_cell` found, from its text, and what its column holds."""
    if not text:
        return f"the cell is empty ({allowed.meaning}, {allowed.span})"
    try:
        value = float(text)
    except ValueError:
        return f"{text!r} is not a number ({allowed.meaning}, {allowed.span})"
    if not np.isfinite(value):
        return f"{text!r} is not a finite number ({allowed.meaning}, {allowed.span})"
    if not allowed.low <= value <= allowed.high:
        return f"{text} is outside {allowed.span} ({allowed.meaning})"
    return f"{text} is not a whole number ({allowed.meaning}, {allowed.span})"
