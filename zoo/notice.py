"""One-line notices on stderr, printed once per process and only on the first rank."""

from __future__ import annotations

import sys

from lightning.pytorch.utilities.rank_zero import rank_zero_only

_printed: set[str] = set()


@rank_zero_only
def notice(message: str) -> None:
    if message not in _printed:
        _printed.add(message)
        print(f"zoo: {message}", file=sys.stderr, flush=True)
