"""Your own image files as a model's input: the files named or found in folders, uploads as
bytes, and the image statistics models' cards normalise with. How the decoded pixels become a
network's input is `zoo.inputs.preparation`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from zoo.errors import ZooError
from zoo.inputs.image_files import IMAGE_SUFFIXES

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
"""MNIST's pixel mean and standard deviation (0..1), which its datamodule and its models' cards use."""
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
"""The per-pixel std over CIFAR-10's training set; the often-quoted (0.2023, 0.1994, 0.2010) is not."""


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


class ImageBytes(io.BytesIO):
    """An image received as bytes (an upload to `zoo serve`), prepared as a file is: PIL opens
    either, and `str()` gives the name that errors and answers call it by."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name

    def __str__(self) -> str:
        return self.name
