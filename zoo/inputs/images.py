"""Your own image files as a model's input: digits prepared the way MNIST itself was made.

MNIST's digits (LeCun et al., http://yann.lecun.com/exdb/mnist/) are white on black, "size
normalized to fit in a 20x20 pixel box while preserving their aspect ratio" with
anti-aliasing, then "centered in a 28x28 image by computing the center of mass of the pixels".
A photo or drawing of a digit goes through the same steps here: grey, inverted when its
background is light (judged from the border), the background brought to black, the digit's
bounding box scaled to fit 20x20, placed by its centre of mass, padded for LeNet's 32x32, then
normalised with MNIST's mean and std. Other images get a plain resize and the normalisation
their model's card gives (`zoo.inputs.Images`), as their datamodule does.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from zoo.errors import ZooError
from zoo.inputs.image_files import IMAGE_SUFFIXES, read_image_bytes

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
"""MNIST's pixel mean and standard deviation (0..1), which its datamodule and its models' cards use."""
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
"""The per-pixel std over CIFAR-10's training set; the often-quoted (0.2023, 0.1994, 0.2010) is not."""

MNIST_SIZE = 28
DIGIT_BOX = 20
INK = 0.25
"""A pixel at least this bright (0..1, after the background is brought to 0) is part of the digit."""
NOISE = 0.05
"""Fainter pixels than this are background: JPEG noise and paper texture."""


def image_files(inputs: Sequence[str]) -> list[Path]:
    """The files named, with every image file in the folders named (sorted, hidden ones left out)."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir()
                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not found:
                raise ZooError(f"no image files in folder {item!r}; put {', '.join(IMAGE_SUFFIXES)} files there")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ZooError(f"image {item!r} does not exist; pass image files or folders of them")
    return files


def read_image(source: Path | ImageBytes, channels: int) -> Tensor:
    """A file or upload as float (channels, H, W) in 0..1 (see `read_image_bytes`)."""
    return read_image_bytes(source, channels).float().div(255)


def border(grey: Tensor) -> Tensor:
    """The pixels of an (H, W) image's outermost rows and columns."""
    return torch.cat([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


def resize(image: Tensor, height: int, width: int) -> Tensor:
    """(C, H, W) -> (C, height, width), bilinear and anti-aliased (as MNIST's scaling was)."""
    out = F.interpolate(image.unsqueeze(0), size=(height, width), mode="bilinear", antialias=True,
                        align_corners=False)
    return out[0].clamp(0, 1)


def centre_of_mass(grey: Tensor) -> tuple[float, float]:
    """(row, column) of an (H, W) image's brightness centre."""
    total = grey.sum()
    rows = torch.arange(grey.shape[0], dtype=grey.dtype)
    cols = torch.arange(grey.shape[1], dtype=grey.dtype)
    return float((grey.sum(1) * rows).sum() / total), float((grey.sum(0) * cols).sum() / total)


def mnist_digit(grey: Tensor, name: str = "the image") -> Tensor:
    """An (H, W) grey picture of one digit (0..1, any background) -> (28, 28) white on black, 0..1."""
    if border(grey).median() > 0.5:  # a light background: dark ink on paper
        grey = 1 - grey
    background = float(border(grey).median())
    contrast = float(grey.max()) - background
    if contrast < 0.1:
        raise ZooError(f"{name} shows no digit (it is all one shade); pass a picture of a digit")
    ink = ((grey - background) / contrast).clamp(0, 1)
    ink[ink < NOISE] = 0
    rows = (ink >= INK).any(dim=1).nonzero()
    cols = (ink >= INK).any(dim=0).nonzero()
    digit = ink[int(rows[0]) : int(rows[-1]) + 1, int(cols[0]) : int(cols[-1]) + 1]  # the bounding box
    h, w = digit.shape
    scale = DIGIT_BOX / max(h, w)
    height, width = max(1, round(h * scale)), max(1, round(w * scale))
    digit = resize(digit.unsqueeze(0), height, width)[0]  # fits 20 x 20, aspect kept
    row, col = centre_of_mass(digit)
    centre = (MNIST_SIZE - 1) / 2
    top = min(max(round(centre - row), 0), MNIST_SIZE - height)
    left = min(max(round(centre - col), 0), MNIST_SIZE - width)
    out = torch.zeros(MNIST_SIZE, MNIST_SIZE)
    out[top : top + height, left : left + width] = digit
    return out


def digit_input(source: Path | ImageBytes, height: int, width: int) -> Tensor:
    """One picture of a digit as MNIST's (1, H, W), 0..1: 28 x 28, padded for LeNet's 32 x 32."""
    digit = mnist_digit(read_image(source, 1)[0], f"image {str(source)!r}")
    pad = height - MNIST_SIZE  # LeNet's 32 x 32: two pixels of background each side
    if pad < 0 or width != height:
        raise ZooError(f"cannot prepare digits for input shape {height}x{width}; use a 28x28 or 32x32 model")
    return F.pad(digit, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2)).unsqueeze(0)


def prepare_image(source: Path | ImageBytes, shape: Sequence[int], mean: Sequence[float], std: Sequence[float],
                  digits: bool) -> Tensor:
    """One image as the normalised (C, H, W) input of a model taking `shape`: a digit prepared as
    MNIST's were (`digits`), any other picture resized."""
    channels, height, width = shape
    image = digit_input(source, height, width) if digits else resize(read_image(source, channels), height, width)
    return (image - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)


class ImageBytes(io.BytesIO):
    """An image received as bytes (an upload to `zoo serve`), prepared as a file is: PIL opens
    either, and `str()` gives the name that errors and answers call it by."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name

    def __str__(self) -> str:
        return self.name
