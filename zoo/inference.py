"""Trained models answering raw inputs: image files to classes, surnames to countries, a
prompt to text, a word to the word it writes, numbers to values; and the plain network exported
as ONNX or TorchScript."""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import zoo
from zoo import checks
from zoo.checkpoints import load_checkpoint
from zoo.datamodules.digit_images import ImageBytes, image_files, prepare_images
from zoo.errors import ZooError
from zoo.files import atomic_write
from zoo.registry import MODELS, build
from zoo.tasks import BinaryTask, ClassificationTask, LanguageModelTask, RegressionTask
from zoo.text import HELLO_INPUT, MAX_NAME_LENGTH, check_name_characters, encode_names, hello_inputs


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
    for name in names:
        check_name_characters(name)
    ids, lengths = encode_names(names, MAX_NAME_LENGTH)
    return finite_tops(model, model.top_labels(ids, lengths, k=k), names)


def transduce(model: pl.LightningModule, text: str = HELLO_INPUT) -> str:
    """The string a hello model writes for `text`, e.g. "ohlol" for "hello" once trained."""
    require_model(model, *MODELS.names("*_hello"))
    assert isinstance(model, ClassificationTask)
    one_hot = bool(MODELS.get(model.zoo_name).datamodule_args.get("one_hot"))
    inputs = hello_inputs(text, one_hot).to(model.device)
    with torch.no_grad():
        logits = model(inputs)
    check_finite(model, logits, text)
    return "".join(model.labels[i] for i in logits.argmax(dim=-1)[0].tolist())


def check_finite(model: pl.LightningModule, output: Tensor, inputs: object) -> None:
    """Refuse an answer that is NaN or infinite: no number is an honest answer then."""
    if not torch.isfinite(output).all():
        bad = output[~torch.isfinite(output)].reshape(-1)[0].item()
        raise ZooError(
            f"model {zoo_name(model)} answered {bad} for {inputs!r}: the input is far outside what it "
            "was trained on, or its weights are broken; pass inputs like its training data, or retrain it"
        )


def finite_tops(model: pl.LightningModule, tops: list[list[tuple[str, float]]], inputs: Sequence[object]
                ) -> list[list[tuple[str, float]]]:
    """`top_labels`' answers, each checked by `check_finite`."""
    for top, given in zip(tops, inputs, strict=True):
        check_finite(model, torch.tensor([p for _, p in top]), str(given))
    return tops


# ---------------------------------------------------------------- any model on raw inputs

IMAGE_NOTE = "image files or folders"


@dataclass
class Row:
    """One answer: the input as given, what the model made of it, how sure it is (a classifier's
    probability of its prediction, a binary model's P(class 1), blank for values and text) and
    the likeliest labels."""

    input: str
    prediction: str
    probability: float | None = None
    top: list[tuple[str, float]] = field(default_factory=list)


def pretrained(name: str) -> pl.LightningModule:
    """Model `name` with the weights zoo ships, from `zoo.pretrained_model` where zoo has it, else
    `build(name, pretrained=True)`; a zoo without pretrained support says so in one line."""
    MODELS.get(name)  # an unknown name is refused with its "did you mean"
    finder: Callable[[str], pl.LightningModule] | None = getattr(zoo, "pretrained_model", None)
    if finder is not None:
        return finder(name).eval()
    try:
        model = build(name, pretrained=True)
    except TypeError:  # this zoo's build takes no `pretrained`
        raise ZooError(f"no pretrained weights for {name} yet; pass --ckpt_path CKPT") from None
    return model.eval()


def load_model(name: str | None, ckpt_path: str | None) -> pl.LightningModule:
    """The checkpoint's model (which must be `name` when both are given), else `name` pretrained."""
    if ckpt_path is None:
        if name is None:
            raise ZooError("which model? pass --model NAME (see 'zoo list') or --ckpt_path CKPT")
        return pretrained(name)
    model = load_checkpoint(ckpt_path)
    held = zoo_name(model)
    if name is not None and held != name:
        raise ZooError(
            f"checkpoint {ckpt_path!r} holds a {held} model, not {name}; "
            f"pass --model {held} or a checkpoint of {name}"
        )
    return model


def zoo_name(model: pl.LightningModule) -> str:
    """The registered name of a zoo model."""
    return str(model.zoo_name)


def network(model: pl.LightningModule) -> nn.Module:
    """The plain network a zoo model wraps."""
    net = model.net
    assert isinstance(net, nn.Module)
    return net


def input_kind(name: str) -> str:
    """What a model's raw inputs are: images, names, prompt, hello, numbers."""
    card = MODELS.get(name)
    if len(card.input_shape) == 3:
        return "images"
    if name == "gru_names":
        return "names"
    if issubclass(card.task, LanguageModelTask):
        return "prompt"
    if name in MODELS.names("*_hello"):
        return "hello"
    if issubclass(card.task, (RegressionTask, BinaryTask)) and None not in card.input_shape:
        return "numbers"
    raise ZooError(f"zoo cannot prepare raw inputs for model {name!r}; use 'zoo predict' with --data")


