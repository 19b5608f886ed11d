"""zoo's default logger: Lightning's TensorBoard logger, flushed to disk on a clock."""

from __future__ import annotations

import math
import threading
import time
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import CSVLogger, Logger, TensorBoardLogger

FLUSH_EVERY_S = 5.0


class QuietWriterThreads:
    """A `threading.excepthook` that leaves out the OSError of TensorBoard's writer thread (its
    run folder deleted, the disk full): the thread keeps it for the training thread, which
    raises it at its next write and stops the run, so printed here too it is a second
    traceback. Every other exception goes to the hook installed before."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, args: threading.ExceptHookArgs) -> None:
        if isinstance(args.exc_value, OSError) and type(args.thread).__name__ == "_AsyncWriterThread":
            return
        self.previous(args)


class PacedTensorBoardLogger(TensorBoardLogger):
    """Lightning saves its logger after every write, which for TensorBoard flushes the event
    file: about a millisecond at each logging step (the benchmark's `overhead` section). This
    logger flushes at most every `flush_every` seconds, and always when the run ends, so the
    training step does not wait for the disk; a killed run loses at most those last seconds of
    curves, never a checkpoint."""

    def __init__(self, *args: Any, flush_every: float = FLUSH_EVERY_S, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(threading.excepthook, QuietWriterThreads):
            threading.excepthook = QuietWriterThreads(threading.excepthook)
        self.flush_every = flush_every
        self.saved_at = -math.inf

    def save(self) -> None:
        clock = time.monotonic()
        if clock - self.saved_at < self.flush_every:
            return
        self.saved_at = clock
        super().save()

    def finalize(self, status: str) -> None:
        self.saved_at = -math.inf
        super().finalize(status)


def logger_class() -> type[PacedTensorBoardLogger] | type[CSVLogger]:
    """TensorBoard's logger where it is installed, else CSV, as Lightning chooses by default."""
    return PacedTensorBoardLogger if find_spec("tensorboard") or find_spec("tensorboardX") else CSVLogger


def default_logger(run_dir: Path) -> Logger:
    """zoo's default logger, writing into the run folder zoo claimed. A folder `version_N` is
    passed as the number N: the same folder, shown as v_num=N in the bar."""
    number = run_dir.name.removeprefix("version_")
    version = int(number) if number.isdigit() else run_dir.name
    logger: Logger = logger_class()(str(run_dir.parent.parent), name=run_dir.parent.name, version=version)
    return logger
