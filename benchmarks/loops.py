"""The three ways a model is trained here: the tutorial's loop, a plain tensor loop, and zoo.

Every run returns an `EpochLog` with the same fields, so sections compare like with like.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from typing import Any

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from benchmarks.common import PeakMemory, Settings, now
from benchmarks.data import PILDigits, zoo_datamodule
from zoo.building import build_net
from zoo.recipes import Recipe
from zoo.registry import recipe_for
from zoo.runs import run_config
from zoo.tasks import OPTIMIZERS
from zoo.training import fit, instantiate


@dataclass
class EpochLog:
    """Seconds and accuracies of one training run, per epoch, whichever loop ran it.

    `train_s`: the training batches alone. `epoch_s`: the epoch as the loop runs it (for zoo
    that adds validation and logging). `cycle_s`: from one epoch's start to the next's (for zoo
    everything in between, checkpoints included). `step_s`: seconds per training step inside
    the epoch, from the first step's start to the last's (the steady cost of a step, without
    the epoch's edges). `ends`: seconds from the run's start to the end of each epoch's
    training. `eval_s`/`acc`: each test pass and its accuracy. `setup_s`: zoo's time in `fit`
    outside the epochs (Trainer set-up, sanity check, teardown).
    """

    train_s: list[float] = field(default_factory=list)
    epoch_s: list[float] = field(default_factory=list)
    cycle_s: list[float] = field(default_factory=list)
    step_s: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    eval_s: list[float] = field(default_factory=list)
    acc: list[float] = field(default_factory=list)
    setup_s: float = 0.0
    peak_mb: float = math.nan

    def time_to(self, epoch: int) -> float:
        """Seconds from the start to the end of `epoch`'s training (0-based), tests excluded."""
        return self.ends[epoch] - sum(self.eval_s[:epoch])


@contextmanager
def quiet() -> Iterator[None]:
    """Progress bars to /dev/null (Lightning's bars write to stdout) and no warnings."""
    with open(os.devnull, "w") as sink, redirect_stdout(sink), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def plain_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """The recipe's optimiser as a hand-written loop creates it. These loops train the plain
    network alone, so a recipe with a scheduler or task arguments is refused."""
    if recipe.scheduler is not None or recipe.task_args:
        raise ValueError(f"plain loops have no scheduler or task arguments; recipe "
                         f"{recipe.describe()!r} sets them")
    kwargs: dict[str, Any] = {"lr": recipe.lr, "weight_decay": recipe.weight_decay}
    if recipe.optimizer == "sgd":
        kwargs["momentum"] = recipe.momentum
    return OPTIMIZERS[recipe.optimizer](model.parameters(), **kwargs)


def seconds_per_step(starts: Sequence[float]) -> list[float]:
    """The mean interval between the starts of consecutive steps (none for a single step)."""
    return [(starts[-1] - starts[0]) / (len(starts) - 1)] if len(starts) > 1 else []


def evaluate(model: nn.Module, batches: Iterable[Sequence[Tensor]]) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over tensor batches, with one sync at the end."""
    was_training = model.training
    model.eval()
    losses, hits, count = [], [], 0
    with torch.no_grad():
        for x, y in batches:
            output = model(x)
            losses.append(F.cross_entropy(output, y, reduction="sum"))
            hits.append((output.argmax(1) == y).sum())
            count += len(y)
    model.train(was_training)
    return float(torch.stack(losses).sum()) / count, float(torch.stack(hits).sum()) / count


# The tutorial's loop: 002 lines 471-640, with the device moves of lines 860-870.


def tutorial_train_epoch(
    model: nn.Module, loader: Iterable[Any], optimizer: torch.optim.Optimizer, device: torch.device
) -> float:
    criterion = nn.CrossEntropyLoss()
    running_loss, batches = 0.0, 0
    for inputs, target in loader:
        inputs, target = inputs.to(device), target.to(device)
        optimizer.zero_grad()
        loss = criterion(model(inputs), target)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        batches += 1
    return running_loss / max(batches, 1)


def tutorial_test(model: nn.Module, loader: Iterable[Any], device: torch.device) -> float:
    correct, total = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            _, predicted = torch.max(outputs.data, dim=1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return correct / total


def run_tutorial(
    name: str,
    settings: Settings,
    seed: int,
    epochs: int,
    train_set: PILDigits,
    test_set: PILDigits,
    max_batches: int | None = None,
) -> EpochLog:
    """The tutorial's program with its own recipe: train an epoch, test, repeat."""
    device, recipe = settings.device, recipe_for(name, "tutorial")
    log = EpochLog()
    with PeakMemory(device) as memory:
        start = now(device)
        torch.manual_seed(seed)
        model = build_net(name).to(device)
        optimizer = plain_optimizer(model, recipe)
        shuffle = torch.Generator().manual_seed(seed)
        train_loader = DataLoader(train_set, batch_size=recipe.batch_size, shuffle=True,
                                  generator=shuffle)
        test_loader = DataLoader(test_set, batch_size=recipe.batch_size, shuffle=False)
        for _ in range(epochs):
            began = now(device)
            tutorial_train_epoch(model, itertools.islice(train_loader, max_batches), optimizer,
                                 device)
            trained = now(device)
            log.acc.append(tutorial_test(model, itertools.islice(test_loader, max_batches), device))
            log.train_s.append(trained - began)
            log.epoch_s.append(trained - began)
            log.cycle_s.append(trained - began)
            log.ends.append(trained - start)
            log.eval_s.append(now(device) - trained)
    log.peak_mb = memory.mb
    return log


def run_plain(name: str, recipe_name: str, settings: Settings, seed: int, epochs: int) -> EpochLog:
    """A hand-written loop over zoo's own tensor batches: train, then validate, each epoch.

    The plain network gets the channels-last layout zoo's task gives it at setup, so the
    difference between the two is the Trainer's overhead alone."""
    device, recipe = settings.device, recipe_for(name, recipe_name)
    log = EpochLog()
    with PeakMemory(device) as memory:
        module = zoo_datamodule(name, recipe.batch_size, settings, seed)
        start = now(device)
        torch.manual_seed(seed)
        model = build_net(name).to(device)
        model.to(memory_format=torch.channels_last)  # as Task.use_channels_last does at setup
        optimizer = plain_optimizer(model, recipe)
        train_batches, val_batches = module.train_dataloader(), module.val_dataloader()
        for _ in range(epochs):
            began = now(device)
            model.train()
            starts = []
            for x, y in train_batches:
                starts.append(time.perf_counter())
                optimizer.zero_grad()
                F.cross_entropy(model(x), y).backward()
                optimizer.step()
            trained = now(device)
            evaluate(model, val_batches)
            ended = now(device)
            log.train_s.append(trained - began)
            log.epoch_s.append(ended - began)
            log.cycle_s.append(ended - began)
            log.step_s += seconds_per_step(starts)
            log.ends.append(trained - start)
    log.peak_mb = memory.mb
    return log


class EpochTimer(pl.Callback):
    """Per epoch of a Lightning fit: the training batches alone, the epoch up to its end
    (training, validation, logging), the whole cycle to the next epoch's start (checkpoints
    too: Lightning runs them after every other callback's epoch end), and the steady seconds
    per step. Syncs the device only at epoch edges; the step clock reads the host's time, so
    on a GPU it is the host's pace, which is what a per-step cost is."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.start = 0.0
        self.train_end: float | None = None
        self.train_s: list[float] = []
        self.epoch_s: list[float] = []
        self.epoch_ends: list[float] = []
        self.epoch_starts: list[float] = []
        self.fit_end = 0.0
        self.step_starts: list[float] = []
        self.step_s: list[float] = []

    @property
    def cycle_s(self) -> list[float]:
        marks = [*self.epoch_starts, self.fit_end]
        return [b - a for a, b in itertools.pairwise(marks)]

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.start = now(self.device)
        self.epoch_starts.append(self.start)
        self.train_end = None
        self.step_starts = []

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        self.step_starts.append(time.perf_counter())

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.train_end = now(self.device)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        end = now(self.device)
        self.train_s.append((self.train_end or end) - self.start)
        self.epoch_s.append(end - self.start)
        self.epoch_ends.append(end)
        self.step_s += seconds_per_step(self.step_starts)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.fit_end = now(self.device)


class TestEachEpoch(pl.Callback):
    """Test accuracy after every epoch, timed apart from training."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.eval_s: list[float] = []
        self.acc: list[float] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        start = now(self.device)
        _, acc = evaluate(pl_module, trainer.datamodule.test_dataloader())  # type: ignore[attr-defined]
        self.eval_s.append(now(self.device) - start)
        self.acc.append(acc)


def run_zoo(
    name: str,
    recipe_name: str,
    settings: Settings,
    seed: int,
    epochs: int,
    callbacks: Sequence[pl.Callback] = (),
    test: bool = True,
    bare: bool = False,
    **trainer_options: Any,
) -> EpochLog:
    """zoo.training.fit, configured as `zoo fit` is (zoo.runs), then a test of the final weights.

    Its configuration is kept whole: the best and last checkpoints, the default TensorBoard
    logger, the progress bar (sent to /dev/null), the logging cadence, zoo's callbacks; only
    the device, the run folder (a temporary one), the epochs and the seed are set here.
    `zoo fit`'s one-off config.yaml and summary line are not. Extra trainer options (e.g.
    `logger=False`) override the defaults. With `bare`, the same task and data go to a bare
    Lightning Trainer instead: no bar, logger, checkpoint or zoo callback, Lightning's defaults.
    """
    device, recipe = settings.device, recipe_for(name, recipe_name)
    timer = EpochTimer(device)
    log = EpochLog()
    with PeakMemory(device) as memory, tempfile.TemporaryDirectory() as root, quiet():
        module = zoo_datamodule(name, recipe.batch_size, settings, seed, **recipe.data_args)
        start = now(device)
        options = {
            "max_epochs": epochs,
            "accelerator": "gpu" if device.type == "cuda" else "cpu",
            "devices": 1,
            "default_root_dir": root,
            "callbacks": [timer, *callbacks],
        } | trainer_options
        if bare:
            trainer, model = bare_fit(name, recipe_name, module, seed, options)
        else:
            run = fit(name, recipe=recipe_name, datamodule=module, test=False, seed=seed, **options)
            trainer, model = run.trainer, run.model
        fit_s = now(device) - start
        if test:
            began = now(device)
            results = trainer.test(model, datamodule=module, verbose=False)
            log.eval_s.append(now(device) - began)
            log.acc.append(float(results[0]["test/acc"]))
    log.train_s, log.epoch_s = timer.train_s, timer.epoch_s
    log.cycle_s, log.step_s = timer.cycle_s, timer.step_s
    log.ends = [end - start for end in timer.epoch_ends]
    log.setup_s = fit_s - sum(log.cycle_s)
    log.peak_mb = memory.mb
    return log


def bare_fit(name: str, recipe_name: str, module: pl.LightningDataModule, seed: int,
             options: dict[str, Any]) -> tuple[pl.Trainer, pl.LightningModule]:
    """zoo's task for the recipe, trained by a Trainer with nothing switched on."""
    pl.seed_everything(seed, verbose=False)
    model = instantiate(run_config(name, recipe_name)["model"])
    trainer = pl.Trainer(enable_progress_bar=False, logger=False, enable_checkpointing=False,
                         enable_model_summary=False, **options)
    trainer.fit(model, datamodule=module)
    return trainer, model


def warm_up(name: str, settings: Settings, train_set: PILDigits, test_set: PILDigits) -> None:
    """A few untimed batches through each loop: first-call costs stay out of the timed spans."""
    run_tutorial(name, settings, settings.seed, 1, train_set, test_set, max_batches=3)
    warm_up_zoo(name, "tutorial", settings)


def warm_up_zoo(name: str, recipe_name: str, settings: Settings) -> None:
    """A few untimed batches of zoo's training path with a recipe."""
    run_zoo(name, recipe_name, settings, settings.seed, 1, limit_train_batches=3,
            limit_val_batches=1, limit_test_batches=1)
