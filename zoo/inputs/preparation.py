"""Decoded pixels to a network's input, as `nn.Module`s: the part of a model's input preparation
that an exported file carries, so that ONNX Runtime in any language, or a browser, prepares a
picture exactly as `zoo predict` does (`zoo.export`). Whole batches, with no Python branching on
values and no shape that depends on them, so a trace holds for every image size.

A digit is prepared as MNIST's were (LeCun et al., http://yann.lecun.com/exdb/mnist/): white on
black, "size normalized to fit in a 20x20 pixel box while preserving their aspect ratio" with
anti-aliasing, then "centered in a 28x28 image by computing the center of mass of the pixels":
grey, inverted when its background is light (judged from the border), the background brought to
black, the digit's bounding box scaled to fit 20x20, placed by its centre of mass, padded for
LeNet's 32x32, then normalised with MNIST's mean and std. Other pictures are resized.
Resizing is a product with weight matrices (`resize_weights`): PyTorch's anti-aliased bilinear
filter, written out so that a crop of any size, per image, is one traced operation."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from zoo.errors import ZooError

MNIST_SIZE = 28
DIGIT_BOX = 20
INK = 0.25
"""A pixel at least this bright (0..1, after the background is brought to 0) is part of the digit."""
NOISE = 0.05
"""Fainter pixels than this are background: JPEG noise and paper texture."""
MIN_CONTRAST = 0.1
"""A picture whose brightest pixel is less above its background than this shows no digit."""


def resize_weights(size: int, start: Tensor, length: Tensor, used: Tensor, source: Tensor) -> Tensor:
    """(N, size, S) weights that take rows `start .. start+length` of a length-S axis (`source`:
    its positions 0..S-1) to `used` rows (the rest zero), per image: the anti-aliased bilinear
    filter of `torch.nn.functional.interpolate(..., antialias=True)`, a triangle as wide as the
    scale where it shrinks."""
    scale = (length / used).view(-1, 1, 1)
    out = torch.arange(size, dtype=torch.float32).view(1, -1, 1)
    centre = scale * (out + 0.5)
    at = source.view(1, 1, -1) - start.view(-1, 1, 1)
    width = torch.where(scale >= 1, scale, torch.ones_like(scale))
    weights = (1 - (at + 0.5 - centre).abs() / width).clamp(min=0)
    inside = (at >= 0) & (at < length.view(-1, 1, 1)) & (out < used.view(-1, 1, 1))
    weights = weights * inside
    return weights / weights.sum(dim=-1, keepdim=True).clamp(min=1e-12)


def positions(image: Tensor, axis: int) -> Tensor:
    """0, 1, ... along an axis of `image`, as floats."""
    return torch.arange(image.shape[axis], dtype=torch.float32)


def border_median(grey: Tensor) -> Tensor:
    """(N,) the lower median of each (N, H, W) picture's outermost rows and columns (as `Tensor.median`)."""
    edge = torch.cat([grey[:, 0], grey[:, -1], grey[:, :, 0], grey[:, :, -1]], dim=1)
    ordered = edge.sort(dim=1).values
    middle = (positions(edge, 1).max() / 2).floor().long()
    return ordered.index_select(1, middle.view(1))[:, 0]


def ink(grey: Tensor) -> tuple[Tensor, Tensor]:
    """(N, H, W) pictures 0..1 -> the digits white on black 0..1, and each picture's contrast:
    how far its brightest pixel stands above its background (under `MIN_CONTRAST`: no digit)."""
    light = (border_median(grey) > 0.5).view(-1, 1, 1)
    grey = torch.where(light, 1 - grey, grey)
    background = border_median(grey).view(-1, 1, 1)
    contrast = grey.amax(dim=(1, 2), keepdim=True) - background
    digit = ((grey - background) / contrast.clamp(min=MIN_CONTRAST)).clamp(0, 1)
    return torch.where(digit < NOISE, torch.zeros_like(digit), digit), contrast.flatten()


def extent(marked: Tensor, where: Tensor) -> tuple[Tensor, Tensor]:
    """(first, length) of the marked positions of each row of (N, S) `marked`."""
    far = where.max() + 1
    first = torch.where(marked, where, far).amin(dim=1)
    last = torch.where(marked, where, -far).amax(dim=1)
    return first, last - first + 1


