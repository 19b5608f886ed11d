"""Loading what zoo saved, without ever unpickling code: checkpoints hold plain types only."""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch import Tensor

from zoo import checks
from zoo.building import build
from zoo.errors import ZooError
from zoo.registry import MODELS
from zoo.signatures import init_arguments
from zoo.tasks import Task


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


def checkpoint_model(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> str:
    """The registered model name a checkpoint was written by."""
    hparams = checkpoint.get("hyper_parameters")
    if hparams is not None and not isinstance(hparams, Mapping):
        raise ZooError(
            f"checkpoint {str(path)!r} holds hyper_parameters of type {type(hparams).__name__}, not a mapping "
            "of the task's arguments; pass a .ckpt file written by zoo"
        )
    name = (hparams or {}).get("net")
    if not isinstance(name, str):
        raise ZooError(f"{str(path)!r} was not written by a registered zoo model; load it with its own class "
                       "(a task of your own network: YourTask.load_from_checkpoint(path, net=YourNet()))")
    try:
        MODELS.get(name)
    except ZooError as err:
        raise ZooError(f"checkpoint {str(path)!r} was written by a model this zoo lacks: {err}") from None
    return name


def is_bookkeeping(key: str) -> bool:
    """Keys Lightning stores beside a task's arguments (LightningCLI's `_class_path` and
    `_instantiator`, say): Python arguments never start with an underscore."""
    return key.startswith("_")


def task_arguments(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """The model name and the arguments its task is rebuilt with, whoever wrote the checkpoint
    (`zoo fit`, `zoo.training.fit`, a Trainer of the user's own): Lightning's bookkeeping keys are
    dropped, any other key the task does not take is refused by name."""
    name = checkpoint_model(checkpoint, path)
    arguments = {k: v for k, v in checkpoint["hyper_parameters"].items() if not is_bookkeeping(str(k))}
    accepted = set(init_arguments(MODELS.get(name).task))
    unknown = sorted(str(k) for k in arguments if k not in accepted)
    if unknown:
        raise ZooError(
            f"checkpoint {str(path)!r} holds hyperparameter {unknown[0]!r}, which model {name!r} does not take; "
            "pass a checkpoint written by this version of zoo"
        )
    return name, arguments


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


def built_model(name: str, arguments: dict[str, Any], path: str | os.PathLike[str],
                device: str | torch.device) -> pl.LightningModule:
    """Model `name`'s task built with a checkpoint's arguments; a value of the wrong type or
    range is one line naming the file."""
    try:
        with torch.device(device):
            model: pl.LightningModule = MODELS.get(name).task(**arguments)
    except ZooError as err:
        raise ZooError(f"checkpoint {str(path)!r} cannot rebuild model {name!r}: {err}") from None
    except (TypeError, ValueError, AttributeError, RuntimeError, OverflowError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ZooError(
            f"checkpoint {str(path)!r} holds hyperparameters that cannot build model {name!r} ({reason}); "
            "pass a .ckpt file written by zoo"
        ) from None
    return model


def checked_checkpoint(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """Validate a checkpoint before anything real is built: its arguments, its weights, and that
    the network they describe (built on the meta device, which allocates nothing) has exactly
    the weights' names and shapes, so no size in it allocates more than the file holds."""
    name, arguments = task_arguments(checkpoint, path)
    weights = checked_weights(checkpoint, path)
    expected = {k: tuple(v.shape) for k, v in built_model(name, arguments, path, "meta").state_dict().items()}
    held = {k: tuple(v.shape) for k, v in weights.items()}
    if expected != held:
        key = (sorted(set(expected) ^ set(held)) or sorted(k for k in expected if expected[k] != held[k]))[0]
        raise ZooError(
            f"the weights in {str(path)!r} do not fit model {name!r} built with the checkpoint's own "
            f"hyperparameters ({key!r}: {shape_text(expected.get(key))} in the model, {shape_text(held.get(key))} "
            "in the file); pass a checkpoint this version of zoo wrote"
        )
    return name, arguments


def shape_text(shape: tuple[int, ...] | None) -> str:
    return "absent" if shape is None else "x".join(map(str, shape)) or "a scalar"


def load_checkpoint(path: str | os.PathLike[str], map_location: str = "cpu") -> pl.LightningModule:
    """Rebuild the right model from a checkpoint written by any zoo model, however it was trained:
    its task is found by the model name inside, everything is validated before the model is
    built, and the weights are loaded without unpickling code."""
    checkpoint = read_checkpoint(path, map_location)
    name, arguments = checked_checkpoint(checkpoint, path)
    model = built_model(name, arguments, path, "cpu")
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
        held = str(getattr(model, "zoo_name", ""))
        if name is not None and held != name:
            raise ZooError(
                f"checkpoint {ckpt_path!r} holds a {held} model, not {name}; "
                f"pass --model {held} or a checkpoint of {name}"
            )
    assert isinstance(model, Task)
    return model
