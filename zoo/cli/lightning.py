"""`zoo fit|validate|test|predict`: LightningCLI over zoo's run configuration.

The run's defaults come from `zoo.runs.run_config` and are set as the parser's defaults, so
anything on the command line or in a `--config` file wins. Parse errors and constructor
checks come out as one `ZooError` line (see `zoo.cli.parse_errors`).
"""

from __future__ import annotations

import logging
import warnings
from argparse import ArgumentError
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI

from zoo.callbacks import LogSampleImages
from zoo.checkpoints import checkpoint_model, read_checkpoint
from zoo.cli.arguments import RunArguments
from zoo.cli.parse_errors import one_line
from zoo.errors import ZooError
from zoo.notice import say
from zoo.runs import run_config
from zoo.tasks import check_compatible
from zoo.training import describe, with_progress_bar


def flat_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """Run-config sections as parser defaults: groups as dotted keys, model and data whole."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if key in ("trainer", "checkpoint"):
            flat |= {f"{key}.{name}": v for name, v in value.items()}
        else:
            flat[key] = value
    return flat


def metrics_line(metrics: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {float(value):.4f}" for name, value in sorted(metrics.items()))


class ZooCLI(LightningCLI):
    """LightningCLI with zoo's run defaults, its checks before a run and a closing summary."""

    def __init__(self, defaults: dict[str, Any], **kwargs: Any) -> None:
        self.run_defaults = defaults
        super().__init__(**kwargs)

    def add_arguments_to_parser(self, parser: Any) -> None:
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.add_lightning_class_args(LogSampleImages, "sample_images")
        parser.set_defaults(flat_defaults(self.run_defaults))

    def parse_arguments(self, parser: Any, args: Any) -> None:
        """Parse the command line given to `zoo` (which is sys.argv's tail, so no warning about
        passing both is due), with every parser error as one line."""
        try:
            self.config = parser.parse_args(args)
        except ArgumentError as err:
            raise ZooError(one_line(err, parser, args[0] if args else None, self.run_defaults)) from None
        subcommand = self.config.get("subcommand")
        if subcommand and self.config[subcommand].get("weights_only") is None:
            self.config[subcommand]["weights_only"] = True  # a checkpoint never runs code
        self.check_checkpoint_model()

    def check_checkpoint_model(self) -> None:
        """Refuse a checkpoint written by another model before LightningCLI reads its
        hyperparameters into this run (which would quietly swap the network)."""
        subcommand = self.config.get("subcommand")
        section = self.config.get(subcommand) if subcommand else None
        path = section.get("ckpt_path") if section else None
        if section is None or not path:
            return
        written_by = checkpoint_model(read_checkpoint(path), path)
        init = section.model.get("init_args") if section.get("model") else None
        wanted = init.get("net") if init else None
        if wanted and wanted != written_by:
            raise ZooError(
                f"checkpoint {path!r} was written by model {written_by!r}, not {wanted!r}; "
                f"pass --model {written_by}, or a checkpoint of {wanted}"
            )

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """Add zoo's progress bar (see zoo.training) unless it is off or the user gave one.

        It is added here, not to the parsed config, so a saved config.yaml stays free of it and
        still runs with `--trainer.enable_progress_bar false`."""
        trainer = (self.config_init[self.subcommand] if self.subcommand else self.config_init).trainer
        kwargs["callbacks"] = with_progress_bar(
            kwargs.get("callbacks", trainer.callbacks),
            kwargs.get("enable_progress_bar", trainer.enable_progress_bar),
        )
        return super().instantiate_trainer(**kwargs)

    def _check(self) -> None:
        check_compatible(self.model, self.datamodule)
        say(describe(self.model))

    def before_fit(self) -> None:
        self._check()
        seed = self.config[self.subcommand].get("seed_everything")
        say(f"seed {seed}; data seed {getattr(self.datamodule, 'seed', 'n/a')}")

    def before_validate(self) -> None:
        self._check()

    def before_test(self) -> None:
        self._check()

    def before_predict(self) -> None:
        self._check()

    def after_fit(self) -> None:
        trainer = self.trainer
        if trainer.interrupted:
            return
        callback = trainer.checkpoint_callback
        best = getattr(callback, "best_model_path", "") if callback else ""
        results = trainer.test(
            self.model, datamodule=self.datamodule, ckpt_path=best or None, verbose=False, weights_only=True
        )
        say(f"test of {'the best checkpoint' if best else 'the final weights'}: {metrics_line(results[0])}")
        if best:
            say(f"best checkpoint: {best}")
        if trainer.logger is not None and trainer.logger.log_dir:
            log_dir = trainer.logger.log_dir
            say(f"logs: {log_dir} (tensorboard --logdir {log_dir})")

    def after_validate(self) -> None:
        say(f"validation: {metrics_line(dict(self.trainer.callback_metrics))}")

    def after_test(self) -> None:
        say(f"test: {metrics_line(dict(self.trainer.callback_metrics))}")

    def after_predict(self) -> None:
        import torch

        predictions = self.trainer.predict_loop.predictions
        if not predictions or not isinstance(predictions[0], torch.Tensor):
            return
        stacked = torch.cat(predictions)
        root = Path(self.trainer.log_dir or self.trainer.default_root_dir)
        root.mkdir(parents=True, exist_ok=True)
        path = root / "predictions.pt"
        torch.save(stacked, path)
        say(f"{len(stacked)} predictions of shape {tuple(stacked.shape[1:])} saved to {path}")


def run(arguments: RunArguments) -> None:
    """Run one Lightning command with the run configuration of its registered model, with
    Lightning's informational lines off: zoo prints the seed, the model and the results."""
    for logger in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(logger).setLevel(logging.WARNING)
    # torch 2.14 deprecated a pytree class Lightning 2.6 still checks for on every step; the
    # notice is for Lightning's developers, not for the person training.
    warnings.filterwarnings("ignore", message=".*LeafSpec.*is deprecated")
    ZooCLI(
        run_config(arguments.model, arguments.recipe, arguments.data),
        model_class=LightningModule,
        datamodule_class=LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        save_config_kwargs={"overwrite": True},
        args=[arguments.command, *arguments.rest],
        auto_configure_optimizers=False,
        parser_kwargs={"exit_on_error": False},
    )