def centre_of_mass(images: Tensor, rows: Tensor, cols: Tensor) -> tuple[Tensor, Tensor]:
    """(N,) row and column of each (N, H, W) image's brightness centre."""
    total = images.sum(dim=(1, 2)).clamp(min=1e-12)
    return (images.sum(2) * rows).sum(1) / total, (images.sum(1) * cols).sum(1) / total


def placement(size: int, offset: Tensor, length: int) -> Tensor:
    """(N, size, length) ones that put `length` rows at row `offset` of `size` rows, per image."""
    at = torch.arange(size).view(1, -1, 1) - offset.view(-1, 1, 1)
    return (at == torch.arange(length).view(1, 1, -1)).float()


def mnist_digits(grey: Tensor) -> Tensor:
    """(N, H, W) pictures of one digit each, 0..1 on any background -> (N, 28, 28) MNIST digits, 0..1."""
    digit, _ = ink(grey)
    rows, cols = positions(digit, 1), positions(digit, 2)
    marked = digit >= INK
    top, height = extent(marked.any(dim=2), rows)
    left, width = extent(marked.any(dim=1), cols)
    longest = torch.maximum(height, width)
    used_rows = (height * DIGIT_BOX / longest).round().clamp(min=1)
    used_cols = (width * DIGIT_BOX / longest).round().clamp(min=1)
    down = resize_weights(DIGIT_BOX, top, height, used_rows, rows)
    across = resize_weights(DIGIT_BOX, left, width, used_cols, cols)
    boxed = (down @ digit @ across.transpose(1, 2)).clamp(0, 1)
    box = positions(boxed, 1)
    row, col = centre_of_mass(boxed, box, box)
    centre = (MNIST_SIZE - 1) / 2
    first_row = torch.minimum((centre - row).round().clamp(min=0), MNIST_SIZE - used_rows).long()
    first_col = torch.minimum((centre - col).round().clamp(min=0), MNIST_SIZE - used_cols).long()
    down, across = placement(MNIST_SIZE, first_row, DIGIT_BOX), placement(MNIST_SIZE, first_col, DIGIT_BOX)
    return down @ boxed @ across.transpose(1, 2)


class ImagePreparation(nn.Module):
    """uint8 (N, C, H, W) pictures of any one size -> the normalised (N, C, h, w) input of a
    model taking `shape` = (C, h, w): with `digits`, each made a digit as MNIST's were (28 x 28,
    padded to LeNet's 32 x 32); otherwise resized."""

    mean: Tensor
    std: Tensor

    def __init__(self, shape: Sequence[int], mean: Sequence[float], std: Sequence[float], digits: bool) -> None:
        super().__init__()
        if digits and (shape[1] < MNIST_SIZE or shape[1] != shape[2]):
            raise ZooError(f"cannot prepare digits for input shape {shape[1]}x{shape[2]}; use a 28x28 or 32x32 model")
        self.shape = tuple(shape)
        self.digits = digits
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)

    def forward(self, pixels: Tensor) -> Tensor:
        image = pixels.float() / 255
        _, height, width = self.shape
        if self.digits:
            pad = height - MNIST_SIZE
            digit = mnist_digits(image[:, 0])
            image = nn.functional.pad(digit, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2)).unsqueeze(1)
        else:
            image = resized(image, height, width)
        return (image - self.mean) / self.std


def resized(images: Tensor, height: int, width: int) -> Tensor:
    """(N, C, H, W) 0..1 -> (N, C, height, width), anti-aliased bilinear (`resize_weights`)."""
    rows, cols = positions(images[:, 0], 1), positions(images[:, 0], 2)
    zero = torch.zeros(1)
    down = resize_weights(height, zero, rows.max().view(1) + 1, torch.full((1,), float(height)), rows)
    across = resize_weights(width, zero, cols.max().view(1) + 1, torch.full((1,), float(width)), cols)
    return (down.unsqueeze(1) @ images @ across.transpose(1, 2).unsqueeze(1)).clamp(0, 1)
