"""Loading what zoo saved, without ever unpickling code: checkpoints hold plain types only, and
the only classes a checkpoint may name are networks and zoo tasks in modules already importable."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pickle
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch import Tensor, nn

from zoo import checks
from zoo.building import build, build_datamodule
from zoo.errors import ZooError
from zoo.inputs import Inputs
from zoo.registry import DATAMODULES, MODELS, class_path
from zoo.signatures import check_arguments, check_values, init_arguments
from zoo.tasks import Task, network_config


def read_checkpoint(path: str | os.PathLike[str], map_location: str = "cpu") -> dict[str, Any]:
    """A checkpoint's contents, read with `weights_only=True`; a damaged or foreign file is a
    ZooError that names it."""
    path = checks.path(path, "a checkpoint path")
    if path.is_dir():
        raise ZooError(f"checkpoint {str(path)!r} is a folder; pass the path of a .ckpt file in it")
    if path.is_symlink() and not path.exists():
        raise ZooError(
            f"checkpoint {str(path)!r} is a link to {os.readlink(path)!r}, which was deleted; "
            "pass another .ckpt file"
        )
    if not path.is_file():
        raise ZooError(f"checkpoint {str(path)!r} does not exist; pass the path of a .ckpt file")
    if path.stat().st_size == 0:
        raise ZooError(f"checkpoint {str(path)!r} is empty; pass a checkpoint that a run saved")
    if path.name.endswith(".safetensors"):  # torch.load reads any file so named as safetensors
        raise ZooError(safetensors_refusal(path))
    check_intact(path)
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise ZooError(
            f"checkpoint {str(path)!r} holds objects other than tensors and plain values, which zoo "
            "never loads (loading them could run code); pass a checkpoint written by zoo"
        ) from err
    except Exception as err:  # torch's unpickler fails on foreign bytes in many ways (b"junk\n": KeyError)
        raise ZooError(
            f"checkpoint {str(path)!r} is damaged or not a checkpoint ({type(err).__name__}); "
            "pass a complete .ckpt file written by zoo"
        ) from err
    if not isinstance(checkpoint, dict):
        raise ZooError(f"{str(path)!r} is not a checkpoint of a model; pass a .ckpt file written by zoo")
    return checkpoint


def safetensors_refusal(path: Path) -> str:
    """Why a file named .safetensors is no checkpoint: such a file holds a network's tensors alone,
    not which model they are, and a checkpoint renamed so would be read as one and fail."""
    if zipfile.is_zipfile(path):
        return (f"checkpoint {str(path)!r} is named like a safetensors weights file, which torch reads it as; "
                "rename it to end in .ckpt")
    return (f"{str(path)!r} is a safetensors weights file: tensors without the model they belong to, so no "
            "checkpoint; pass a .ckpt file written by zoo (zoo's shipped weights load with --pretrained true)")


def check_intact(path: Path) -> None:
    """Refuse a checkpoint whose bytes changed since it was written: torch saves a zip archive,
    and every member carries a CRC-32 that torch itself does not check when loading."""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        raise ZooError(
            f"checkpoint {str(path)!r} is damaged ({type(err).__name__}); pass a complete .ckpt file"
        ) from err
    if bad is not None:
        raise ZooError(
            f"checkpoint {str(path)!r} is corrupted ({bad} fails its checksum); pass an intact copy"
        )


def hyper_parameters(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> Mapping[str, Any]:
    """The task's arguments a checkpoint holds (none: an empty mapping)."""
    hparams = checkpoint.get("hyper_parameters")
    if hparams is not None and not isinstance(hparams, Mapping):
        raise ZooError(
            f"checkpoint {str(path)!r} holds hyper_parameters of type {type(hparams).__name__}, not a mapping "
            "of the task's arguments; pass a .ckpt file written by zoo"
        )
    return hparams or {}


