"""Image tensors shared by the image datamodules: normalisation, batched crop (+ flip) and
batched random warps (affine, optionally elastic)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
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


def random_warp(
    degrees: float,
    scale: float,
    shear: float,
    shift: float,
    fill: Sequence[float],
    elastic: float = 0.0,
    elastic_sigma: float = 4.0,
) -> BatchTransform:
    """RandomAffine(degrees, translate, scale, shear), then an optional elastic distortion, for a
    whole (N, C, H, W) batch at once.

    Each image gets its own rotation in [-degrees, degrees], zoom in [1 - scale, 1 + scale],
    horizontal shear in [-shear, shear] degrees and shift in [-shift, shift] pixels each way.
    With `elastic` > 0 every pixel is also moved by a random field, uniform in [-1, 1] per pixel
    and axis, smoothed by a Gaussian of `elastic_sigma` pixels and scaled by `elastic` pixels
    (Simard, Steinkraus and Platt, 2003: a pen's wobble, where the affine part is a hand's slant
    and size). All draws come from the generator the batches are shuffled with (so an epoch is
    reproducible from the data seed), and the whole warp is one bilinear `grid_sample` on the
    images' device. Pixels brought in from outside the image get `fill` per channel (for
    normalised images, `normalised_black`). With every magnitude 0 the images come back unchanged.
    """

    def transform(images: Tensor, generator: torch.Generator) -> Tensor:
        n, c, h, w = images.shape
        u = torch.rand(n, 5, generator=generator, dtype=torch.float64) * 2 - 1
        angle, zoom, slant = u[:, 0] * math.radians(degrees), 1 + u[:, 1] * scale, u[:, 2] * math.radians(shear)
        cos, sin, tan = angle.cos() / zoom, angle.sin() / zoom, slant.tan()
        # theta maps output to input coordinates in [-1, 1]: rotate . shear / zoom, then shift
        theta = torch.stack(
            [
                torch.stack([cos, cos * tan - sin, u[:, 3] * 2 * shift / w], dim=1),
                torch.stack([sin, sin * tan + cos, u[:, 4] * 2 * shift / h], dim=1),
            ],
            dim=1,
        ).to(images.device, images.dtype)
        grid = F.affine_grid(theta, [n, c, h, w], align_corners=False)
        if elastic:
            noise = (torch.rand(n, 2, h, w, generator=generator) * 2 - 1).to(images.device, images.dtype)
            kernel = 2 * min(math.ceil(3 * elastic_sigma), h - 1, w - 1) + 1  # reflect pads less than the image
            field = v2.functional.gaussian_blur(noise, [kernel, kernel], [elastic_sigma, elastic_sigma])
            pixels_to_grid = torch.tensor([2 * elastic / w, 2 * elastic / h], dtype=images.dtype, device=images.device)
            grid = grid + field.permute(0, 2, 3, 1) * pixels_to_grid
        background = torch.tensor(fill, dtype=images.dtype, device=images.device).view(1, c, 1, 1)
        moved = F.grid_sample(images - background, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return moved + background

    return transform
