"""Where `zoo serve` meets the contract on a model's card, and nowhere else: what a model takes
(its card's `inputs`), the request body that carries it, the answer rows (the task's `answer`,
with the fields of `zoo predict --output`) and the limits a request must keep.

The server never looks at a model's name to decide how to read a request: the kind of input
on its card does.
"""

from __future__ import annotations

import base64
import binascii
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import lightning.pytorch as pl
from pydantic import BaseModel, ConfigDict, Field

from zoo.answers import Row, row_record
from zoo.checkpoints import load_model
from zoo.errors import ZooError
from zoo.inputs import Inputs
from zoo.inputs.images import ImageBytes
from zoo.pretrained import headline, weights_card
from zoo.registry import MODELS
from zoo.tasks import LanguageModelTask, Task

MAX_BODY_BYTES = 1_048_576
"""A request body larger than 1 MiB is refused (413) before it is read to the end."""
MAX_IMAGE_BYTES = 750_000
"""An image file of up to 750 kB (1 MB as base64, within the body limit)."""
MAX_TEXT = 20_000
"""Characters of a surname, a hello word or a line of numbers (two_layer_net takes 1000)."""
MAX_PROMPT = 1_000
MAX_LENGTH = 2_000
"""Characters a prompt may be continued by: about a second of generation on one CPU core."""
MAX_TOP = 100


def max_pixels() -> int:
    """Pillow's decompression-bomb limit (`PIL.Image.MAX_IMAGE_PIXELS`), read when used so that
    a deployment that changes it changes ours."""
    from PIL import Image

    return int(Image.MAX_IMAGE_PIXELS or 0)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImageRequest(Body):
    image: str = Field(
        min_length=1,
        max_length=4 * MAX_IMAGE_BYTES // 3 + 100,
        description="the image file (PNG, JPEG, ...) as base64, or a data URL (canvas.toDataURL())",
    )
    top: int = Field(3, ge=1, le=MAX_TOP, description="how many likeliest labels to answer")


class TextRequest(Body):
    input: str = Field(min_length=1, max_length=MAX_TEXT, description="the input as `zoo predict` takes it")
    top: int = Field(3, ge=1, le=MAX_TOP, description="how many likeliest labels to answer")


class PromptRequest(Body):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT, description="text to continue, e.g. 'ROMEO:'")
    length: int = Field(200, ge=0, le=MAX_LENGTH, description="characters to write")
    temperature: float = Field(0.8, gt=0, le=100, allow_inf_nan=False, description="sampling temperature")
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="the same seed, the same text")


REQUESTS: dict[str, type[Body]] = {"images": ImageRequest, "prompt": PromptRequest}
"""The body of each kind of input that is not text (`TextRequest`), which every other kind is."""


def card_inputs(name: str) -> Inputs:
    """The raw inputs model `name`'s card says it takes; a model whose card says none is not served."""
    inputs = MODELS.get(name).inputs
    if inputs is None:
        raise ZooError(f"model {name!r} does not say what raw inputs it takes, so it cannot be served; "
                       "register it with inputs=... (see zoo.inputs)")
    return inputs


@dataclass
class Refusal:
    """A request answered with a 4xx status and one line naming the problem."""

    status: int
    detail: str


def request_body(name: str) -> type[Body]:
    """The body `POST /predict/<name>` takes."""
    return REQUESTS.get(card_inputs(name).kind, TextRequest)


def streams(name: str) -> bool:
    """Whether the model writes text, streamed as it is drawn."""
    return request_body(name) is PromptRequest


def load(name: str | None, ckpt_path: str | None) -> pl.LightningModule:
    """The model an endpoint serves: pretrained, or a checkpoint loaded the safe way."""
    return load_model(name, ckpt_path).eval()


def served_name(model: pl.LightningModule) -> str:
    return str(model.zoo_name)


def too_big(size: int) -> Refusal | None:
    """An image file of `size` bytes refused, if over the limit (as base64 or uploaded)."""
    if size > MAX_IMAGE_BYTES:
        return Refusal(413, f"image is {size:,} bytes, over the limit of {MAX_IMAGE_BYTES:,}; send a smaller file")
    return None


