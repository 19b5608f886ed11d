"""What `zoo fit|validate|test|predict` takes beyond LightningCLI: registry names and a recipe.

Only `--model`, `--data` and `--recipe` are read here, and only to turn registry names into
classes and the run's defaults; the names are checked against the saved model index, so a
misspelt name is reported before torch or Lightning is imported.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from zoo.cli.listing import current_index
from zoo.errors import ZooError
from zoo.registry import unknown_name_message


@dataclass
class RunArguments:
    """One Lightning command line, split into zoo's part and the part LightningCLI parses."""

    command: str
    model: str | None = None
    data: str | None = None
    recipe: str = "default"
    rest: list[str] = field(default_factory=list)

    @property
    def wants_help(self) -> bool:
        return any(a in ("-h", "--help") or a.startswith("--print_config") for a in self.rest)

    @property
    def has_config(self) -> bool:
        return any(a == "--config" or a.startswith("--config=") for a in self.rest)


def split_arguments(argv: list[str]) -> RunArguments:
    """Take `--model NAME`, `--data NAME` and `--recipe R` out of a command line; a class path
    given to --model or --data stays in LightningCLI's part."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument("--model")
    parser.add_argument("--data")
    parser.add_argument("--recipe")
    try:
        known, rest = parser.parse_known_args(argv[1:])
    except argparse.ArgumentError as err:
        raise ZooError(f"{err}; e.g. --model cnn_mnist") from None
    arguments = RunArguments(argv[0], rest=rest)
    if known.model and "." in known.model:
        arguments.rest = ["--model", known.model, *arguments.rest]
    else:
        arguments.model = known.model
    arguments.data = known.data
    if known.recipe is not None:
        if arguments.model is None:
            raise ZooError("--recipe needs a registered model; pass --model NAME --recipe " + known.recipe)
        arguments.recipe = known.recipe
    if arguments.model is None and not known.model and not arguments.has_config:
        arguments.model = checkpoint_name(rest)
    check_names(arguments)
    if arguments.model is None and not known.model and not arguments.has_config and not arguments.wants_help:
        raise ZooError("which model? pass --model NAME (see 'zoo list'), --ckpt_path CKPT or --config FILE")
    return arguments


def checkpoint_name(rest: list[str]) -> str | None:
    """The model a `--ckpt_path` checkpoint was written by (the checkpoint knows its model, so
    `zoo test --ckpt_path C` needs no --model); None without one. The file is read the safe way."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument("--ckpt_path")
    try:
        path = parser.parse_known_args(rest)[0].ckpt_path
    except argparse.ArgumentError:  # --ckpt_path without a path: LightningCLI says so
        return None
    if not path:
        return None
    from zoo.checkpoints import checkpoint_model, read_checkpoint

    return checkpoint_model(read_checkpoint(path), path)


def check_names(arguments: RunArguments) -> None:
    """Refuse unknown model, datamodule and recipe names from the saved index (no torch needed)."""
    index = current_index()
    models = {entry["name"]: entry for entry in index["models"]}
    if arguments.model is not None and arguments.model not in models:
        raise ZooError(unknown_name_message("model", arguments.model, list(models)))
    data = arguments.data
    datamodules = [entry["name"] for entry in index["datamodules"]]
    if data is not None and "." not in data and data not in datamodules:
        raise ZooError(unknown_name_message("datamodule", data, datamodules))
    if arguments.model is not None:
        recipes = list(models[arguments.model]["recipes"])
        if arguments.recipe not in recipes:
            raise ZooError(
                f"unknown recipe {arguments.recipe!r} for model {arguments.model!r}; choose one of: "
                + ", ".join(recipes)
            )

