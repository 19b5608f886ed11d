"""A model's answers to raw inputs as rows: what `zoo predict` prints and saves, and what
`zoo serve` answers with the same fields."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from zoo.errors import ZooError
from zoo.files import atomic_write


@dataclass
class Row:
    """One answer: the input as given, what the model made of it, how sure it is (the probability
    of that prediction, a binary model's included; blank for values and text) and the likeliest
    labels with theirs (a binary model's P(class 1) is label "1"'s)."""

    input: str
    prediction: str
    probability: float | None = None
    top: list[tuple[str, float]] = field(default_factory=list)


def check_finite(output: Tensor, inputs: object, model: str) -> None:
    """Refuse an answer that is NaN or infinite: no number is an honest answer then."""
    if not torch.isfinite(output).all():
        bad = output[~torch.isfinite(output)].reshape(-1)[0].item()
        raise ZooError(
            f"model {model} answered {bad} for {inputs!r}: the input is far outside what it "
            "was trained on, or its weights are broken; pass inputs like its training data, or retrain it"
        )


def rows_frame(rows: Sequence[Row]) -> Any:
    """The rows as a pandas DataFrame: input, prediction, probability, then label_i and
    probability_i for each of the top k."""
    import pandas as pd

    records = [row_record(row) for row in rows]
    return pd.DataFrame.from_records(records, columns=list(dict.fromkeys(c for r in records for c in r)))


def row_record(row: Row) -> dict[str, Any]:
    """One row as `zoo predict --output` writes it: input, prediction, probability, then
    label_i and probability_i for each of the top k."""
    record: dict[str, Any] = {"input": row.input, "prediction": row.prediction, "probability": row.probability}
    for i, (label, p) in enumerate(row.top, start=1):
        record[f"label_{i}"] = label
        record[f"probability_{i}"] = p
    return record


TEXT_RULE = "\n" + "-" * 40 + "\n"
"""What stands between two prompts' texts: a blank line could be the text's own."""


def format_text(rows: Sequence[Row]) -> str:
    """Written text as a reader reads it: each prompt followed by its continuation, line breaks
    as breaks (a table cell would show them as `\\n`), a rule between two."""
    return TEXT_RULE.join(row.input + row.prediction for row in rows)


def format_table(rows: Sequence[Row]) -> str:
    """A fixed-width table: input, prediction, probability, top-k (label and percent), for answers
    of one line each (text a model writes goes through `format_text`)."""
    header = ("input", "prediction", "probability", "top-k")
    table = [
        (
            row.input if len(row.input) <= 60 else "..." + row.input[-57:],
            row.prediction.replace("\n", "\\n"),
            "" if row.probability is None else f"{row.probability:.4f}",
            "  ".join(f"{label} {100 * p:.1f}%" for label, p in row.top),
        )
        for row in rows
    ]
    columns = [c for c in range(4) if any(r[c] for r in table)]
    widths = {c: max(len(header[c]), *(len(r[c]) for r in table)) for c in columns}
    lines = ["  ".join(header[c].ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns).rstrip() for r in table]
    return "\n".join(lines)


def write_csv(rows: Sequence[Row], path: str | Path) -> Path:
    """The rows as CSV (see `rows_frame`) at a path `output_path` has checked."""
    path = Path(path)
    with atomic_write(path) as temporary:
        rows_frame(rows).to_csv(temporary, index=False)
    return path
