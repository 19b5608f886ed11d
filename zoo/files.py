"""Writing a file whole or not at all: every file zoo writes goes through `atomic_write`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary name in `path`'s folder to write to, renamed onto `path` once the writing
    succeeded: a write cut short (a full disk, Ctrl+C, an error) leaves whatever was at `path`
    before, never a truncated file, and no temporary file.

    The temporary name keeps the suffix (writers such as matplotlib choose the format by it)
    and starts with a dot. An OSError that names no file is raised again naming `path`."""
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    except OSError as err:
        if err.filename is None:
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise
    finally:
        temporary.unlink(missing_ok=True)
