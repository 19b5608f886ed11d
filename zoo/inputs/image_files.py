"""Image files opened one way for all of zoo (`zoo predict` and the `image_folder` datamodule):
any mode Pillow opens, the first frame of an animation, and a pixel limit read from the header
before anything is decoded."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from zoo.errors import ZooError

if TYPE_CHECKING:
    from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff")
MAX_SIDE = 1024
"""The largest image side a datamodule makes (`image_size`, `pad_to`): a whole dataset of images
that size is held in memory."""
HIGH_BIT_RANGES = {"I": 65535.0, "I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0, "F": 1.0}
"""Pillow's modes of more than 8 bits per pixel and the value their white has (16-bit PNGs and
TIFFs open as "I;16" or "I"; float TIFFs as "F", taken as 0..1): scaled to 8 bits, never clipped."""


class BadImage(ZooError):
    """A file zoo cannot use as an image; `why` says what is wrong with it, in a few words."""

    def __init__(self, path: Path | IO[bytes], why: str, fix: str = "pass a PNG or JPEG file") -> None:
        super().__init__(f"cannot read image {str(path)!r} ({why}); {fix}")
        self.why = why


def pixel_limit() -> int | None:
    """Pillow's decompression-bomb limit, `PIL.Image.MAX_IMAGE_PIXELS` (89,478,485 by default)."""
    from PIL import Image

    return Image.MAX_IMAGE_PIXELS


def too_large(path: Path | IO[bytes], pixels: int | None = None) -> BadImage:
    """A decompression bomb: a small file whose header promises more pixels than the limit."""
    count = f"{pixels:,} pixels, " if pixels else ""
    return BadImage(
        path,
        f"{count}over zoo's limit of {pixel_limit() or 0:,} pixels against decompression bombs",
        "pass a smaller image (scale it down first)",
    )


def open_image(path: Path | IO[bytes]) -> Image.Image:
    """The file's first frame, decoded, as a Pillow image of 8 bits per channel. Its size is checked
    against `pixel_limit()` from the header, before decoding; a file Pillow cannot open or
    decode is a `BadImage`."""
    from PIL import Image

    limit = pixel_limit()
    try:
        with warnings.catch_warnings():  # Pillow warns from 1x to 2x its limit: refuse those too
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                pixels = opened.width * opened.height
                if limit and pixels > limit:  # (also when decoding threads race on the filter above)
                    raise too_large(path, pixels)
                opened.load()
                image = opened.copy()
        return eight_bit(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large(path) from None
    except BadImage:
        raise
    except Exception as err:  # whatever a decoder raises for a damaged file, the file is to blame
        raise BadImage(path, f"{type(err).__name__}: not an image Pillow can decode") from None


def eight_bit(image: Image.Image) -> Image.Image:
    """A 16-bit or float grey image scaled to 8 bits ("L"); other modes as they are."""
    from PIL import Image

    white = HIGH_BIT_RANGES.get(image.mode)
    if white is None:
        return image
    values = np.asarray(image, dtype=np.float64).clip(0, white) * (255 / white)
    return Image.fromarray(values.round().astype(np.uint8))


def read_image_bytes(path: Path | IO[bytes], channels: int) -> Tensor:
    """A file as uint8 (channels, H, W): grey for 1 channel, RGB for 3; transparency is laid over
    the background colour that contrasts with the visible pixels."""
    image = open_image(path)
    try:
        if "A" in image.getbands() or "transparency" in image.info:
            image = flattened(image.convert("RGBA"))
        image = image.convert("L" if channels == 1 else "RGB")
    except (ValueError, OSError) as err:  # a mode Pillow cannot convert (e.g. "LAB" to grey)
        raise BadImage(path, f"{image.mode} images cannot be converted: {err}") from None
    data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
    return data.view(image.height, image.width, channels).permute(2, 0, 1)


def flattened(rgba: Image.Image) -> Image.Image:
    """An RGBA image over white when its opaque pixels are dark, else over black."""
    from PIL import Image

    alpha = np.asarray(rgba.getchannel("A"))
    opaque = np.asarray(rgba.convert("L"))[alpha > 127]
    dark = opaque.size > 0 and opaque.mean() < 128
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255) if dark else (0, 0, 0, 255))
    return Image.alpha_composite(background, rgba)
