"""What a model takes, said on its card: how a person's raw inputs (image files, surnames, a
prompt, words, numbers) become the network's tensors, and example tensors for tests and export.

`zoo predict`, `zoo export`, `zoo serve`, the weights build, the registry-wide tests and the docs
read a model's `inputs`; none of them looks at its name. A kind of input of one's own is a
subclass of `Inputs` passed to `register_model(inputs=...)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from zoo.errors import ZooError
from zoo.inputs.bounds import FLOAT32, Allowed, first_bad_cell, problem
from zoo.inputs.image_files import read_image_bytes
from zoo.inputs.images import MNIST_MEAN, MNIST_STD, ImageBytes, image_files
from zoo.inputs.preparation import MIN_CONTRAST, ImagePreparation, ink
from zoo.text import MAX_NAME_LENGTH, CharVocab, check_name_characters, encode_names

EXAMPLE_LENGTH = 5
"""Characters in an example sequence: short, so a test or an export trace is quick."""


class Inputs:
    """A kind of raw input. `kind` names it (and the request `zoo serve` reads), `help` says what
    to type, `examples` are raw inputs a person could give; `tensors` turns raw inputs into the
    network's arguments and `example` makes random ones of the right shapes and types.

    Raw inputs are first decoded into plain tensors (pixels, character codes, numbers);
    `preparation` is the module, if any, that takes those to the network's tensors, and
    `raw_example` makes random decoded ones: an exported file carries the preparation and takes
    the decoded tensors (`zoo.export`)."""

    kind: ClassVar[str] = "text"
    help: ClassVar[str] = "inputs as text"
    decoding: ClassVar[str] = "the network's inputs"
    """How a raw input is decoded into the tensors an exported file takes, in words (its sidecar's)."""
    examples: tuple[str, ...] = ()
    one_by_one: ClassVar[bool] = False
    """Whether raw inputs decode to different sizes (pictures, texts), so are run one at a time."""

    def expand(self, raw: Sequence[Any]) -> list[Any]:
        """The inputs one answer row each is given for (a folder of images is its files)."""
        return list(raw)

    def batches(self, items: Sequence[Any]) -> Iterator[tuple[list[Any], tuple[Tensor, ...]]]:
        """(items, network arguments) for each batch the items are run in: one batch by default."""
        yield list(items), self.tensors(items)

    def decoded_batches(self, items: Sequence[Any]) -> Iterator[tuple[list[Any], tuple[Tensor, ...]]]:
        """(items, decoded tensors) for each batch an exported file is given: one batch, or each
        item alone where items differ in size (`one_by_one`)."""
        for batch in ([item] for item in items) if self.one_by_one else [list(items)]:
            yield batch, self.decode(batch)

    def tensors(self, items: Sequence[Any]) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def example(self, batch_size: int = 2, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def decode(self, items: Sequence[Any]) -> tuple[Tensor, ...]:
        """Raw inputs as the decoded tensors `preparation` takes: by default the network's."""
        return self.tensors(items)

    def preparation(self) -> nn.Module | None:
        """The module from one decoded tensor to the network's one input; None where the decoded
        tensors are the network's inputs."""
        return None

    def raw_example(self, batch_size: int = 2, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        """Random decoded tensors: what `preparation` takes (the network's inputs where it is None)."""
        return self.example(batch_size, generator)

    def varying_axes(self) -> dict[int, str]:
        """The axes of the decoded tensors, batch aside, that differ from input to input, by
        name: a text's length (where `sample_shape` says None)."""
        return {axis + 1: "length" for axis, size in enumerate(self.sample_shape()) if size is None}

    def sample_shape(self) -> tuple[int | None, ...]:
        """One sample's shape as the network takes it, without the batch dimension and None where
        it varies: the model card's `input_shape`. By default the first example tensor's; a kind
        of input whose lengths vary overrides it."""
        return tuple(self.example(1)[0].shape[1:])

    def describe(self) -> str:
        """A line for the docs and `zoo list`: what to give, and the tensors it becomes."""
        shapes = ", ".join(" x ".join(["N", *map(str, t.shape[1:])]) for t in self.example(1))
        return f"{self.help} -> {shapes}"


@dataclass(frozen=True)
class Images(Inputs):
    """Image files or uploads, decoded to uint8 pixels (grey for one channel, RGB for three),
    resized to `shape` (C, H, W) and normalised by `mean` and `std`; with `digits`, each picture
    is first made into a digit as MNIST's were (white on black, scaled into 20x20, centred by
    mass). The preparation is `zoo.inputs.preparation.ImagePreparation`."""

    shape: tuple[int, int, int]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    digits: bool = False
    examples: tuple[str, ...] = ()
    kind: ClassVar[str] = "images"
    one_by_one: ClassVar[bool] = True
    help: ClassVar[str] = "image files (PNG, JPEG, ...) or folders of them"
    decoding: ClassVar[str] = ("each picture's pixels as uint8 N x C x H x W, grey for one channel (Pillow's "
                               "convert('L')), RGB for three; any height and width, one size per batch")

    def expand(self, raw: Sequence[Any]) -> list[Any]:
        if not all(isinstance(item, ImageBytes) for item in raw):
            return list(image_files([str(item) for item in raw]))
        return list(raw)

    def tensors(self, items: Sequence[Path | ImageBytes]) -> tuple[Tensor, ...]:
        """Each picture prepared alone, as pictures differ in size."""
        prepare = self.preparation()
        with torch.no_grad():
            return (torch.cat([prepare(*self.decode([item])) for item in items]),)

    def decode(self, items: Sequence[Path | ImageBytes]) -> tuple[Tensor, ...]:
        """Pictures of one size as uint8 (N, C, H, W); a picture of a digit with no digit in it is refused."""
        pixels = torch.stack([read_image_bytes(item, self.shape[0]) for item in items])
        if self.digits:
            for item, contrast in zip(items, ink(pixels[:, 0].float() / 255)[1], strict=True):
                if contrast < MIN_CONTRAST:
                    raise ZooError(f"image {str(item)!r} shows no digit (it is all one shade); "
                                   "pass a picture of a digit")
        return (pixels,)

    def preparation(self) -> nn.Module:
        return ImagePreparation(self.shape, self.mean, self.std, self.digits)

    def raw_example(self, batch_size: int = 2, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        return (torch.randint(0, 256, (batch_size, *self.shape), dtype=torch.uint8, generator=generator),)

    def varying_axes(self) -> dict[int, str]:
        return {2: "height", 3: "width"}

    def example(self, batch_size: int = 2, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        return (torch.randn(batch_size, *self.shape, generator=generator),)

    def sample_shape(self) -> tuple[int | None, ...]:
        return self.shape


@dataclass(frozen=True)
class Surnames(Inputs):
    """Surnames read as ASCII codes (accents folded away, see `zoo.text.ascii_codes`), padded
    to the longest: the network takes (ids, lengths)."""

    max_length: int = MAX_NAME_LENGTH
    examples: tuple[str, ...] = ()
    kind: ClassVar[str] = "names"
    help: ClassVar[str] = "surnames, e.g. Nguyen Schmidt"
    decoding: ClassVar[str] = ("each name stripped of surrounding spaces, Unicode NFKD with combining marks dropped, "
                               "as ASCII codes (letters, space, apostrophe, comma only), "
                               "int64 N x L padded with 0 to the longest, and the names' lengths, int64 N")

    def tensors(self, items: Sequence[str]) -> tuple[Tensor, ...]:
        for name in items:
            check_name_characters(name)
        return encode_names(items, self.max_length)

    def describe(self) -> str:
        return f"{self.help} -> ASCII ids N x L and lengths N"

    def sample_shape(self) -> tuple[int | None, ...]:
        return (None,)

    def example(self, batch_size: int = 2, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        lengths = torch.randint(1, EXAMPLE_LENGTH + 1, (batch_size,), generator=generator)
        lengths[0] = EXAMPLE_LENGTH  # the padded length is the longest name's
        ids = torch.randint(ord("a"), ord("z") + 1, (batch_size, EXAMPLE_LENGTH), generator=generator)
        ids[torch.arange(EXAMPLE_LENGTH) >= lengths[:, None]] = 0
        return ids, lengths


@dataclass(frozen=True)
class Characters(Inputs):
    """Text over a fixed alphabet, one id per character (`one_hot`: one-hot floats over the
    alphabet instead); each text runs alone, as texts differ in length."""

    alphabet: str
    one_hot: bool = False
    examples: tuple[str, ...] = ()
    kind: ClassVar[str] = "characters"
    one_by_one: ClassVar[bool] = True
    help: ClassVar[str] = "text over the model's alphabet"
    decoding: ClassVar[str] = "each character's position in the alphabet, int64 N x L"

    def batches(self, items: Sequence[str]) -> Iterator[tuple[list[Any], tuple[Tensor, ...]]]:
        for batch, decoded in self.decoded_batches(items):
            yield batch, self.encoded(*decoded)

    def tensors(self, items: Sequence[str]) -> tuple[Tensor, ...]:
        return self.encoded(*self.decode(items))

    def decode(self, items: Sequence[str]) -> tuple[Tensor, ...]:
        """Texts of one length as the ids of their characters in the alphabet, (N, L)."""
        vocab = CharVocab(self.alphabet)
        for text in items:
            if not text:
                raise ZooError(f"the text is empty; give at least one of the characters {self.alphabet!r}")
        return (torch.stack([vocab.encode(text) for text in items]),)

    def sample_shape(self) -> tuple[int | None, ...]:
        return (None, len(self.alphabet)) if self.one_hot else (None,)

    def varying_axes(self) -> dict[int, str]:
        return {1: "length"}

    def preparation(self) -> nn.Module | None:
        return OneHot(len(self.alphabet)) if self.one_hot else None

    def encoded(self, ids: Tensor) -> tuple[Tensor, ...]:
        prepare = self.preparation()
        return (ids,) if prepare is None else (prepare(ids),)

    def raw_example(self, batch_size: int = 2, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        return (torch.randint(0, len(self.alphabet), (batch_size, EXAMPLE_LENGTH), generator=generator),)

    def example(self, batch_size: int = 2, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        return self.encoded(*self.raw_example(batch_size, generator))

    def describe(self) -> str:
        return f"text over {self.alphabet!r} -> " + ("N x L x " + str(len(self.alphabet)) if self.one_hot else "N x L")


class OneHot(nn.Module):
    """Character ids (N, L) -> one-hot floats (N, L, size)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, ids: Tensor) -> Tensor:
        return nn.functional.one_hot(ids, self.size).float()


@dataclass(frozen=True)
class Prompt(Characters):
    """A prompt for a language model, over its alphabet: the model continues it."""

    kind: ClassVar[str] = "prompt"
    help: ClassVar[str] = "text to continue, e.g. 'ROMEO:'"

    def describe(self) -> str:
        return f"a prompt over {len(self.alphabet)} characters -> N x L"


@dataclass(frozen=True)
class Numbers(Inputs):
    """One sample per input: `features` comma-separated numbers ('0.5' for one feature), each
    within `allowed`: the bound the model's data file is read with, when it has one."""

    features: int
    examples: tuple[str, ...] = field(default=())
    allowed: Allowed = FLOAT32
    kind: ClassVar[str] = "numbers"
    help: ClassVar[str] = "numbers, one sample each (comma-separated features for a model of several)"
    decoding: ClassVar[str] = "the numbers as float32 N x features"

    def tensors(self, items: Sequence[str]) -> tuple[Tensor, ...]:
        return (torch.tensor([parse_numbers(text, self.features, self.allowed) for text in items]),)

    def example(self, batch_size: int = 2, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        return (torch.randn(batch_size, self.features, generator=generator),)

    def describe(self) -> str:
        within = "" if self.allowed == FLOAT32 else f" within {self.allowed.span}"
        return f"{self.help}{within} -> N x {self.features}"


def parse_numbers(text: str, features: int, allowed: Allowed = FLOAT32) -> list[float]:
    """'1.5' or '0.1,-0.2,...' -> that many floats, each passing `allowed` by the check a data
    file's cells pass (`zoo.inputs.bounds`); anything else is a one-line ZooError."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
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
    bad = first_bad_cell(np.array([values], dtype=np.float64), [allowed] * features)
    if bad is not None:
        raise ZooError(f"input {text!r}: {problem(parts[bad[1]], allowed)}; pass numbers within {allowed.span}")
    return values


def mnist_digits(size: int = 28) -> Images:
    """Pictures of one digit each, prepared as MNIST's were, for a model of `size` x `size` inputs."""
    return Images((1, size, size), (MNIST_MEAN,), (MNIST_STD,), digits=True)
