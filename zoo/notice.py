"""Messages for the user, printed only on the first rank of a multi-process run."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from lightning.pytorch.utilities.rank_zero import rank_zero_only

_printed: set[str] = set()


@rank_zero_only
def notice(message: str) -> None:
    """A one-line note on stderr, printed once per process however often it is raised."""
    if message not in _printed:
        _printed.add(message)
        print(f"zoo: {message}", file=sys.stderr, flush=True)


def metrics_line(metrics: Mapping[str, Any]) -> str:
    """'test/acc 0.9810, test/loss 0.0615': metrics as a person reads them."""
    return ", ".join(f"{name} {float(value):.4f}" for name, value in sorted(metrics.items()))


@rank_zero_only
def say(message: str) -> None:
    """A result line on stdout."""
    print(f"zoo: {message}", flush=True)


def quiet_lightning() -> None:
    """Lightning's informational lines (devices, adverts, 'Trainer.fit stopped') off: zoo says
    what a person needs in its own lines."""
    import logging
    import warnings

    for logger in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(logger).setLevel(logging.WARNING)
    # torch 2.14 deprecated a pytree class Lightning 2.6 still checks for on every step; the
    # notice is for Lightning's developers, not for the person training.
    warnings.filterwarnings("ignore", message=".*LeafSpec.*is deprecated")
