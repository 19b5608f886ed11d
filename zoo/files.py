"""Writing a file whole or not at all: every file zoo writes goes through `atomic_write`."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from zoo.errors import ZooError


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


PRECIOUS_FILES = {".ckpt": "checkpoint", ".safetensors": "weights file"}
"""Files no command output may replace, inputs of this command or not."""


def output_path(out: str | Path, option: str, inputs: Sequence[str | Path | None] = ()) -> Path:
    """The file a command will write, checked before any work is done: its folder exists and can
    be written, the path is not itself a folder, and writing it would replace neither one of the
    command's `inputs` (a file named, or a file in a folder named; None is skipped) nor an
    existing checkpoint or weights file. `option` names it in the error."""
    path = Path(out)
    folder = path.parent
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ZooError(f"folder {str(folder)!r} {problem}; pass {option} with a path in an existing folder")
    if path.is_dir():
        raise ZooError(f"{option} {str(path)!r} is a folder; pass a file path, e.g. {str(path / 'out')!r}")
    if not os.access(folder, os.W_OK):
        raise ZooError(f"folder {str(folder)!r} is not writable; pass {option} in a folder that is")
    replaced = replaced_file(path, inputs)
    if replaced:
        raise ZooError(f"{option} {str(path)!r} is {replaced} and would be overwritten; "
                       f"pass {option} with another file name")
    return path


def replaced_file(path: Path, inputs: Sequence[str | Path | None]) -> str | None:
    """What writing the existing file `path` would destroy, in words: one of the inputs, a file
    in an input folder, a checkpoint, a weights file; None when it is none of those."""
    if not path.exists():
        return None
    for given in inputs:
        source = Path(given) if given is not None else None
        if source is None or not source.exists():
            continue
        if source.is_dir() and path.resolve().parent == source.resolve():
            return f"a file in input folder {str(source)!r}"
        if path.samefile(source):
            return "an input of this command"
    kind = PRECIOUS_FILES.get(path.suffix.lower())
    return f"an existing {kind}" if kind else None
