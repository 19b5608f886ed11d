"""Registry names inside LightningCLI's parser: `--model NAME`, `--data NAME`, `--recipe R` and a
`--ckpt_path` that knows its model are parsed where they stand on the command line, so
LightningCLI's order holds (a later option or `--config` wins over an earlier one).

`--model NAME` stands for the model part of the run configuration (`zoo.runs.run_config`): its
task with the recipe's hyperparameters; it also fills what the run still lacks from the same
configuration (the model's datamodule, its epochs and run folder), never what an earlier option
or config file set. `--recipe R` applies a recipe to the model named so far (or the one named
next). `--data NAME` is a registered datamodule with the recipe's batch size. Class paths and
config files given to `--model` and `--data` are LightningCLI's, unchanged.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from zoo.errors import ZooError
from zoo.registry import DATAMODULES, MODELS, class_path, recipe_for
from zoo.runs import run_config


def is_name(value: object) -> bool:
    """A registry name, not a class path, a config file or inline YAML/JSON."""
    return isinstance(value, str) and value.isidentifier()


def current_model(namespace: Any) -> str | None:
    """The registered model named so far in this parse, if any."""
    model = namespace.get("model")
    init = model.get("init_args") if model is not None and hasattr(model, "get") else None
    net = init.get("net") if init is not None else None
    return net if isinstance(net, str) and net in MODELS else None


def recipe_of(namespace: Any) -> str:
    return str(namespace.get("recipe") or "default")


def with_name(action: argparse.Action, resolve: Any) -> None:
    """Make a LightningCLI argument also take a registry name: `resolve(parser, namespace, name,
    parse)` handles it, `parse(value)` being the argument's own parsing of a value."""
    base = type(action)
    option = action.option_strings[0]

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        given_as = args[3] if len(args) > 3 else kwargs.get("option_string")
        if len(args) >= 3 and given_as == option and is_name(args[2]):  # not --model.lr 0.1
            parser, namespace, name = args[:3]

            def parse(value: dict[str, Any]) -> None:
                base.__call__(self, parser, namespace, json.dumps(value), *args[3:], **kwargs)

            return resolve(parser, namespace, name, parse)
        return base.__call__(self, *args, **kwargs)

    action.__class__ = type(f"Named{base.__name__}", (base,), {"__call__": call})


def model_by_name(parser: Any, namespace: Any, name: str, parse: Any) -> None:
    """`--model NAME`: the model's task with the recipe's hyperparameters, replacing whatever model
    came before; its datamodule, epochs and run folder where nothing set them yet, or where they
    are the previous model's own (`--config run.yaml --model other`), never a value chosen apart."""
    MODELS.get(name)
    recipe = recipe_of(namespace)
    recipe_for(name, recipe)
    config = run_config(name, recipe)
    previous = current_model(namespace)
    before = run_config(previous, recipe) if previous and recipe in MODELS.get(previous).recipes else None
    namespace["model"] = None  # nothing of an earlier model carries over to this one
    parse(config["model"])
    if follows_model(namespace.get("data"), before and before["data"]):
        namespace["data"] = None
        parser._option_string_actions["--data"](parser, namespace, json.dumps(config["data"]), "--data")
    for key in ("max_epochs", "default_root_dir"):
        value = namespace.get(f"trainer.{key}")
        if value is None or (before and value == before["trainer"][key]):
            namespace[f"trainer.{key}"] = config["trainer"][key]


def follows_model(data: Any, own: dict[str, Any] | None) -> bool:
    """Whether the run's datamodule is unset, or is the previous model's own as its run
    configuration gives it (so it follows a new model rather than stay behind)."""
    if data is None:
        return True
    if not own or data.get("class_path") != own["class_path"]:
        return False
    init = data.get("init_args") or {}
    return all(init.get(key) == value for key, value in own.get("init_args", {}).items())


