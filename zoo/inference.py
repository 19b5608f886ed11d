"""Trained models answering raw inputs: surnames to countries, a word to the word it writes."""

from __future__ import annotations

from collections.abc import Sequence

import lightning.pytorch as pl
import torch

from zoo.errors import ZooError
from zoo.registry import MODELS
from zoo.tasks import ClassificationTask
from zoo.text import HELLO_INPUT, MAX_NAME_LENGTH, encode_names, hello_inputs


def require_model(model: pl.LightningModule, *names: str) -> None:
    """Refuse a model that is not one of `names` in one line naming both."""
    name = getattr(model, "zoo_name", type(model).__name__)
    if name not in names:
        raise ZooError(f"the checkpoint holds a {name} model; pass a checkpoint of {' or '.join(names)}")


def top_countries(model: pl.LightningModule, names: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
    """For each surname, its `k` likeliest countries with their probabilities, best first.

    Names are read as in training (`zoo.text.ascii_codes`): accents folded away ("Müller" ->
    "Muller"), any other non-ASCII character -> the reserved id 26, clipped to 32 characters.
    """
    require_model(model, "gru_names")
    assert isinstance(model, ClassificationTask)
    ids, lengths = encode_names(names, MAX_NAME_LENGTH)
    return model.top_labels(ids, lengths, k=k)


def transduce(model: pl.LightningModule, text: str = HELLO_INPUT) -> str:
    """The string a hello model writes for `text`, e.g. "ohlol" for "hello" once trained."""
    require_model(model, *MODELS.names("*_hello"))
    assert isinstance(model, ClassificationTask)
    one_hot = bool(MODELS.get(model.zoo_name).datamodule_args.get("one_hot"))
    inputs = hello_inputs(text, one_hot).to(model.device)
    with torch.no_grad():
        logits = model(inputs)
    return "".join(model.labels[i] for i in logits.argmax(dim=-1)[0].tolist())