INPUT_HELP = {
    "images": "image files (PNG, JPEG, ...) or folders of them",
    "names": "surnames, e.g. Nguyen Schmidt",
    "prompt": "text to continue, e.g. 'ROMEO:'",
    "hello": "words of the letters e h l o, e.g. hello",
    "numbers": "numbers, one sample each (comma-separated features for a model of several)",
}


FLOAT32_MAX = float(torch.finfo(torch.float32).max)


def parse_numbers(text: str, features: int) -> list[float]:
    """'1.5' or '0.1,-0.2,...' -> that many floats; anything else is a one-line ZooError."""
    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ZooError(f"input {text!r} is not a number; pass numbers such as 2.5 or -1e-3") from None
    if len(values) != features:
        example = ",".join(["0.5"] * min(features, 3)) + (",..." if features > 3 else "")
        raise ZooError(
            f"input {text!r} has {len(values)} numbers but the model takes {features}; "
            f"pass {features} comma-separated numbers per sample, e.g. {example}"
        )
    if not all(math.isfinite(v) for v in values):
        raise ZooError(f"input {text!r} is not finite; pass finite numbers")
    if any(abs(v) > FLOAT32_MAX for v in values):
        raise ZooError(f"input {text!r} is beyond the float32 range models compute in (±{FLOAT32_MAX:.3g}); "
                       "pass smaller numbers")
    return values


def predict(
    model: pl.LightningModule,
    inputs: Sequence[str],
    k: int = 3,
    length: int = 200,
    temperature: float = 0.8,
    seed: int | None = None,
) -> list[Row]:
    """Rows answering each raw input: an image file's (or folder's) top-k classes, a surname's
    countries, a prompt's continuation, a hello word's written word, a number's predicted
    value or P(class 1)."""
    if not inputs:
        raise ZooError("no inputs given; pass at least one input after the options")
    name = zoo_name(model)
    kind = input_kind(name)
    checks.whole(k, "--top (labels to show)", 1)
    k = min(k, getattr(model, "num_classes", k))  # more than there are: all of them
    model.eval()
    if kind == "images":
        return image_rows(model, image_files(inputs), k)
    if kind == "names":
        tops = top_countries(model, inputs, k=k)
        return [Row(n, top[0][0], top[0][1], top) for n, top in zip(inputs, tops, strict=True)]
    if kind == "prompt":
        assert isinstance(model, LanguageModelTask)
        return [Row(p, model.sample(p, length, temperature, seed)) for p in inputs]
    if kind == "hello":
        return [Row(text, transduce(model, text)) for text in inputs]
    features = int(MODELS.get(name).input_shape[0] or 1)
    x = torch.tensor([parse_numbers(text, features) for text in inputs]).to(model.device)
    with torch.no_grad():
        out = model(x).cpu()
    for text, row in zip(inputs, out, strict=True):
        check_finite(model, row, text)
    if isinstance(model, BinaryTask):
        probs = out.reshape(-1).tolist()
        return [
            Row(t, "1" if p >= 0.5 else "0", p, sorted([("1", p), ("0", 1 - p)], key=lambda c: -c[1]))
            for t, p in zip(inputs, probs, strict=True)
        ]
    return [Row(t, " ".join(f"{v:.6g}" for v in row.tolist())) for t, row in zip(inputs, out, strict=True)]


def image_rows(model: pl.LightningModule, images: Sequence[Path | ImageBytes], k: int = 3) -> list[Row]:
    """Each image's top-k classes, one batch; an image is a file or an upload held in memory,
    which PIL reads alike."""
    assert isinstance(model, ClassificationTask)
    batch = prepare_images(cast(list[Path], list(images)), MODELS.get(zoo_name(model)).input_shape)
    top_k = finite_tops(model, model.top_labels(batch, k=min(k, model.num_classes)), images)
    return [Row(str(image), top[0][0], top[0][1], top) for image, top in zip(images, top_k, strict=True)]


def rows_frame(rows: Sequence[Row]) -> Any:
    """The rows as a pandas DataFrame: input, prediction, probability, then label_i and
    probability_i for each of the top k."""
    import pandas as pd

    records = [row_record(row) for row in rows]
    return pd.DataFrame.from_records(records, columns=list(dict.fromkeys(c for r in records for c in r)))


def row_record(row: Row) -> dict[str, Any]:
    """One row as `zoo predict --output` writes it: input, prediction, probability, then
    label_i and probability_i for each of the top k."""
    record: dict[str, Any] = {"input": row.input, "prediction": row.prediction, "probability": row.probability}
    for i, (label, p) in enumerate(row.top, start=1):
        record[f"label_{i}"] = label
        record[f"probability_{i}"] = p
    return record


