"""Writing a file whole or not at all: every file zoo writes goes through `atomic_write`."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from zoo.errors import ZooError

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
OVERWRITE = "--overwrite true"
"""The option, the same on every command that writes a file, that lets it replace one."""


def is_special_file(path: Path) -> bool:
    """Whether `path` is something other than a regular file or a folder: a device (/dev/null),
    a FIFO, a socket. Such a path is written where it stands; renamed over, it would be gone."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


@contextmanager
def naming(path: Path) -> Iterator[None]:
    """An OSError that names no file (a full disk reported by `write`) raised again naming `path`."""
    try:
        yield
    except OSError as err:
        if err.filename is None:
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary name in `path`'s folder to write to, renamed onto `path` once the writing
    succeeded: a write cut short (a full disk, Ctrl+C, an error) leaves whatever was at `path`
    before, never a truncated file, and no temporary file.

    The temporary name keeps the suffix (writers such as matplotlib choose the format by it)
    and starts with a dot. An OSError that names no file is raised again naming `path`. A
    device or a FIFO at `path` (`--output /dev/stdout`) is written in place instead: there is
    nothing to keep whole, and a rename would put a regular file where it was."""
    path = Path(path)
    if is_special_file(path):
        with naming(path):
            yield path
        return
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        with naming(path):
            yield temporary
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def full_disk(err: BaseException) -> ZooError | None:
    """A write stopped by a full disk (or quota) as one line naming the file; None for any other
    failure. `atomic_write` left the file as it was before."""
    if not isinstance(err, OSError) or err.errno not in DISK_FULL:
        return None
    file = f" writing {os.fsdecode(err.filename)!r}" if err.filename is not None else ""
    return ZooError(f"the disk is full ({err.strerror}{file}); free some space on it, "
                    "or write the file to a folder on another disk")


PRECIOUS_FILES = {".ckpt": "checkpoint", ".safetensors": "weights file"}
"""Files no command output may replace, inputs of this command or not, `--overwrite true` or not."""


def output_path(
    out: str | Path, option: str, inputs: Sequence[str | Path | None] = (), overwrite: bool = False
) -> Path:
    """The file a command will write, checked before any work is done: its folder exists and can
    be written, the path is not itself a folder or a socket, and writing it would replace
    neither one of the command's `inputs` (a file named, or a file in a folder named; None is
    skipped) nor an existing checkpoint or weights file, nor, unless `overwrite`, any other
    existing file. A device or a FIFO is written in place (`atomic_write`), so it replaces
    nothing. `option` names it in the error."""
    path = Path(out)
    folder = path.parent
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ZooError(f"folder {str(folder)!r} {problem}; pass {option} with a path in an existing folder")
    if path.is_dir():
        raise ZooError(f"{option} {str(path)!r} is a folder; pass a file path, e.g. {str(path / 'out')!r}")
    if path.is_socket():
        raise ZooError(f"{option} {str(path)!r} is a socket, which cannot be written as a file; "
                       f"pass {option} with a file path")
    if not os.access(folder, os.W_OK):
        raise ZooError(f"folder {str(folder)!r} is not writable; pass {option} in a folder that is")
    replaced = replaced_file(path, inputs)
    if replaced:
        raise ZooError(f"{option} {str(path)!r} is {replaced} and would be overwritten; "
                       f"pass {option} with another file name")
    if path.is_file() and not overwrite:
        raise ZooError(f"{option} {str(path)!r} exists and would be overwritten; "
                       f"pass {OVERWRITE} to replace it, or {option} with another file name")
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
