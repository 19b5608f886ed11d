"""CSV files of numbers, checked cell by cell before they become tensors: an empty, non-numeric,
non-finite or out-of-range cell is refused naming the file, its line and column."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.errors import ZooError


@dataclass(frozen=True)
class Allowed:
    """The values a column may hold: low..high, whole numbers only when `whole`; `meaning` says
    why, in the words of the dataset ("the label is 0 or 1")."""

    low: float
    high: float
    meaning: str
    whole: bool = False


def read_numbers(path: Path, columns: Sequence[Allowed], header: bool, fix: str) -> np.ndarray:
    """The table as float32 (rows, len(columns)), every cell checked against its column's
    `Allowed`; `fix` ends each refusal (e.g. "replace it with the original diabetes.csv.gz")."""
    try:
        values = pd.read_csv(path, header=0 if header else None, dtype=np.float32).to_numpy()
    except ValueError:  # a cell that is no number: find it for the message
        values = None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ZooError(f"cannot read {path} as a comma-separated table of numbers ({err}); {fix}") from err
    if values is not None and values.shape[1] != len(columns):
        raise ZooError(f"{path} has {values.shape[1]} columns, expected {len(columns)}; {fix}")
    bad = first_bad_cell(values, columns) if values is not None else first_text_cell(path, header)
    if bad is not None:
        row, column = bad
        line = row + 1 + int(header)
        text = cell_text(path, line, column)
        raise ZooError(f"{path} line {line}, column {column + 1}: {problem(text, columns[column])}; {fix}")
    assert values is not None
    return values


def first_bad_cell(values: np.ndarray, columns: Sequence[Allowed]) -> tuple[int, int] | None:
    """(row, column) of the first cell that is NaN (empty), infinite, out of range or not whole."""
    low = np.array([c.low for c in columns], dtype=np.float64)
    high = np.array([c.high for c in columns], dtype=np.float64)
    whole = np.array([c.whole for c in columns])
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < low) | (values > high) | (whole & (values != np.floor(values)))
    found = np.argwhere(bad)
    return (int(found[0][0]), int(found[0][1])) if len(found) else None


def first_text_cell(path: Path, header: bool, chunk: int = 10_000) -> tuple[int, int] | None:
    """(row, column) of the first non-empty cell that is not a number, read in chunks as text."""
    start = 0
    for part in pd.read_csv(path, header=0 if header else None, dtype=str, keep_default_na=False, chunksize=chunk):
        text = part.to_numpy(dtype=str)
        numbers = pd.to_numeric(pd.Series(text.ravel()), errors="coerce").to_numpy().reshape(text.shape)
        found = np.argwhere(np.isnan(numbers) & (np.char.strip(text).astype(bool)))
        if len(found):
            return start + int(found[0][0]), int(found[0][1])
        start += len(text)
    return None


def cell_text(path: Path, line: int, column: int) -> str:
    """The cell's text as the file writes it (line counted from 1)."""
    row = pd.read_csv(path, header=None, skiprows=line - 1, nrows=1, dtype=str, keep_default_na=False)
    return str(row.iloc[0, column]).strip() if column < row.shape[1] else ""


def problem(text: str, allowed: Allowed) -> str:
    """What is wrong with a cell, and what its column holds."""
    span = f"{allowed.low:g}..{allowed.high:g}"
    if not text:
        return f"the cell is empty ({allowed.meaning}, {span})"
    try:
        value = float(text)
    except ValueError:
        return f"{text!r} is not a number ({allowed.meaning}, {span})"
    if not np.isfinite(value):
        return f"{text!r} is not a finite number ({allowed.meaning}, {span})"
    if not allowed.low <= value <= allowed.high:
        return f"{text} is outside {span} ({allowed.meaning})"
    return f"{text} is not a whole number ({allowed.meaning}, {span})"