def format_table(rows: Sequence[Row]) -> str:
    """A fixed-width table: input, prediction, probability, top-k (label and percent)."""
    header = ("input", "prediction", "probability", "top-k")
    table = [
        (
            row.input if len(row.input) <= 60 else "..." + row.input[-57:],
            row.prediction.replace("\n", "\\n"),
            "" if row.probability is None else f"{row.probability:.4f}",
            "  ".join(f"{label} {100 * p:.1f}%" for label, p in row.top),
        )
        for row in rows
    ]
    columns = [c for c in range(4) if any(r[c] for r in table)]
    widths = {c: max(len(header[c]), *(len(r[c]) for r in table)) for c in columns}
    lines = ["  ".join(header[c].ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns).rstrip() for r in table]
    return "\n".join(lines)


PRECIOUS_FILES = {".ckpt": "checkpoint", ".safetensors": "weights file"}
"""Files no command output may replace, inputs of this command or not."""


def output_path(out: str | Path, option: str, inputs: Sequence[str | Path | None] = ()) -> Path:
    """The file a command will write, checked before any work is done: its folder exists and can
    be written, the path is not itself a folder, and writing it would replace neither one of the
    command's `inputs` (a file named, or a file in a folder named; None is skipped) nor an
    existing checkpoint or weights file. `option` names it in the error."""
    path = Path(out)
    folder = path.parent
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ZooError(f"folder {str(folder)!r} {problem}; pass {option} with a path in an existing folder")
    if path.is_dir():
        raise ZooError(f"{option} {str(path)!r} is a folder; pass a file path, e.g. {str(path / 'out')!r}")
    if not os.access(folder, os.W_OK):
        raise ZooError(f"folder {str(folder)!r} is not writable; pass {option} in a folder that is")
    replaced = replaced_file(path, inputs)
    if replaced:
        raise ZooError(f"{option} {str(path)!r} is {replaced} and would be overwritten; "
                       f"pass {option} with another file name")
    return path


def replaced_file(path: Path, inputs: Sequence[str | Path | None]) -> str | None:
    """What writing the existing file `path` would destroy, in words: one of the inputs, a file
    in an input folder, a checkpoint, a weights file; None when it is none of those."""
    if not path.exists():
        return None
    for given in inputs:
        source = Path(given) if given is not None else None
        if source is None or not source.exists():
            continue
        if source.is_dir() and path.resolve().parent == source.resolve():
            return f"a file in input folder {str(source)!r}"
        if path.samefile(source):
            return "an input of this command"
    kind = PRECIOUS_FILES.get(path.suffix.lower())
    return f"an existing {kind}" if kind else None


def write_csv(rows: Sequence[Row], path: str | Path) -> Path:
    """The rows as CSV (see `rows_frame`) at a path `output_path` has checked."""
    path = Path(path)
    with atomic_write(path) as temporary:
        rows_frame(rows).to_csv(temporary, index=False)
    return path


# ---------------------------------------------------------------- export

EXPORT_FORMATS = ("onnx", "torchscript")
EXAMPLE_LENGTH = 5


def example_input(model: pl.LightningModule, batch_size: int = 1) -> tuple[Tensor, ...]:
    """Inputs of the model's shape to trace its network with: zeros for fixed shapes, a short
    sequence of ids (or one-hot characters) for sequence models, with its lengths for gru_names."""
    card = MODELS.get(zoo_name(model))
    shape = card.input_shape
    if None not in shape:
        return (torch.zeros(batch_size, *(int(s or 0) for s in shape)),)
    ids = torch.arange(1, EXAMPLE_LENGTH + 1).remainder(4).repeat(batch_size, 1)
    if shape != (None,):  # one-hot characters: (N, L, vocab)
        return (F.one_hot(ids % int(shape[-1] or 1), int(shape[-1] or 1)).float(),)
    if len(inspect.signature(network(model).forward).parameters) == 2:  # (ids, lengths)
        return ids + 65, torch.full((batch_size,), EXAMPLE_LENGTH, dtype=torch.long)
    return (ids,)


def export(model: pl.LightningModule, fmt: str, out: str | Path) -> Path:
    """Write the plain network `model.net` as ONNX (batch size, and sequence length where the
    network allows, left dynamic) or TorchScript (traced), for use without zoo."""
    if fmt not in EXPORT_FORMATS:
        raise ZooError(f"unknown export format {fmt!r}; choose one of: {', '.join(EXPORT_FORMATS)}")
    path = output_path(out, "--out")
    net = copy.deepcopy(network(model)).cpu().eval().to(memory_format=torch.contiguous_format)
    example = example_input(model)
    if fmt == "torchscript":
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(net, example)
        with atomic_write(path) as temporary:
            torch.jit.save(traced, str(temporary))
        return path
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ZooError("ONNX export needs the onnx package; pip install -e \".[export]\"") from None
    names = [f"input{i}" for i in range(len(example))]
    axes = {n: {0: "batch"} for n in names} | {"output": {0: "batch"}}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), atomic_write(path) as temporary:
        warnings.simplefilter("ignore")
        torch.onnx.export(net, example, str(temporary), input_names=names, output_names=["output"],
                          dynamic_axes=axes, dynamo=False)
    return path
