"""The one configuration of a training run: recipe, datamodule, trainer, checkpoints, seed.

`zoo fit` lays it beneath the user's command line and config files (as the parser's
defaults), and `zoo.training.fit` and the benchmarks build their runs from it, so the three
cannot drift apart. It is plain data shaped like LightningCLI's config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.registry import DATAMODULES, MODELS, class_path, recipe_for

SEED = 42
RUNS_DIR = "runs"
TRAINER_DEFAULTS: dict[str, Any] = {"log_every_n_steps": 20, "enable_model_summary": False}
"""zoo prints its own one-line summary of the model (parameters and FLOPs) instead of
Lightning's table."""
CHECKPOINT_DEFAULTS: dict[str, Any] = {
    "monitor": "val/loss",
    "mode": "min",
    "filename": "best",
    "save_last": True,
}
"""`best.ckpt` by lowest validation loss to test and share; `last.ckpt` each epoch to resume."""


def datamodule_class_path(data: str) -> str:
    """A registered datamodule name, or a class path given as is."""
    return data if "." in data else class_path(DATAMODULES.get(data).cls)


def run_config(model: str | None = None, recipe: str = "default", data: str | None = None) -> dict[str, Any]:
    """The defaults of a run, nested as LightningCLI's config.

    With a registered `model`: its task and network with the recipe's hyperparameters, its own
    datamodule with the recipe's batch size and arguments (or `data`, a registered name or a
    class path, with the recipe's batch size), the recipe's epochs and the run folder
    `runs/<model>`. Without one, only what every run shares.
    """
    config: dict[str, Any] = {
        "seed_everything": SEED,
        "trainer": dict(TRAINER_DEFAULTS),
        "checkpoint": dict(CHECKPOINT_DEFAULTS),
    }
    if model is None:
        if data is not None:
            config["data"] = {"class_path": datamodule_class_path(data)}
        return config
    card = MODELS.get(model)
    chosen = recipe_for(model, recipe)
    data_args: dict[str, Any] = {"batch_size": chosen.batch_size}
    if data is None:
        data_args |= card.datamodule_args | chosen.data_args
    config["model"] = {
        "class_path": class_path(card.task),
        "init_args": {"net": model, **chosen.model_hparams()},
    }
    config["data"] = {
        "class_path": datamodule_class_path(data or card.datamodule),
        "init_args": data_args,
    }
    config["trainer"] |= {"max_epochs": chosen.max_epochs, "default_root_dir": str(Path(RUNS_DIR) / model)}
    return config
