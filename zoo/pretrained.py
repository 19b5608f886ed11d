"""Pretrained weights shipped inside the package: one safetensors file per network, each with a
card (`zoo/weights/cards.json`) that says how it was made and what it scores.

A file is checked against its card's sha256 before it is read, and safetensors holds tensors
only, so loading weights never runs code. `zoo weights build` writes both.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.errors import ZooError

if TYPE_CHECKING:
    from torch import Tensor

CARDS_FILE = "cards.json"
HEADLINE_METRICS = ("test/acc", "test/bpc", "test/mae")
"""The metric a card is summed up by, the first its model reports."""
PER_CLASS = {"test/bal_acc": "balanced", "test/macro_f1": "macro F1"}
"""The figures that weigh every class alike, shown beside a classifier's accuracy."""


def weights_dir() -> Path:
    return Path(str(resources.files("zoo").joinpath("weights")))


def cards(folder: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every shipped card by model name; none when no weights have been built."""
    path = (folder or weights_dir()) / CARDS_FILE
    if not path.is_file():
        return {}
    fix = "reinstall zoo (pip install --force-reinstall), or rebuild the weights and cards with 'zoo weights build'"
    try:
        loaded = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as err:
        raise ZooError(f"cannot read the weight cards {path} ({err.strerror}); {fix}") from None
    except UnicodeDecodeError as err:
        raise ZooError(f"the weight cards {path} are damaged (not UTF-8: {err.reason}); {fix}") from None
    except json.JSONDecodeError as err:
        raise ZooError(f"the weight cards {path} are damaged (not JSON: {err.msg}, line {err.lineno} column "
                       f"{err.colno}); {fix}") from None
    if not isinstance(loaded, dict) or not all(isinstance(card, dict) for card in loaded.values()):
        raise ZooError(f"the weight cards {path} are damaged (not an object of one card per model); {fix}")
    return loaded


def weights_card(name: str, folder: Path | None = None) -> dict[str, Any]:
    found = cards(folder).get(name)
    if found is None:
        raise ZooError(
            f"no pretrained weights for {name!r} in this zoo; make them with 'zoo weights build {name}' "
            "or pass a checkpoint with --ckpt_path"
        )
    return found


def headline(card: dict[str, Any]) -> str:
    """'test/acc 0.9910 (balanced 0.9908, macro F1 0.9905) on 1,000 mnist test rows', the card's main
    figure and what it was measured on (`measured_on`): a classifier's balanced accuracy and macro
    F1 beside its accuracy, so a model that serves only its largest classes shows."""
    metrics = card["test"]
    key = next((k for k in HEADLINE_METRICS if k in metrics), sorted(metrics)[0])
    per_class = ", ".join(f"{label} {metrics[metric]:.4f}" for metric, label in PER_CLASS.items() if metric in metrics)
    return f"{key} {metrics[key]:.4f}" + (f" ({per_class})" if per_class else "") + f" on {measured_on(card)}"


def measured_on(card: dict[str, Any]) -> str:
    """What the card's test figures were measured on, in words: how many rows, of which data, held
    out from which weights, and how many of them the weights had seen in training anyway (a
    duplicate row, or data too small to hold any out); every surface that shows a card's figure
    says this beside it."""
    data = card["data"]
    twin = "twin_split_sizes" in data
    rows = (data["twin_split_sizes"] if twin else data["split_sizes"])["test"]
    what = f"{rows:,} {data['datamodule']} test row{'s' if rows != 1 else ''}"
    if twin:
        what = f"a twin's {what} (trained alike without them; these weights saw every row)"
    seen = card.get("test_rows_seen")
    if seen:
        what += f", {'all ' if seen == rows else f'{seen:,} of them '}seen in training"
    return what


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_state(name: str, folder: Path | None = None) -> dict[str, Tensor]:
    """The network state of model `name`, after checking the file against its card's hash."""
    from safetensors.torch import load

    card = weights_card(name, folder)
    path = (folder or weights_dir()) / card["file"]
    if not path.is_file():
        raise ZooError(f"pretrained weights file {path} is missing; reinstall zoo or run 'zoo weights build {name}'")
    data = path.read_bytes()
    if sha256(data) != card["sha256"]:
        raise ZooError(
            f"pretrained weights file {path} does not match its card's sha256 (changed or damaged); "
            f"reinstall zoo or run 'zoo weights build {name}'"
        )
    return load(data)