def checkpoint_net(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> str | dict[str, Any]:
    """The network a checkpoint was written by: a registered model's name, or the `{class_path,
    init_args}` of a network of one's own (its class checked by `trusted_class`, its arguments by
    `plain_arguments`)."""
    net = hyper_parameters(checkpoint, path).get("net")
    if isinstance(net, Mapping) and "class_path" in net:
        config = network_config(net)
        if config is None:
            raise ZooError(f"checkpoint {str(path)!r} holds a network whose class path is not a string; "
                           "pass a .ckpt file written by zoo")
        trusted_class(config["class_path"], nn.Module, "network", path)
        plain_arguments(config["init_args"], config["class_path"], path)
        return config
    if not isinstance(net, str):
        raise ZooError(f"{str(path)!r} was not written by a registered zoo model nor names its network's class; "
                       "load it with its own class (a task of your own network: "
                       "YourTask.load_from_checkpoint(path, net=YourNet()))")
    try:
        MODELS.get(net)
    except ZooError as err:
        raise ZooError(f"checkpoint {str(path)!r} was written by a model this zoo lacks: {err}") from None
    return net


CLASS_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
"""A class path as LightningCLI writes one: dotted Python names, the module's then the class's."""


def trusted_class(path_in_file: Any, base: type, what: str, path: str | os.PathLike[str]) -> type:
    """The class a checkpoint names, only if it is a subclass of `base` in a module that Python
    finds on sys.path as it stands (the checkpoint's own folder is never added to it): anything
    else (a function such as os.system, a class such as subprocess.Popen, a module lying next to
    the checkpoint) is refused by name before it is imported or called."""
    where = f"checkpoint {str(path)!r} names {path_in_file!r} as its {what}"
    if not isinstance(path_in_file, str) or not CLASS_PATH.fullmatch(path_in_file):
        raise ZooError(f"{where}, which is no class path; pass a .ckpt file written by zoo")
    module_name, _, class_name = path_in_file.rpartition(".")
    try:
        found = importlib.util.find_spec(module_name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ZooError(f"{where}, but module {module_name!r} is not importable from sys.path; put the folder "
                       "that holds it on PYTHONPATH (zoo never imports from a checkpoint's folder by itself)")
    try:
        found_class = getattr(importlib.import_module(module_name), class_name, None)
    except Exception as err:  # the user's module failed as it was imported: one line naming it
        raise ZooError(f"{where}, but module {module_name!r} fails to import ({type(err).__name__}: {err}); "
                       "fix the module") from None
    if not (inspect.isclass(found_class) and issubclass(found_class, base)):
        raise ZooError(f"{where}, which is not a subclass of {class_path(base)}: zoo builds nothing else from a "
                       "checkpoint; pass a .ckpt file written by zoo")
    return found_class


def plain_arguments(init_args: Mapping[str, Any], net_path: str, path: str | os.PathLike[str]) -> None:
    """Refuse a network argument in a checkpoint that is not a plain value (checked before the
    class is ever called)."""
    for key, value in init_args.items():
        if not isinstance(key, str) or not checks.is_plain(value):
            raise ZooError(f"checkpoint {str(path)!r} holds argument {str(key)!r} of network {net_path!r} as a "
                           f"{type(value).__name__}, not a plain value (text, number, list, mapping); pass a "
                           ".ckpt file written by zoo")


def is_bookkeeping(key: str) -> bool:
    """Keys Lightning stores beside a task's arguments (LightningCLI's `_class_path` and
    `_instantiator`, say): Python arguments never start with an underscore."""
    return key.startswith("_")


@dataclass(frozen=True)
class Written:
    """What rebuilds a checkpoint's model: its task class and the task's arguments; `name` names
    the model in messages (a registered name, or its own network's class path), and `network` is
    the `{class_path, init_args}` of a network of one's own (None for a registered model)."""

    task: type[Task]
    arguments: dict[str, Any]
    name: str
    network: dict[str, Any] | None = None


def checkpoint_task(checkpoint: Mapping[str, Any], path: str | os.PathLike[str],
                    net: str | dict[str, Any]) -> type[Task]:
    """The task class: a registered model's own; for a network of one's own, the class path
    LightningCLI stored beside the task's arguments (`_class_path`), which must name a zoo task."""
    if isinstance(net, str):
        task: type[Task] = MODELS.get(net).task
        return task
    held = hyper_parameters(checkpoint, path).get("_class_path")
    if held is None:
        raise ZooError(f"checkpoint {str(path)!r} holds network {net['class_path']!r} but names no task class; "
                       "pass a checkpoint written by 'zoo fit'")
    return trusted_class(held, Task, "task", path)


def task_arguments(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> Written:
    """The task and the arguments it is rebuilt with, whoever wrote the checkpoint (`zoo fit`,
    `zoo.training.fit`, a Trainer of the user's own): Lightning's bookkeeping keys are dropped,
    any other key the task does not take is refused by name."""
    net = checkpoint_net(checkpoint, path)
    task = checkpoint_task(checkpoint, path, net)
    name = net if isinstance(net, str) else str(net["class_path"])
    hparams = hyper_parameters(checkpoint, path)
    arguments = {k: v for k, v in hparams.items() if not is_bookkeeping(str(k))}
    accepted = set(init_arguments(task))
    unknown = sorted(str(k) for k in arguments if k not in accepted)
    if unknown:
        raise ZooError(
            f"checkpoint {str(path)!r} holds hyperparameter {unknown[0]!r}, which model {name!r} does not take; "
            "pass a checkpoint written by this version of zoo"
        )
    if isinstance(net, str):
        return Written(task, arguments, name)
    return Written(task, arguments | {"net": net}, name, net)


def checked_weights(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> dict[str, Tensor]:
    """The state dict, refused unless it maps names to finite tensors."""
    state = checkpoint.get("state_dict")
    if not isinstance(state, Mapping):
        got = "none" if state is None else f"a {type(state).__name__}"
        raise ZooError(f"checkpoint {str(path)!r} holds {got} as its state_dict, not a mapping of tensors; "
                       "pass a .ckpt file written by zoo")
    for key, tensor in state.items():
        if not isinstance(tensor, Tensor):
            raise ZooError(f"checkpoint {str(path)!r} holds a {type(tensor).__name__} as weight {str(key)!r}, "
                           "not a tensor; pass a .ckpt file written by zoo")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ZooError(
                f"checkpoint {str(path)!r} holds non-finite weights (NaN or inf) in {str(key)!r}: the run "
                "diverged; pass a checkpoint saved before that, or train again with a lower --model.lr"
            )
    return dict(state)


def built_model(written: Written, path: str | os.PathLike[str], device: str | torch.device) -> pl.LightningModule:
    """The checkpoint's task built with its arguments (a network of one's own built first, from
    its checked class and arguments); a value of the wrong type or range is one line naming the
    file."""
    name = written.name
    try:
        with torch.device(device):
            model: pl.LightningModule = written.task(**written.arguments | own_network(written, path))
    except ZooError as err:
        raise ZooError(f"checkpoint {str(path)!r} cannot rebuild model {name!r}: {err}") from None
    except (TypeError, ValueError, AttributeError, RuntimeError, OverflowError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ZooError(
            f"checkpoint {str(path)!r} holds hyperparameters that cannot build model {name!r} ({reason}); "
            "pass a .ckpt file written by zoo"
        ) from None
    if written.network is not None:
        model.hparams["net"] = written.network  # as LightningCLI recorded it, for the checkpoints it saves
    return model


def own_network(written: Written, path: str | os.PathLike[str]) -> dict[str, nn.Module]:
    """`{"net": network}` for a network of one's own (its class and arguments checked before it
    is called, as `zoo.signatures` checks any constructor's); nothing for a registered model."""
    if written.network is None:
        return {}
    cls = trusted_class(written.network["class_path"], nn.Module, "network", path)
    init_args = written.network["init_args"]
    check_arguments(cls, init_args, f"network {written.name!r}")
    check_values(cls, init_args, f"network {written.name!r}")
    net: nn.Module = cls(**init_args)
    return {"net": net}


def checked_checkpoint(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> Written:
    """Validate a checkpoint before anything real is built: its arguments, its weights, and that
    the network they describe (built on the meta device, which allocates nothing) has exactly
    the weights' names and shapes, so no size in it allocates more than the file holds."""
    written = task_arguments(checkpoint, path)
    weights = checked_weights(checkpoint, path)
    expected = {k: tuple(v.shape) for k, v in built_model(written, path, "meta").state_dict().items()}
    held = {k: tuple(v.shape) for k, v in weights.items()}
    if expected != held:
        key = (sorted(set(expected) ^ set(held)) or sorted(k for k in expected if expected[k] != held[k]))[0]
        raise ZooError(
            f"the weights in {str(path)!r} do not fit model {written.name!r} built with the checkpoint's own "
            f"hyperparameters ({key!r}: {shape_text(expected.get(key))} in the model, {shape_text(held.get(key))} "
            "in the file); pass a checkpoint this version of zoo wrote"
        )
    return written


def trained_data(checkpoint: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The registered datamodule a checkpoint's model was trained on, with its arguments, as
    LightningCLI recorded them (`datamodule_hyper_parameters`); None where the checkpoint does not
    say, or names a datamodule zoo has not registered (never imported from a checkpoint)."""
    hparams = checkpoint.get("datamodule_hyper_parameters")
    if not isinstance(hparams, Mapping) or not isinstance(held := hparams.get("_class_path"), str):
        return None
    name = next((n for n in DATAMODULES.names() if class_path(DATAMODULES.get(n).cls) == held), None)
    if name is None:
        return None
    return name, {str(k): v for k, v in hparams.items() if not is_bookkeeping(str(k))}


def data_inputs(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> Inputs | None:
    """What raw inputs the data a checkpoint's model was trained on takes (`raw_inputs` of its
    datamodule), for a network that does not say; None where the checkpoint or the data do not say."""
    data = trained_data(checkpoint)
    if data is None:
        return None
    name, arguments = data
    try:
        datamodule = build_datamodule(name, **arguments)
    except ZooError as err:
        raise ZooError(f"checkpoint {str(path)!r} names data it cannot rebuild: {err}") from None
    inputs: Inputs | None = getattr(datamodule, "raw_inputs", None)
    return inputs


def shape_text(shape: tuple[int, ...] | None) -> str:
    return "absent" if shape is None else "x".join(map(str, shape)) or "a scalar"


def load_checkpoint(path: str | os.PathLike[str], map_location: str = "cpu") -> pl.LightningModule:
    """Rebuild the right model from a checkpoint written by any zoo model, however it was trained,
    or by `zoo fit` of a network of one's own (its class path and arguments inside, its raw inputs
    from the data it was trained on): everything is validated before the model is built, and the
    weights are loaded without unpickling code."""
    checkpoint = read_checkpoint(path, map_location)
    written = checked_checkpoint(checkpoint, path)
    model = built_model(written, path, "cpu")
    if written.network is not None and isinstance(model, Task) and model.own_inputs is None:
        model.own_inputs = data_inputs(checkpoint, path)
    model.load_state_dict(checkpoint["state_dict"])
    model.to(map_location).eval()
    model.use_channels_last()  # type: ignore[operator]
    return model


def load_model(name: str | None, ckpt_path: str | None) -> Task:
    """The model a command uses: the checkpoint's (which must be `name` when both are given), else
    `name` with zoo's shipped weights."""
    if ckpt_path is None:
        if name is None:
            raise ZooError("which model? pass --model NAME (see 'zoo list') or --ckpt_path CKPT")
        model = build(name, pretrained=True).eval()
    else:
        model = load_checkpoint(ckpt_path)
        held = str(getattr(model, "display_name", ""))
        if name is not None and held != name:
            raise ZooError(
                f"checkpoint {ckpt_path!r} holds a {held} model, not {name}; "
                f"pass --model {held} or a checkpoint of {name}"
            )
    assert isinstance(model, Task)
    return model
