"""Train a registered model from Python with the same defaults as `zoo fit`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightning.pytorch as pl

from zoo.registry import build, default_datamodule, recipe_for
from zoo.tasks import check_compatible

TRAINER_DEFAULTS: dict[str, Any] = {"log_every_n_steps": 20}
PROGRESS_REFRESH_STEPS = 10
"""zoo's progress bar redraws every 10 steps: Lightning's default bar redraws every step, which
the benchmark measured at 0.1-0.3 ms a step (5-15 % of a small model's epoch)."""


def with_progress_bar(callbacks: Any, enable_progress_bar: bool | None) -> list[Any]:
    """The Trainer's callbacks (None, one or a list) as a list, with zoo's progress bar added
    unless the bar is switched off or the user brought a progress bar of their own."""
    from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar

    given = callbacks if isinstance(callbacks, list) else [callbacks] if callbacks else []
    if enable_progress_bar is False or any(isinstance(c, ProgressBar) for c in given):
        return given
    return [*given, TQDMProgressBar(refresh_rate=PROGRESS_REFRESH_STEPS)]


@dataclass
class Run:
    """A finished training run: the trained model, its trainer and the test metrics."""

    model: pl.LightningModule
    datamodule: pl.LightningDataModule
    trainer: pl.Trainer
    test: dict[str, float]


def fit(
    name: str,
    recipe: str = "default",
    datamodule: pl.LightningDataModule | None = None,
    test: bool = True,
    model_kwargs: dict[str, Any] | None = None,
    **trainer_kwargs: Any,
) -> Run:
    """Build `name` with a recipe, train it for the recipe's epochs, then test it.

    A `datamodule` passed in is used as it is: the recipe's `data_args` shape only the default one.
    Trainer keyword arguments override the recipe (e.g. `max_epochs=1`) and zoo's defaults.
    """
    chosen = recipe_for(name, recipe)
    model = build(name, recipe=recipe, **(model_kwargs or {}))
    data = datamodule or default_datamodule(
        name, batch_size=chosen.batch_size, **chosen.data_args
    )
    check_compatible(model, data)
    options = TRAINER_DEFAULTS | {"max_epochs": chosen.max_epochs} | trainer_kwargs
    options["callbacks"] = with_progress_bar(
        options.get("callbacks"), options.get("enable_progress_bar")
    )
    trainer = pl.Trainer(**options)
    trainer.fit(model, datamodule=data)
    results = trainer.test(model, datamodule=data, verbose=False) if test else [{}]
    return Run(model, data, trainer, {k: float(v) for k, v in results[0].items()})
