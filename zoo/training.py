"""Train a registered model from Python, configured exactly as `zoo fit` configures it."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import instantiate_class
from lightning.pytorch.plugins import CheckpointIO, TorchCheckpointIO
from lightning.pytorch.profilers import Profiler

from zoo import checks
from zoo.callbacks import (
    ConfusionMatrixCallback,
    EpochLines,
    LastCheckpoint,
    LogSampleImages,
    RecallCeilingCallback,
    SizedToTheRun,
    TimedProgressBar,
)
from zoo.datamodules.base import lacks_split
from zoo.errors import ZooError
from zoo.files import atomic_write
from zoo.logs import logger_class
from zoo.registry import MODELS
from zoo.runs import run_config
from zoo.signatures import check_arguments, check_values
from zoo.tasks import Task


def callback_list(callbacks: Any) -> list[Any]:
    """The Trainer's `callbacks` (or `plugins`) argument (None, one or a list) as a new list."""
    return [*callbacks] if isinstance(callbacks, list) else [callbacks] if callbacks else []


def zoo_callbacks(
    callbacks: Any, enable_progress_bar: bool | None, log_every_n_steps: int | None, enable_checkpointing: bool | None
) -> list[Any]:
    """The Trainer's callbacks as a list, with zoo's own added: validation off when there is
    no validation data; `last.ckpt` every epoch when checkpoints are on; a pace of logging that
    suits the run's length unless the user set one; and, unless the bar is switched off or the
    user brought a progress bar of their own, zoo's bar on a terminal or one line per epoch
    elsewhere (a log file)."""
    given = [*callback_list(callbacks), SizedToTheRun(paces_logging=log_every_n_steps is None)]
    if enable_checkpointing is not False and not any(isinstance(c, LastCheckpoint) for c in given):
        given.append(LastCheckpoint())
    if enable_progress_bar is False or any(isinstance(c, ProgressBar) for c in given):
        return given
    return [*given, TimedProgressBar() if sys.stderr.isatty() else EpochLines()]


class Digest:
    """A file to save through that keeps the sha256 of every byte written, passing them on to
    `file` (or, without one, only hashing them)."""

    def __init__(self, file: BinaryIO | None = None) -> None:
        self.file = file
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.file.write(data) if self.file is not None else len(data)

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()


def saved_digest(checkpoint: dict[str, Any], file: BinaryIO | None = None) -> str:
    """The sha256 of the bytes torch.save makes of `checkpoint`, written to `file` if given."""
    digest = Digest(file)
    torch.save(checkpoint, cast(BinaryIO, digest))  # torch.save calls only write and flush
    return digest.sha256.hexdigest()


def link_in_place(source: Path, path: Path) -> bool:
    """Make `path` a hard link to `source`, renamed into place whole; False where the file system
    makes no hard links (or `path` is a device), so the caller writes a copy instead."""
    try:
        with atomic_write(path) as temporary:
            os.link(source, temporary)
    except OSError:
        return False
    return True


def last_after_best(callbacks: list[pl.Callback]) -> list[pl.Callback]:
    """The callbacks with `LastCheckpoint` moved behind every other one. Lightning runs the
    checkpoint callbacks in their order at each epoch's end, and `last.ckpt` carries the best
    checkpoint's tracking state: saved before the best one took the epoch in, a run resumed
    from it would not know that epoch's score (nor, after the first epoch, that `best.ckpt`
    exists, and write `best-v1.ckpt` beside it). Saved after it, in an epoch that saved
    best.ckpt it holds best.ckpt's very bytes, and so is a hard link to that file
    (`AtomicCheckpointIO`)."""
    return [c for c in callbacks if not isinstance(c, LastCheckpoint)] + [
        c for c in callbacks if isinstance(c, LastCheckpoint)
    ]


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, writing each checkpoint to a temporary name in its own
    folder and renaming it into place (`zoo.files.atomic_write`): a save cut short by a full
    disk or Ctrl+C leaves the previous checkpoint whole, never a truncated one. Lightning's own
    writes to the system's temporary folder and moves the file, which is a copy, and not
    atomic, when that folder is on another disk. Remote paths are left to Lightning.

    A checkpoint whose bytes are those of the one saved just before, at the same step in the same
    folder (`last.ckpt` in an epoch that saved `best.ckpt`), is a hard link to that file instead
    of a second copy, so a run needs the space of one checkpoint less; where links fail, a copy.
    Checked on the bytes torch.save makes, so a resume from the link is a resume from the very
    checkpoint a copy would hold. Every file is replaced by a rename, never written in place, so
    the next save of one name leaves the other as it was.

    A folder it saved into that has since been deleted is an error, not created again: the run
    it belongs to lost its logs and config, and stops saying so (`zoo.runs.write_failure`)."""

    def __init__(self) -> None:
        super().__init__()
        self.folders: set[Path] = set()
        self.previous: tuple[tuple[Any, Any], Path, str] | None = None
        """The last checkpoint saved: its (epoch, global_step), path and sha256."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        if storage_options is not None or "://" in str(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        path = Path(path)
        folder = path.parent
        if folder in self.folders and not folder.is_dir():
            raise FileNotFoundError(errno.ENOENT, "folder deleted during the run", str(folder))
        folder.mkdir(parents=True, exist_ok=True)
        self.folders.add(folder)
        step = (checkpoint.get("epoch"), checkpoint.get("global_step"))
        if self.previous is not None and self.linked_to_previous(checkpoint, step, path):
            return
        # Through a Python file, so that a full disk is an OSError naming its errno.
        with atomic_write(path) as temporary, open(temporary, "wb") as file:
            self.previous = (step, path, saved_digest(checkpoint, file))

    def linked_to_previous(self, checkpoint: dict[str, Any], step: tuple[Any, Any], path: Path) -> bool:
        """Save `checkpoint` as a hard link to the previous file when it would hold its bytes."""
        assert self.previous is not None
        saved_at, source, sha256 = self.previous
        if saved_at != step or source == path or source.parent != path.parent or not source.is_file():
            return False
        return saved_digest(checkpoint) == sha256 and link_in_place(source, path)


