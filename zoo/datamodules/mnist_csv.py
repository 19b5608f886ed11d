"""MNIST as CSV (002 lines 640-700): a label, then 784 pixel values, per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from zoo.datamodules.base import TensorDataModule
from zoo.datamodules.mnist import DIGITS, normalise, padded_shape
from zoo.datamodules.tables import read_numbers
from zoo.errors import ZooError
from zoo.inputs import mnist_digits
from zoo.inputs.bounds import Allowed
from zoo.registry import register_datamodule

PIXELS = 28 * 28
LABEL = Allowed(0, 9, "the first column is the digit 0-9", whole=True)
PIXEL = Allowed(0, 255, "pixels are raw whole values 0-255", whole=True)


def has_header(path: Path) -> bool:
    """True when the first row names the columns (e.g. 'label,1x1,...') instead of a digit."""
    try:
        first = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0]
    except (ValueError, OSError):  # unreadable: `read_numbers` says why
        return False
    return bool((pd.to_numeric(first, errors="coerce").isna() & first.str.strip().astype(bool)).any())


def read_digits_csv(path: Path) -> tuple[Tensor, Tensor]:
    """uint8 images (N, 28, 28) and int64 labels from a CSV, gzipped or not."""
    if not path.is_file():
        raise ZooError(
            f"MNIST CSV file {path} not found; put it there (a label then 784 pixels per row, "
            "e.g. mnist_train.csv) or pass --data.data_dir / --data.train_file / --data.test_file"
        )
    values = read_numbers(path, [LABEL] + [PIXEL] * PIXELS, header=has_header(path),
                          fix="every row must be the digit, then 784 raw pixel values 0-255")
    labels, pixels = values[:, 0], values[:, 1:]
    images = torch.from_numpy(pixels.astype(np.uint8).reshape(-1, 28, 28))
    return images, torch.from_numpy(labels.astype(np.int64))


@register_datamodule(
    "mnist_csv",
    description="MNIST digits from CSV (label, 784 pixels), 1x28x28 (1x32x32 with pad_to=32), "
    "normalised like mnist",
    source="mnist_train.csv / mnist_test.csv (names configurable) in data_dir, plain or .gz",
)
class MNISTCSVDataModule(TensorDataModule):
    """The tutorial's CSV digits, normalised exactly like the `mnist` datamodule.

    So every MNIST model trains on it. A header row is detected and skipped. `val_split` of
    the training file goes to validation, chosen by `seed`; the test file is the test split.
    """

    labels = DIGITS

    def __init__(
        self,
        data_dir: str | None = None,
        train_file: str = "mnist_train.csv",
        test_file: str = "mnist_test.csv",
        batch_size: int = 64,
        eval_batch_size: int = 1000,
        val_split: float = 0.1,
        seed: int = 42,
        pad_to: int | None = None,
    ) -> None:
        super().__init__(data_dir, batch_size, eval_batch_size, val_split, seed)
        self.train_file = train_file
        self.test_file = test_file
        self.pad_to = pad_to
        self.input_shape = padded_shape(pad_to)
        self.raw_inputs = mnist_digits(self.input_shape[-1])

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        train_images, train_labels = read_digits_csv(self.data_dir / self.train_file)
        test_images, test_labels = read_digits_csv(self.data_dir / self.test_file)
        return self.split_off_val(
            (normalise(train_images, self.pad_to), train_labels),
            (normalise(test_images, self.pad_to), test_labels),
        )
