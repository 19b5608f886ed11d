"""CIFAR-10 (004): torchvision's checksummed download, or the extracted batches in data_dir."""

from __future__ import annotations

import pickle
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from zoo.datamodules.base import BatchTransform, TensorDataModule, writable_dir
from zoo.datamodules.image_tensors import normalise_images, normalised_black, random_crop_flip
from zoo.errors import ZooError
from zoo.registry import register_datamodule

CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
MEAN = (0.4914, 0.4822, 0.4465)
# The per-pixel std over the training set; the often-quoted (0.2023, 0.1994, 0.2010) is not.
STD = (0.2470, 0.2435, 0.2616)
BATCH_FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
CROP_PADDING = 4
ARCHIVE_HINT = (
    "extract cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) into"
)


def read_batches(folder: Path, names: Sequence[str]) -> tuple[Tensor, Tensor]:
    """uint8 images (N, 3, 32, 32) and int64 labels from CIFAR-10's pickled python batches."""
    images, labels = [], []
    for name in names:
        path = folder / name
        try:
            with path.open("rb") as f:
                entry = pickle.load(f, encoding="latin1")
            data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            targets = np.asarray(entry["labels"], dtype=np.int64)
        except Exception as err:  # unpickling a damaged file fails in many types
            raise ZooError(
                f"cannot read CIFAR-10 batch {path} ({type(err).__name__}); delete {folder} "
                f"to download it again, or {ARCHIVE_HINT} {folder.parent} again"
            ) from err
        if len(data) != len(targets) or not ((targets >= 0) & (targets < len(CLASSES))).all():
            raise ZooError(
                f"CIFAR-10 batch {path} has {len(data)} images but {len(targets)} labels or labels "
                f"outside 0-9; delete {folder} to download it again"
            )
        images.append(torch.from_numpy(data))
        labels.append(torch.from_numpy(targets))
    return torch.cat(images), torch.cat(labels)


@register_datamodule(
    "cifar10",
    description="10 classes of 3x32x32 photos, normalised per channel; crop (pad 4) + flip "
    "in training",
    source="torchvision CIFAR10 download (md5-checked) or the extracted cifar-10-batches-py "
    "in data_dir",
)
class CIFAR10DataModule(TensorDataModule):
    """CIFAR-10 held as normalised float tensors (about 740 MB for all 60,000 images).

    The files come from torchvision's download, which checks the archive's and every batch
    file's md5, or from a `cifar-10-batches-py` folder already in `data_dir`. They are read
    by a small pickle reader of our own, so copies made by hand need no checksum to match.
    `val_split` of the 50,000 training images go to validation, chosen by `seed`. Training
    batches get a random crop (padding 4) and horizontal flip unless `augment=False`.
    """

    input_shape = (3, 32, 32)
    num_classes = len(CLASSES)
    classes = CLASSES

    def __init__(
        self,
        data_dir: str | None = None,
        batch_size: int = 64,
        eval_batch_size: int = 1000,
        val_split: float = 0.1,
        seed: int = 42,
        augment: bool = True,
    ) -> None:
        super().__init__(data_dir, batch_size, eval_batch_size, val_split, seed)
        self.augment = augment

    @property
    def batch_dir(self) -> Path:
        return self.data_dir / BATCH_FOLDER

    def missing_files(self) -> list[str]:
        return [n for n in TRAIN_BATCHES + TEST_BATCHES if not (self.batch_dir / n).is_file()]

    def prepare_data(self) -> None:
        missing = self.missing_files()
        if not missing:
            return
        if self.batch_dir.exists():
            raise ZooError(
                f"{self.batch_dir} lacks {', '.join(missing)}; copy them there, or delete the "
                "folder to download CIFAR-10 again"
            )
        writable_dir(self.data_dir)
        self._download()

    def _download(self) -> None:
        """Download and check in a hidden folder, then move the batches into place in one step."""
        from torchvision.datasets import CIFAR10

        staging = Path(tempfile.mkdtemp(prefix=".cifar10-download-", dir=self.data_dir))
        try:
            CIFAR10(str(staging), train=True, download=True)
            (staging / BATCH_FOLDER).rename(self.batch_dir)
        except Exception as err:  # network and checksum failures come in many types
            raise ZooError(
                f"CIFAR-10 is not in {self.batch_dir} and could not be downloaded "
                f"({type(err).__name__}); connect to the internet once, or {ARCHIVE_HINT} "
                f"{self.data_dir}"
            ) from err
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        self.prepare_data()
        train_images, train_labels = read_batches(self.batch_dir, TRAIN_BATCHES)
        test_images, test_labels = read_batches(self.batch_dir, TEST_BATCHES)
        return self.split_off_val(
            (normalise_images(train_images, MEAN, STD), train_labels),
            (normalise_images(test_images, MEAN, STD), test_labels),
        )

    def train_transform(self) -> BatchTransform | None:
        if not self.augment:
            return None
        return random_crop_flip(CROP_PADDING, normalised_black(MEAN, STD))