def zoo_plugins(plugins: Any) -> list[Any]:
    """The Trainer's plugins as a list, with zoo's atomic checkpoint writer unless the user
    brought a CheckpointIO of their own."""
    given = callback_list(plugins)
    if any(isinstance(p, CheckpointIO) for p in given):
        return given
    return [*given, AtomicCheckpointIO()]


class NoProfiler(Profiler):
    """The Trainer's profiler when the user chose none: it times nothing, as Lightning's own
    `PassThroughProfiler` does, but hands back one shared context for every action instead of
    making a generator-based one each time. Lightning brackets every hook call with the profiler,
    callbacks' and the model's, about 40 a training step: 0.9 microseconds a call less on a 2-core
    machine (1.6 against 0.7 for a callback's hook, the benchmark's `overhead` section)."""

    def __init__(self) -> None:
        super().__init__()
        self.nothing = contextlib.nullcontext()

    def start(self, action_name: str) -> None:
        pass

    def stop(self, action_name: str) -> None:
        pass

    def summary(self) -> str:
        return ""

    def profile(self, action_name: str) -> contextlib.nullcontext[None]:  # type: ignore[override]
        return self.nothing


def zoo_profiler(profiler: Any) -> Any:
    """The user's profiler, else `NoProfiler`."""
    return NoProfiler() if profiler is None else profiler


def attach_test_callbacks(trainer: pl.Trainer, normalize: bool = False) -> None:
    """Callbacks that act only while testing (the confusion matrix, its rows as fractions with
    `normalize`; the recall ceilings), attached just before a test, so training steps do not
    pay a call to each of their hooks."""
    trainer.callbacks.extend([ConfusionMatrixCallback(normalize), RecallCeilingCallback()])  # type: ignore[attr-defined]


def final_test(
    trainer: pl.Trainer, model: pl.LightningModule, datamodule: pl.LightningDataModule, normalize: bool = False
) -> tuple[dict[str, float], str]:
    """Test the run's best checkpoint (the final weights when it kept none): the metrics, and
    the checkpoint's path ('' for the final weights). No metrics when the data holds no test
    split (a recipe that trains on every row)."""
    best = next((c.best_model_path for c in trainer.checkpoint_callbacks
                 if isinstance(c, ModelCheckpoint) and not isinstance(c, LastCheckpoint)), "")
    if lacks_split(datamodule, "test"):
        return {}, best
    attach_test_callbacks(trainer, normalize)
    results = trainer.test(model, datamodule=datamodule, ckpt_path=best or None, verbose=False, weights_only=True)
    return {k: float(v) for k, v in results[0].items()}, best


def kept_checkpoints(trainer: pl.Trainer) -> list[str]:
    """The checkpoint files a run has saved so far (best, then last), each named once. Only
    files on disk: Lightning names a new best before writing it, so a write the interrupt cut
    short is not claimed."""
    paths: list[str] = []
    for callback in trainer.checkpoint_callbacks:
        for path in (getattr(callback, "best_model_path", ""), getattr(callback, "last_model_path", "")):
            if path and path not in paths and os.path.isfile(path):
                paths.append(path)
    return paths


