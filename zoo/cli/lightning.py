"""`zoo fit|validate|test|predict`: LightningCLI, with registry names and recipes as defaults.

Registry names (`--model inception_mnist`, `--data mnist`) become class paths, and the chosen
recipe's settings, the model's datamodule and a run folder are placed *before* the user's own
arguments, so anything given on the command line or in a `--config` file still wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI

from zoo.callbacks import LogSampleImages
from zoo.errors import ZooError
from zoo.notice import say
from zoo.registry import DATAMODULES, MODELS, recipe_for
from zoo.tasks import check_compatible
from zoo.training import TRAINER_DEFAULTS, with_progress_bar

SEED = 42


def pop_option(args: list[str], flag: str) -> str | None:
    """Remove `flag VALUE` or `flag=VALUE` from args and return VALUE (the last one wins)."""
    value = None
    i = 0
    while i < len(args):
        if args[i] == flag:
            if i + 1 >= len(args):
                raise ZooError(f"{flag} needs a value; e.g. {flag} NAME")
            value = args[i + 1]
            del args[i : i + 2]
        elif args[i].startswith(flag + "="):
            value = args[i].split("=", 1)[1]
            del args[i]
        else:
            i += 1
    return value


def has_option(args: list[str], flag: str) -> bool:
    return any(a == flag or a.startswith(flag + "=") or a.startswith(flag + ".") for a in args)


def config_sections(args: list[str]) -> set[str]:
    """Top-level keys of the YAML files passed with --config."""
    sections: set[str] = set()
    for i, arg in enumerate(args):
        path = args[i + 1] if arg == "--config" and i + 1 < len(args) else None
        if arg.startswith("--config="):
            path = arg.split("=", 1)[1]
        if path and Path(path).is_file():
            loaded = yaml.safe_load(Path(path).read_text()) or {}
            sections.update(loaded if isinstance(loaded, dict) else {})
    return sections


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def expand_arguments(argv: list[str]) -> list[str]:
    """Turn registry names and `--recipe` into the LightningCLI arguments they stand for."""
    command, args = argv[0], list(argv[1:])
    model = pop_option(args, "--model")
    data = pop_option(args, "--data")
    recipe_name = pop_option(args, "--recipe") or "default"
    wants_help = any(a in ("-h", "--help", "--print_config") or a.startswith("--print_config=")
                     for a in args)
    from_config = config_sections(args)
    front: list[str] = []
    if model is not None and model in MODELS:
        card = MODELS.get(model)
        recipe = recipe_for(model, recipe_name)
        front += ["--model", class_path(card.cls)]
        for key, value in recipe.model_hparams().items():
            front += [f"--model.{key}", "null" if value is None else str(value)]
        if data is None and "data" not in from_config:
            front += ["--data", class_path(DATAMODULES.get(card.datamodule).cls)]
            front += ["--data.batch_size", str(recipe.batch_size)]
            for key, value in (card.datamodule_args | recipe.data_args).items():
                front += [f"--data.{key}", str(value)]
        front += ["--trainer.max_epochs", str(recipe.max_epochs)]
        front += ["--trainer.default_root_dir", str(Path("runs") / model)]
    elif model is not None:
        if "." not in model:
            MODELS.get(model)  # raises the "did you mean" error
        front += ["--model", model]
    elif "model" not in from_config and not wants_help:
        raise ZooError("which model? pass --model NAME (see 'zoo list') or --config FILE")
    if data is not None:
        data_path = class_path(DATAMODULES.get(data).cls) if "." not in data else data
        front += ["--data", data_path]
    return [command, *front, *args]


def metrics_line(results: list[Any]) -> str:
    metrics = results[0] if results else {}
    return ", ".join(f"{name} {float(value):.4f}" for name, value in sorted(metrics.items()))


class ZooCLI(LightningCLI):
    """LightningCLI with a best-checkpoint callback, a shape check and a closing summary."""

    def add_arguments_to_parser(self, parser: Any) -> None:
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.add_lightning_class_args(LogSampleImages, "sample_images")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/loss",
                "checkpoint.mode": "min",
                "checkpoint.filename": "best",
            }
            | {f"trainer.{key}": value for key, value in TRAINER_DEFAULTS.items()}
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
        results = trainer.test(self.model, datamodule=self.datamodule, ckpt_path=best or None, verbose=False)
        say(f"test of {'the best checkpoint' if best else 'the final weights'}: {metrics_line(results)}")
        if best:
            say(f"best checkpoint: {best}")
        if trainer.logger is not None and trainer.logger.log_dir:
            log_dir = trainer.logger.log_dir
            say(f"logs: {log_dir} (tensorboard --logdir {log_dir})")

    def after_validate(self) -> None:
        say(f"validation: {metrics_line([self.trainer.callback_metrics])}")

    def after_test(self) -> None:
        say(f"test: {metrics_line([self.trainer.callback_metrics])}")

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


def run_lightning_cli(argv: list[str]) -> None:
    ZooCLI(
        LightningModule,
        LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        seed_everything_default=SEED,
        save_config_kwargs={"overwrite": True},
        args=expand_arguments(argv),
        auto_configure_optimizers=False,
    )