def image_bytes(request: ImageRequest) -> ImageBytes | Refusal:
    """The uploaded file, refused when it is not base64 or has more pixels than Pillow allows."""
    from PIL import Image, UnidentifiedImageError

    text = request.image.split(",", 1)[1] if request.image.startswith("data:") else request.image
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return Refusal(400, "image is not base64; send the image file's bytes base64-encoded")
    if (big := too_big(len(data))) is not None:
        return big
    upload = ImageBytes(data, "upload")
    limit = f"over the limit of {max_pixels():,}; send a smaller image"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            width, height = Image.open(upload).size
    except Image.DecompressionBombError:  # Pillow refuses twice its limit outright
        return Refusal(413, f"image has more than {2 * max_pixels():,} pixels, {limit}")
    except (UnidentifiedImageError, OSError, ValueError):
        width, height = 0, 0  # prepare_image refuses it in its own words
    upload.seek(0)
    if width * height > max_pixels():
        return Refusal(413, f"image is {width}x{height} = {width * height:,} pixels, {limit}")
    return upload


def raw_input(request: Body) -> str | ImageBytes | Refusal:
    """What `zoo predict` would be given for this request."""
    if isinstance(request, ImageRequest):
        return image_bytes(request)
    assert isinstance(request, TextRequest)
    return request.input


def answer(model: pl.LightningModule, requests: Sequence[Body]) -> list[dict[str, Any] | Refusal]:
    """One answer per request, batched through the model; a request the model refuses is answered
    400 on its own, and the others in its batch are still answered."""
    raws = [raw_input(r) for r in requests]
    k = max(getattr(r, "top", 3) for r in requests)
    rows: dict[int, Row | Refusal] = {i: raw for i, raw in enumerate(raws) if isinstance(raw, Refusal)}
    good = [i for i in range(len(raws)) if i not in rows]
    try:
        rows |= dict(zip(good, answer_rows(model, [raws[i] for i in good], k), strict=True)) if good else {}
    except ZooError:  # one request spoilt the batch: answer each alone to find it
        rows |= {i: one_row(model, raws[i], k) for i in good}
    return [
        found if isinstance(found, Refusal) else row_record(top_k(found, getattr(request, "top", k)))
        for request, found in zip(requests, (rows[i] for i in range(len(raws))), strict=True)
    ]


def answer_rows(model: pl.LightningModule, raws: Sequence[str | ImageBytes | Refusal], k: int) -> list[Row]:
    """`zoo predict`'s rows for raw inputs: uploaded images, or text as the command line takes it."""
    assert isinstance(model, Task)
    return model.answer([raw for raw in raws if not isinstance(raw, Refusal)], k=k)


def one_row(model: pl.LightningModule, raw: str | ImageBytes | Refusal, k: int) -> Row | Refusal:
    """A single request's row, or its refusal in the model's own words."""
    try:
        return answer_rows(model, [raw], k)[0]
    except ZooError as err:
        return Refusal(400, str(err))


def top_k(row: Row, k: int) -> Row:
    return Row(row.input, row.prediction, row.probability, row.top[:k])


def write(model: pl.LightningModule, request: PromptRequest) -> Iterator[str]:
    """The prompt's continuation, character by character; a prompt the model refuses (a
    character outside its vocabulary) is a ZooError before the first is drawn."""
    assert isinstance(model, LanguageModelTask)
    return model.write(request.prompt, request.length, request.temperature, request.seed)


def written(request: PromptRequest, text: str) -> dict[str, Any]:
    """The streamed text's last line: the row `zoo predict --output` writes for it."""
    return row_record(Row(request.prompt, text))


def card(name: str, model: pl.LightningModule, ckpt_path: str | None, docs: str | None) -> dict[str, Any]:
    """What `GET /models` says of a served model: its input, labels, weights and docs page (the
    address the server serves it at, or None)."""
    inputs = card_inputs(name)
    registered = MODELS.get(name)
    weights = f"checkpoint {ckpt_path}" if ckpt_path else f"zoo's pretrained weights ({headline(weights_card(name))})"
    return {
        "name": name,
        "kind": inputs.kind,
        "endpoint": f"/predict/{name}",
        "streams": streams(name),
        "input": inputs.help,
        "labels": list(getattr(model, "labels", None) or []),
        "weights": weights,
        "num_params": registered.num_params,
        "tutorial": registered.reference,
        "docs": docs,
        "request": request_body(name).model_json_schema(),
    }