def data_by_name(parser: Any, namespace: Any, name: str, parse: Any) -> None:
    """`--data NAME`: a registered datamodule, with the batch size of the model's recipe."""
    DATAMODULES.get(name)
    model = current_model(namespace)
    config = run_config(model, recipe_of(namespace), data=name) if model else run_config(data=name)
    namespace["data"] = None
    parse(config["data"])


class RecipeAction(argparse.Action):
    """`--recipe R`: the recipe's hyperparameters, batch size, data arguments and epochs on the
    model named so far; before any model, kept for the one named next."""

    def __call__(self, parser: Any, namespace: Any, value: Any, option_string: str | None = None) -> None:
        namespace["recipe"] = value
        model = current_model(namespace)
        if model is None:
            return
        recipe_for(model, value)
        config = run_config(model, value)
        for key, setting in config["model"]["init_args"].items():
            namespace[f"model.init_args.{key}"] = setting
        data = namespace.get("data")
        if data is not None and data.get("class_path") == config["data"]["class_path"]:
            for key, setting in config["data"]["init_args"].items():
                namespace[f"data.init_args.{key}"] = setting
        namespace["trainer.max_epochs"] = config["trainer"]["max_epochs"]


def model_from_checkpoint(action: argparse.Action) -> None:
    """`--ckpt_path C` with no model named so far names the checkpoint's own (read the safe way),
    so `zoo test --ckpt_path C` needs no --model; a model named after it still wins. A checkpoint
    of a network of one's own names its task and network, and, where no data is named yet, the
    registered datamodule it was trained on."""
    base = type(action)

    def call(self: Any, parser: Any, namespace: Any, value: Any, *rest: Any, **kwargs: Any) -> Any:
        base.__call__(self, parser, namespace, value, *rest, **kwargs)
        if value and namespace.get("model") is None:
            from zoo.checkpoints import checkpoint_net, read_checkpoint, task_arguments, trained_data

            checkpoint = read_checkpoint(value)
            net = checkpoint_net(checkpoint, value)
            if isinstance(net, str):
                parser._option_string_actions["--model"](parser, namespace, net, "--model")
                return
            written = task_arguments(checkpoint, value)  # its classes checked before the parser imports them
            model = {"class_path": class_path(written.task), "init_args": written.arguments}
            parser._option_string_actions["--model"](parser, namespace, json.dumps(model), "--model")
            data = trained_data(checkpoint)
            if data is not None and namespace.get("data") is None:
                config = {"class_path": class_path(DATAMODULES.get(data[0]).cls), "init_args": data[1]}
                parser._option_string_actions["--data"](parser, namespace, json.dumps(config), "--data")

    action.__class__ = type(f"Checkpoint{base.__name__}", (base,), {"__call__": call})


def add_names(parser: Any) -> None:
    """Teach a LightningCLI (sub)command parser zoo's names, and say so in its --help."""
    actions = parser._option_string_actions
    with_name(actions["--model"], model_by_name)
    with_name(actions["--data"], data_by_name)
    models = MODELS.names()
    recipes = sorted({recipe for name in models for recipe in MODELS.get(name).recipes})
    actions["--model"].help = (f"a registered model ({', '.join(models)}; 'zoo list' describes them), or a "
                               "LightningModule class path or config. Options after it change it")
    actions["--data"].help = (f"a registered datamodule ({', '.join(DATAMODULES.names())}), or a "
                              "LightningDataModule class path or config (default: the model's own)")
    parser.add_argument("--recipe", action=RecipeAction, default="default",
                        help=f"the model's recipe of hyperparameters and epochs, one of its own: {', '.join(recipes)} "
                             "('zoo list --json' gives each model's)")
    if "--ckpt_path" in actions:
        model_from_checkpoint(actions["--ckpt_path"])


def which_model(namespace: Any) -> None:
    """Refuse a run that names no model, saying how to name one."""
    if namespace.get("model") is None:
        raise ZooError("which model? pass --model NAME (see 'zoo list'), --ckpt_path CKPT or --config FILE")
