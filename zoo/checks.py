"""Checks of the values every entry point takes (names, paths, numbers, seeds), written once, so
the command line, a config file and the Python API refuse a wrong value with the same line."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from zoo.errors import ZooError

SEED_MAX = 2**32 - 1
"""Seeds are 0..2**32 - 1: what Lightning's seed_everything (through numpy) accepts."""


def type_name(value: object) -> str:
    return "None" if value is None else f"{value!r} ({type(value).__name__})"


def text(value: Any, what: str, fix: str) -> str:
    """`value` when it is a str; else a ZooError naming `what` and the fix."""
    if not isinstance(value, str):
        raise ZooError(f"{what} must be a string, got {type_name(value)}; {fix}")
    return value


def path(value: Any, what: str) -> Path:
    """`value` as a Path when it is a str or a path; else a ZooError naming `what`."""
    if not isinstance(value, (str, os.PathLike)):
        raise ZooError(f"{what} must be a file path (str or pathlib.Path), got {type_name(value)}; pass its path")
    return Path(value)


def whole(value: Any, what: str, low: int, high: float = math.inf) -> int:
    """`value` when it is an int (not a bool) in low..high; else a ZooError saying the range."""
    top = "" if high == math.inf else f"..{int(high):,}"
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ZooError(f"{what} must be a whole number {low:,}{top or ' or more'}, got {type_name(value)}; "
                       f"pass one in that range")
    return value


def number(value: Any, what: str, low: float = -math.inf, high: float = math.inf, example: str = "") -> float:
    """`value` when it is a finite int or float (not a bool) in low..high (inclusive)."""
    real = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if real and low <= value <= high:
        return float(value)
    if math.isfinite(high):
        span = f"in {low:g}..{high:g}"
    else:
        span = f"{low:g} or more" if math.isfinite(low) else "that is finite"
    raise ZooError(f"{what} must be a number {span}, got {type_name(value)}; pass e.g. {example or 'one in range'}")


def seed(value: Any, what: str) -> int:
    """A seed: a whole number 0..2**32 - 1."""
    return whole(value, what, 0, SEED_MAX)


def mapping(value: Any, what: str) -> dict[str, Any]:
    """`value` as a dict when it is None or a mapping of names; else a ZooError."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ZooError(f"{what} must be a dict of argument names to values, got {type_name(value)}; "
                       "pass e.g. {'lr': 0.01}")
    return value


def is_plain(value: Any) -> bool:
    """A value a config file can write: str, int, float, bool, None, and lists and dicts of them."""
    if isinstance(value, (list, tuple)):
        return all(is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_plain(item) for key, item in value.items())
    return isinstance(value, (str, int, float, bool, type(None)))
