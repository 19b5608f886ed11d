"""CSV files of numbers, checked cell by cell before they become tensors: an empty, non-numeric,
non-finite or out-of-range cell is refused naming the file, its line and column. The bounds and
their check are `zoo.inputs.bounds`', which a model's number inputs pass too."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.errors import ZooError
from zoo.inputs.bounds import Allowed, first_bad_cell, problem


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
