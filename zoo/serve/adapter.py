"""Where `zoo serve` meets the contract on a model's card, and nowhere else: what a model takes
(its card's `inputs`), the request body that carries it, the answer rows (the task's `answer`,
with the fields of `zoo predict --output`) and the limits a request must keep.

The server never looks at a model's name to decide how to read a request: the kind of input
on its card does.
"""

from __future__ import annotations

import base64
import binascii
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import lightning.pytorch as pl
from pydantic import BaseModel, ConfigDict, Field

from zoo.answers import Row, row_record
from zoo.checkpoints import load_model
from zoo.errors import ZooError
from zoo.export import ExportedModel
from zoo.inputs import Inputs
from zoo.inputs.image_files import BadImage
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
LOG = logging.getLogger(__name__)


MAX_PIXELS = 4_194_304
"""Pixels an image may have (2048x2048, checked from its header before it is queued): decoding
one that size held the models' worker for 0.6 s on a busy core, where a 9000x9000 one held every
model for tens of seconds. Pillow's decompression-bomb limit applies too, when it is lower."""


def pillow_limit() -> int:
    """Pillow's decompression-bomb limit (`PIL.Image.MAX_IMAGE_PIXELS`), read when used so that
    a deployment that changes it changes ours."""
    from PIL import Image

    return int(Image.MAX_IMAGE_PIXELS or MAX_PIXELS)


def max_pixels() -> int:
    """The most pixels an uploaded image may have: ours or Pillow's limit, whichever is lower."""
    return min(MAX_PIXELS, pillow_limit())


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
    """A request answered with an error status and one line naming the problem: 4xx for the
    request's fault, 500 for a model that failed on it (answered alone, its batch-mates still are)."""

    status: int
    detail: str


@dataclass(frozen=True)
class Query:
    """A request checked where it arrives, before it is queued for the models' worker: the text
    `zoo predict` would be given, or the uploaded image file's bytes, and how many likeliest labels
    to answer. (Plain fields: LitServe reads the queued type's fields as FastAPI does.)"""

    raw: str | bytes
    top: int

    def as_input(self) -> str | ImageBytes:
        """What `zoo predict` would be given: the text, or the image as a file named 'upload'."""
        return ImageBytes(self.raw, "upload") if isinstance(self.raw, bytes) else self.raw


def served_inputs(served: str | pl.LightningModule) -> Inputs:
    """The raw inputs a served model takes: a registered name's card's, or a loaded model's own
    (`Task.raw_inputs`: its card's, or for a network of one's own, its data's)."""
    if isinstance(served, str):
        return card_inputs(served)
    return cast(Task, served).raw_inputs


def request_body(served: str | pl.LightningModule) -> type[Body]:
    """The body `POST /predict/<name>` takes, for a registered name or a loaded model."""
    return REQUESTS.get(served_inputs(served).kind, TextRequest)


def streams(served: str | pl.LightningModule) -> bool:
    """Whether the model writes text, streamed as it is drawn."""
    return request_body(served) is PromptRequest


class Answers(Protocol):
    """A model as the worker uses it: a name, and answer rows for raw inputs (`Task.answer`)."""

    @property
    def display_name(self) -> str: ...

    def answer(self, raw: Sequence[Any], k: int = 3) -> list[Row]: ...


def load(name: str | None, ckpt_path: str | None) -> pl.LightningModule:
    """The model an endpoint serves: pretrained, or a checkpoint loaded the safe way."""
    return load_model(name, ckpt_path).eval()


def answering(name: str | None, ckpt_path: str | None, runtime: str) -> Answers:
    """The model as the worker runs it: in PyTorch, or through its exported ONNX file (`ExportedModel`)."""
    model = cast(Task, load(name, ckpt_path))
    return ExportedModel(model) if runtime == "onnxruntime" else model


def served_name(model: Answers | pl.LightningModule) -> str:
    """The name a model is served under: its registered name, else its network's class name."""
    return str(model.display_name)


def too_big(size: int) -> Refusal | None:
    """An image file of `size` bytes refused, if over the limit (as base64 or uploaded)."""
    if size > MAX_IMAGE_BYTES:
        return Refusal(413, f"image is {size:,} bytes, over the limit of {MAX_IMAGE_BYTES:,}; send a smaller file")
    return None