def forward_flops(model: torch.nn.Module, *inputs: torch.Tensor) -> int:
    """The FLOPs of one forward pass on `inputs`, as torch's FlopCounterMode counts them (matrix
    products and convolutions; element-wise work is not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*inputs)
    return int(counter.get_total_flops())


def describe(model: pl.LightningModule) -> str:
    """One line on the model: its name, parameters and forward FLOPs per sample where its
    inputs have a fixed shape (the summary Lightning's table would give, minus the noise)."""
    name = getattr(model, "display_name", type(model).__name__)
    registered = getattr(model, "zoo_name", "")
    params = sum(p.numel() for p in model.parameters())
    line = f"model {name}: {params:,} parameters"
    shape = MODELS.get(registered).input_shape if registered in MODELS else (None,)
    if all(s is not None for s in shape):
        flops = forward_flops(model, torch.zeros(1, *shape, device=model.device))  # type: ignore[arg-type]
        line += f", {flops / 1e6:,.2f} MFLOPs per sample forward"
    return line


@dataclass
class Run:
    """A finished training run: the trained model, its trainer and the test metrics."""

    model: pl.LightningModule
    datamodule: pl.LightningDataModule
    trainer: pl.Trainer
    test: dict[str, float]


def instantiate(section: dict[str, Any], **overrides: Any) -> Any:
    """The object a run-config section describes (class_path and init_args), with overrides;
    an override the class does not take is a ZooError naming the ones it does."""
    module, name = section["class_path"].rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    check_arguments(cls, overrides, name)
    check_values(cls, overrides, name)
    return instantiate_class((), section | {"init_args": section.get("init_args", {}) | overrides})


def run_datamodule(name: str, recipe: str = "default", **data_kwargs: Any) -> pl.LightningDataModule:
    """The datamodule `zoo fit --model NAME --recipe RECIPE` trains on, with overrides."""
    data: pl.LightningDataModule = instantiate(run_config(name, recipe)["data"], **data_kwargs)
    return data


def fit(
    name: str | Task,
    recipe: str = "default",
    datamodule: pl.LightningDataModule | None = None,
    test: bool = True,
    model_kwargs: dict[str, Any] | None = None,
    data_kwargs: dict[str, Any] | None = None,
    seed: int | None = None,
    **trainer_kwargs: Any,
) -> Run:
    """Train `name` as `zoo fit --model NAME --recipe RECIPE` does, then test the best checkpoint.

    The configuration is `zoo.runs.run_config`: the recipe's model, datamodule and epochs, the
    best and last checkpoints, the seed (42 unless `seed` is given) and the run folder
    `runs/<name>`. `model_kwargs`, `data_kwargs` and Trainer keyword arguments override it; a
    `datamodule` passed in is used as it is. `name` may also be a task of one's own network
    (`ClassificationTask(net=MyNet(), labels=...)`), trained on the `datamodule` given, with
    what every run shares (seed, checkpoints, progress) and the Trainer keyword arguments.
    """
    if isinstance(name, Task):
        if datamodule is None:
            raise ZooError("a model of your own trains on the data you give it; pass datamodule=...")
        config = run_config()
    else:
        MODELS.get(name)  # a missing or unknown name is refused here, with its fix
        config = run_config(name, recipe)
    pl.seed_everything(checks.seed(config["seed_everything"] if seed is None else seed, "seed"), verbose=False)
    overrides = checks.mapping(model_kwargs, "model_kwargs")
    model = name if isinstance(name, Task) else instantiate(config["model"], **overrides)
    data = datamodule or instantiate(config["data"], **checks.mapping(data_kwargs, "data_kwargs"))
    model.check_data(data)
    options = config["trainer"] | trainer_kwargs
    callbacks = callback_list(options.get("callbacks"))
    if options.get("enable_checkpointing", True) and not any(isinstance(c, ModelCheckpoint) for c in callbacks):
        callbacks.append(ModelCheckpoint(**config["checkpoint"]))
    callbacks.append(LogSampleImages())
    options["callbacks"] = zoo_callbacks(
        callbacks, options.get("enable_progress_bar"), options.get("log_every_n_steps"),
        options.get("enable_checkpointing"),
    )
    options["plugins"] = zoo_plugins(options.get("plugins"))
    options["profiler"] = zoo_profiler(options.get("profiler"))
    if options.get("logger") in (None, True):
        options["logger"] = logger_class()(options.get("default_root_dir") or os.getcwd())
    trainer = pl.Trainer(**options)
    trainer.fit(model, datamodule=data)
    metrics = final_test(trainer, model, data)[0] if test else {}
    return Run(model, data, trainer, metrics)
