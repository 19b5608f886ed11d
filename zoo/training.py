"""Train a registered model from Python, configured exactly as `zoo fit` configures it."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, ProgressBar, TQDMProgressBar
from lightning.pytorch.cli import instantiate_class

from zoo.callbacks import ConfusionMatrixCallback
from zoo.runs import run_config
from zoo.tasks import check_compatible

PROGRESS_REFRESH_STEPS = 10
"""zoo's progress bar redraws every 10 steps: Lightning's default bar redraws every step, which
the benchmark measured at 0.1-0.3 ms a step (5-15 % of a small model's epoch)."""


def with_progress_bar(callbacks: Any, enable_progress_bar: bool | None) -> list[Any]:
    """The Trainer's callbacks (None, one or a list) as a list, with zoo's progress bar added
    unless the bar is switched off or the user brought a progress bar of their own."""
    given = callbacks if isinstance(callbacks, list) else [callbacks] if callbacks else []
    if enable_progress_bar is False or any(isinstance(c, ProgressBar) for c in given):
        return given
    return [*given, TQDMProgressBar(refresh_rate=PROGRESS_REFRESH_STEPS)]


class RandomState(Callback):
    """Keeps torch's and Python's random generators in every checkpoint and restores them on
    resume, so dropout and other random layers continue as in the uninterrupted run (Lightning
    stores the model, optimiser and loops; the data order is the datamodule's own state)."""

    def state_dict(self) -> dict[str, Any]:
        import torch

        state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        import torch

        if "torch" in state_dict:
            torch.set_rng_state(state_dict["torch"])
        if "python" in state_dict:
            version, internal, gauss = state_dict["python"]
            random.setstate((version, tuple(internal), gauss))
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])


class InterruptReport(Callback):
    """Notes a Ctrl+C (Lightning catches it, tears down and exits 1) and says which
    checkpoints the run keeps, so the command can exit 130 as an interrupted program does."""

    def __init__(self) -> None:
        self.saved: list[str] | None = None

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, KeyboardInterrupt):
            return
        paths: list[str] = []
        for callback in trainer.checkpoint_callbacks:
            for path in (getattr(callback, "best_model_path", ""), getattr(callback, "last_model_path", "")):
                if path and path not in paths:
                    paths.append(path)
        self.saved = paths
        print(f"zoo: interrupted; saved: {', '.join(paths) or 'no checkpoint yet'}", file=sys.stderr, flush=True)


def describe(model: pl.LightningModule) -> str:
    """One line on the model: its name, parameters and forward FLOPs per sample where its
    inputs have a fixed shape (the summary Lightning's table would give, minus the noise)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from zoo.registry import MODELS

    name = getattr(model, "zoo_name", type(model).__name__)
    params = sum(p.numel() for p in model.parameters())
    line = f"model {name}: {params:,} parameters"
    shape = MODELS.get(name).input_shape if name in MODELS else (None,)
    if all(s is not None for s in shape):
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(torch.zeros(1, *shape, device=model.device))  # type: ignore[arg-type]
        line += f", {counter.get_total_flops() / 1e6:,.2f} MFLOPs per sample forward"
    return line


@dataclass
class Run:
    """A finished training run: the trained model, its trainer and the test metrics."""

    model: pl.LightningModule
    datamodule: pl.LightningDataModule
    trainer: pl.Trainer
    test: dict[str, float]


def instantiate(section: dict[str, Any], **overrides: Any) -> Any:
    """The object a run-config section describes (class_path and init_args), with overrides."""
    return instantiate_class((), section | {"init_args": section.get("init_args", {}) | overrides})


def run_datamodule(name: str, recipe: str = "default", **data_kwargs: Any) -> pl.LightningDataModule:
    """The datamodule `zoo fit --model NAME --recipe RECIPE` trains on, with overrides."""
    data: pl.LightningDataModule = instantiate(run_config(name, recipe)["data"], **data_kwargs)
    return data


def fit(
    name: str,
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
    `datamodule` passed in is used as it is.
    """
    config = run_config(name, recipe)
    pl.seed_everything(config["seed_everything"] if seed is None else seed, verbose=False)
    model = instantiate(config["model"], **(model_kwargs or {}))
    data = datamodule or instantiate(config["data"], **(data_kwargs or {}))
    check_compatible(model, data)
    options = config["trainer"] | trainer_kwargs
    callbacks = options.get("callbacks")
    callbacks = callbacks if isinstance(callbacks, list) else [callbacks] if callbacks else []
    if options.get("enable_checkpointing", True) and not any(isinstance(c, ModelCheckpoint) for c in callbacks):
        callbacks.append(ModelCheckpoint(**config["checkpoint"]))
    callbacks += [RandomState(), ConfusionMatrixCallback()]
    options["callbacks"] = with_progress_bar(callbacks, options.get("enable_progress_bar"))
    trainer = pl.Trainer(**options)
    trainer.fit(model, datamodule=data)
    results: list[Any] = [{}]
    if test:
        best = getattr(trainer.checkpoint_callback, "best_model_path", "")
        results = trainer.test(model, datamodule=data, ckpt_path=best or None, verbose=False, weights_only=True)
    return Run(model, data, trainer, {k: float(v) for k, v in results[0].items()})
