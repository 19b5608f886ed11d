"""CSV files of numbers, checked cell by cell before they become tensors: an empty, non-numeric,
non-finite or out-of-range cell is refused naming the file, its line and column. The bounds and
their check are `zoo.inputs.bounds`', which a model's number inputs pass too."""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from zoo.errors import ZooError
from zoo.inputs.bounds import Allowed, first_bad_cell, problem

BOMS = {codecs.BOM_UTF32_LE: "UTF-32", codecs.BOM_UTF32_BE: "UTF-32", codecs.BOM_UTF16_LE: "UTF-16",
        codecs.BOM_UTF16_BE: "UTF-16"}
"""The byte order marks a spreadsheet's 'Unicode text' export starts with (UTF-32 LE's begins
with UTF-16 LE's, so it is tried first)."""
HEAD_BYTES = 65_536
SAVE_AS_UTF8 = "save it as UTF-8 (or plain ASCII) comma-separated text"


def check_utf8(path: Path) -> None:
    """Refuse a file (gzipped or not) whose text is not UTF-8, a UTF-16 export say, from its first
    64 KiB, before a parser reads it as UTF-8 and fails in its own words; a file that cannot be
    read is left to the parser, which says why."""
    try:
        with path.open("rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        with gzip.open(path, "rb") if gzipped else path.open("rb") as text:
            head = text.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error):
        return
    encoding = next((name for bom, name in BOMS.items() if head.startswith(bom)), None)
    if encoding is not None:
        raise ZooError(f"{path} is {encoding} text, which zoo does not read; {SAVE_AS_UTF8}")
    if b"\x00" in head:
        raise ZooError(f"{path} holds NUL bytes (UTF-16 text without its mark, or no text at all); {SAVE_AS_UTF8}")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as err:
        raise ZooError(f"{path} is not UTF-8 text (byte {head[err.start]:#04x} at offset {err.start}); "
                       f"{SAVE_AS_UTF8}") from None


def read_numbers(path: Path, columns: Sequence[Allowed], header: bool, fix: str) -> np.ndarray:
    """The table as float32 (rows, len(columns)), every cell checked against its column's
    `Allowed`; `fix` ends each refusal (e.g. "replace it with the original diabetes.csv.gz")."""
    check_utf8(path)
    try:
        values = pd.read_csv(path, header=0 if header else None, dtype=np.float32).to_numpy()
    except UnicodeDecodeError as err:  # past the head `check_utf8` looked at
        raise ZooError(f"{path} is not UTF-8 text ({err.reason}); {SAVE_AS_UTF8}") from None
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