def base64_payload(image: str) -> str | Refusal:
    """The base64 text of the `image` field: the field itself, or a data URL's data."""
    if not image.startswith("data:"):
        return image
    header, comma, data = image.partition(",")
    if not comma or not header.endswith(";base64"):
        return Refusal(400, f"image is a data URL without base64 data after a comma ({header[:40]!r}); send "
                            "the whole 'data:image/png;base64,...' string canvas.toDataURL() gives, or plain base64")
    return data


def image_bytes(request: ImageRequest) -> bytes | Refusal:
    """The uploaded file's bytes, refused when it is not base64, not an image, or has more pixels than
    `max_pixels()`: its header is read, nothing is decoded, so a refusal costs the server nothing."""
    from PIL import Image

    text = base64_payload(request.image)
    if isinstance(text, Refusal):
        return text
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return Refusal(400, "image is not base64; send the image file's bytes base64-encoded")
    if (big := too_big(len(data))) is not None:
        return big
    upload = ImageBytes(data, "upload")
    limit = f"over the limit of {max_pixels():,}; send a smaller image (scale it down)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            width, height = Image.open(upload).size
    except Image.DecompressionBombError:  # Pillow refuses twice its limit outright
        return Refusal(413, f"image has more than {2 * pillow_limit():,} pixels, {limit}")
    except Exception as err:  # whatever Pillow raises for a file it cannot read, the file is to blame
        return Refusal(400, str(BadImage(upload, f"{type(err).__name__}: not an image Pillow can decode")))
    if width * height > max_pixels():
        return Refusal(413, f"image is {width}x{height} = {width * height:,} pixels, {limit}")
    return data


def checked(request: Body) -> Query | Refusal:
    """The request as the worker takes it, or its refusal: every check that needs no model is
    made here, in the HTTP server, so a bad request never reaches a batch."""
    if isinstance(request, ImageRequest):
        upload = image_bytes(request)
        return upload if isinstance(upload, Refusal) else Query(upload, request.top)
    assert isinstance(request, TextRequest)
    return Query(request.input, request.top)


def answer(model: Answers, queries: Sequence[Query]) -> list[dict[str, Any] | Refusal]:
    """One answer per query, batched through the model; a query the model refuses (400) or
    fails on (500) is answered on its own, and the others in its batch are still answered."""
    k = max(query.top for query in queries)
    rows: list[Row | Refusal]
    try:
        rows = list(answer_rows(model, [query.as_input() for query in queries], k))
    except Exception:  # one query spoilt the batch: answer each alone to find it
        rows = [one_row(model, query.as_input(), k) for query in queries]
    return [row if isinstance(row, Refusal) else row_record(top_k(row, query.top))
            for query, row in zip(queries, rows, strict=True)]


def answer_rows(model: Answers, raws: Sequence[str | ImageBytes], k: int) -> list[Row]:
    """`zoo predict`'s rows for raw inputs: uploaded images, or text as the command line takes it."""
    return model.answer(list(raws), k=k)


def one_row(model: Answers, raw: str | ImageBytes, k: int) -> Row | Refusal:
    """A single query's row, or its refusal in the model's own words; a model that fails on it
    otherwise (a bug) is a 500 for this query alone, its traceback in the server's log."""
    try:
        return answer_rows(model, [raw], k)[0]
    except ZooError as err:
        return Refusal(400, str(err))
    except Exception as err:
        LOG.exception("%s failed on a request", served_name(model))
        return Refusal(500, f"{served_name(model)} failed on this input ({type(err).__name__}: {err}); "
                            "this is a bug: please report it with the input")


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
    """What `GET /models` says of a served model: its input and an example of it from its card
    (the page's default; empty when the card gives none), labels, weights and docs page (the
    address the server serves it at, or None)."""
    inputs = served_inputs(model)
    registered = MODELS.get(name) if name in MODELS else None
    weights = f"checkpoint {ckpt_path}" if ckpt_path else f"zoo's pretrained weights ({headline(weights_card(name))})"
    return {
        "name": name,
        "kind": inputs.kind,
        "endpoint": f"/predict/{name}",
        "streams": streams(model),
        "input": inputs.help,
        "example": inputs.examples[0] if inputs.examples else "",
        "labels": list(getattr(model, "labels", None) or []),
        "weights": weights,
        "num_params": registered.num_params if registered else sum(p.numel() for p in model.parameters()),
        "tutorial": registered.reference if registered else "",
        "docs": docs,
        "request": request_body(model).model_json_schema(),
    }
