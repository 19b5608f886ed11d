"""Loading what zoo saved, without ever unpickling code: checkpoints hold plain types only."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from zoo.errors import ZooError
from zoo.registry import MODELS


def read_checkpoint(path: str | os.PathLike[str], map_location: str = "cpu") -> dict[str, Any]:
    """A checkpoint's contents, read with `weights_only=True`; a damaged or foreign file is a
    ZooError that names it."""
    path = Path(path)
    if path.is_dir():
        raise ZooError(f"checkpoint {str(path)!r} is a folder; pass the path of a .ckpt file in it")
    if path.is_symlink() and not path.exists():
        raise ZooError(
            f"checkpoint {str(path)!r} is a link to {os.readlink(path)!r}, which was deleted; "
            "pass another .ckpt file (a run keeps last.ckpt as a link to best.ckpt while they are the same)"
        )
    if not path.is_file():
        raise ZooError(f"checkpoint {str(path)!r} does not exist; pass the path of a .ckpt file")
    if path.stat().st_size == 0:
        raise ZooError(f"checkpoint {str(path)!r} is empty; pass a checkpoint that a run saved")
    check_intact(path)
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise ZooError(
            f"checkpoint {str(path)!r} holds objects other than tensors and plain values, which zoo "
            "never loads (loading them could run code); pass a checkpoint written by zoo"
        ) from err
    except (OSError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile) as err:
        raise ZooError(
            f"checkpoint {str(path)!r} is damaged or not a checkpoint ({type(err).__name__}); "
            "pass a complete .ckpt file written by zoo"
        ) from err
    if not isinstance(checkpoint, dict):
        raise ZooError(f"{str(path)!r} is not a checkpoint of a model; pass a .ckpt file written by zoo")
    return checkpoint


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


def checkpoint_model(checkpoint: dict[str, Any], path: str | os.PathLike[str]) -> str:
    """The registered model name a checkpoint was written by."""
    name = checkpoint.get("hyper_parameters", {}).get("net")
    if not isinstance(name, str):
        raise ZooError(f"{str(path)!r} was not written by a zoo model; load it with its own class")
    return name


def load_checkpoint(path: str | os.PathLike[str], map_location: str = "cpu") -> pl.LightningModule:
    """Rebuild the right model from a checkpoint written by any zoo model: its task class is
    found by the model name inside, its weights loaded without unpickling code."""
    checkpoint = read_checkpoint(path, map_location)
    name = checkpoint_model(checkpoint, path)
    hparams = dict(checkpoint["hyper_parameters"])
    model: pl.LightningModule = MODELS.get(name).task(**hparams)
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except (KeyError, RuntimeError) as err:
        raise ZooError(
            f"the weights in {str(path)!r} do not fit model {name!r} ({type(err).__name__}); "
            "pass a checkpoint this version of zoo wrote"
        ) from err
    model.to(map_location).eval()
    model.use_channels_last()  # type: ignore[operator]
    return model
