"""Overhead: zoo's Trainer against a hand-written loop over the identical tensor batches.

Both train on the same `TensorBatches` and validate on the same validation batches every
epoch, with the tutorial recipe (SGD, batch 64: the smallest batch of any recipe, where a
per-step cost shows the most). Besides `zoo fit` as a user gets it, variants with one default
changed show what each default costs; they run on the models with the cheapest steps (where a
fixed cost per step weighs most), or on every chosen model when --models names neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import RichProgressBar

from benchmarks.common import SectionResult, Settings, Target, alternate, median
from benchmarks.data import zoo_datamodule
from benchmarks.loops import EpochLog, run_plain, run_zoo
from zoo.registry import recipe_for

NAME = "overhead"
RECIPE = "tutorial"
LIMIT_PCT = 5.0
PLAIN = "plain loop"
VARIANT_MODELS = ("cnn_mnist", "mlp_mnist")
SHOWN = ["model", "variant", "batch", "epoch_s", "train_s", "overhead_pct", "step_overhead_ms",
         "setup_s"]


@dataclass(frozen=True)
class Variant:
    """`zoo fit` with some defaults changed."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    callbacks: Callable[[], list[pl.Callback]] = list


USER = Variant("zoo fit")
VARIANTS = [
    USER,
    Variant("Lightning's bar (every step)", callbacks=lambda: [RichProgressBar()]),
    Variant("no progress bar", {"enable_progress_bar": False}),
    Variant("log every 50 steps", {"log_every_n_steps": 50}),
    Variant("no logger", {"logger": False}),
    Variant("no checkpoint", {"enable_checkpointing": False}),
    Variant("bare Trainer", {"enable_progress_bar": False, "logger": False,
                             "enable_checkpointing": False}),
]


def run_variant(name: str, variant: Variant, settings: Settings, seed: int) -> EpochLog:
    return run_zoo(name, RECIPE, settings, seed, settings.epochs, callbacks=variant.callbacks(),
                   test=False, **variant.options)


def run(settings: Settings) -> SectionResult:
    rows: list[dict[str, Any]] = []
    targets: list[Target] = []
    variant_models = [m for m in settings.models if m in VARIANT_MODELS] or settings.models
    for name in settings.models:
        variants = VARIANTS if name in variant_models else [USER]
        batch = recipe_for(name, RECIPE).batch_size
        steps = len(zoo_datamodule(name, batch, settings, settings.seed).train_dataloader())
        run_plain(name, RECIPE, settings, settings.seed, 1)
        run_zoo(name, RECIPE, settings, settings.seed, 1, test=False, limit_train_batches=3,
                limit_val_batches=1)
        logs: dict[str, list[EpochLog]] = {PLAIN: [], **{v.name: [] for v in variants}}
        for repeat in range(settings.repeats):
            seed = settings.seed + repeat
            for variant in alternate([None, *variants], repeat):
                if variant is None:
                    logs[PLAIN].append(run_plain(name, RECIPE, settings, seed, settings.epochs))
                else:
                    logs[variant.name].append(run_variant(name, variant, settings, seed))
        plain_epoch = median(s for log in logs[PLAIN] for s in log.epoch_s)
        for variant_name, variant_logs in logs.items():
            epoch_s = median(s for log in variant_logs for s in log.epoch_s)
            rows.append({
                "model": name,
                "variant": variant_name,
                "batch": batch,
                "steps": steps,
                "epoch_s": epoch_s,
                "train_s": median(s for log in variant_logs for s in log.train_s),
                "overhead_pct": 100 * (epoch_s / plain_epoch - 1),
                "step_overhead_ms": 1000 * (epoch_s - plain_epoch) / steps,
                "setup_s": median(log.setup_s for log in variant_logs),
                "repeats": len(variant_logs),
            })
        user_row = next(r for r in rows if r["model"] == name and r["variant"] == USER.name)
        targets.append(Target(NAME, "zoo Trainer overhead per epoch, %", name,
                              user_row["overhead_pct"], LIMIT_PCT))
    notes = [
        "epoch_s: one epoch of training + validation, median over epochs and repeats; "
        "train_s: its training batches alone; setup_s: time in fit() outside the epochs",
        "overhead_pct and step_overhead_ms compare epoch_s with the plain loop's",
    ]
    return SectionResult(NAME, rows, SHOWN, targets, notes)
