"""Image tensors shared by the image datamodules: normalisation and batched crop (+ flip)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchvision.transforms import v2

from zoo.datamodules.base import BatchTransform


def normalise_images(images: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """uint8 (N, C, H, W) -> float32 per-channel normalised, as ToTensor + Normalize."""
    to_float = v2.ToDtype(torch.float32, scale=True)
    return v2.Normalize(list(mean), list(std), inplace=True)(to_float(images)).contiguous()


def normalised_black(mean: Sequence[float], std: Sequence[float]) -> list[float]:
    """The value a black pixel has after normalisation: the padding of a padded crop."""
    return [-m / s for m, s in zip(mean, std, strict=True)]


def random_crop_flip(padding: int, fill: Sequence[float], flip: bool = True) -> BatchTransform:
    """RandomCrop(size, padding) + RandomHorizontalFlip() for a whole (N, C, H, W) batch at once.

    Each image gets its own crop offset and its own coin flip, drawn from the generator the
    batches are shuffled with, so an epoch's augmentation is reproducible from the data seed.
    The pad is filled per channel with `fill` (for normalised images, `normalised_black`).
    `flip=False` keeps the crop alone, for images a mirror would change the class of (digits).
    """

    def transform(images: Tensor, generator: torch.Generator) -> Tensor:
        n, c, h, w = images.shape
        fill_values = torch.tensor(fill, dtype=images.dtype, device=images.device)
        padded = fill_values.view(1, c, 1, 1).expand(n, c, h + 2 * padding, w + 2 * padding)
        padded = padded.clone()
        padded[..., padding : padding + h, padding : padding + w] = images
        top = torch.randint(0, 2 * padding + 1, (n, 1), generator=generator)
        left = torch.randint(0, 2 * padding + 1, (n, 1), generator=generator)
        rows = top + torch.arange(h)
        cols = left + torch.arange(w)
        if flip:
            mirrored = torch.rand(n, 1, generator=generator) < 0.5
            cols = torch.where(mirrored, cols.flip(1), cols)  # a mirrored crop reads backwards
        index = (
            torch.arange(n).view(n, 1, 1, 1),
            torch.arange(c).view(1, c, 1, 1),
            rows.view(n, 1, h, 1),
            cols.view(n, 1, 1, w),
        )
        return padded[tuple(i.to(images.device) for i in index)]

    return transform
