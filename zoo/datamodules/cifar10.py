"""CIFAR-10 (004): torchvision's checksummed download, or the extracted batches in data_dir."""

from __future__ import annotations

import hashlib
import pickle
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from zoo.datamodules.base import BatchTransform, TensorDataModule, writable_dir
from zoo.datamodules.image_tensors import normalise_images, normalised_black, random_crop_flip
from zoo.errors import ZooError
from zoo.inputs import Images
from zoo.inputs.images import CIFAR10_MEAN, CIFAR10_STD
from zoo.notice import notice
from zoo.registry import register_datamodule

CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
MEAN, STD = CIFAR10_MEAN, CIFAR10_STD
BATCH_FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)
CROP_PADDING = 4
ARCHIVE_HINT = (
    "extract cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html) into"
)
OFFICIAL_MD5 = {  # torchvision's CIFAR10.train_list and test_list
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
BATCH_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),  # numpy 1, which wrote the official files
    ("numpy._core.multiarray", "_reconstruct"),  # numpy 2
    ("_codecs", "encode"),  # str to bytes, how Python 3 writes bytes at protocol 2 (copies)
})


class NotABatch(pickle.UnpicklingError):
    """A pickle that names a global no CIFAR-10 batch needs."""


class BatchUnpickler(pickle.Unpickler):
    """Builds only dicts, lists, strings and numpy arrays, so a crafted batch cannot run code.

    `pickle.load` calls whatever callable a file names; the official batches name only
    numpy's array reconstruction, so nothing else is ever looked up.
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in BATCH_GLOBALS:
            raise NotABatch(f"{module}.{name}")
        return super().find_class(module, name)


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unofficial_batches(folder: Path, names: Sequence[str]) -> list[str]:
    """The batch files whose md5 is not that of the official download (torchvision's list)."""
    return [name for name in names if md5_of(folder / name) != OFFICIAL_MD5.get(name)]


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 3, 32, 32) and int64 labels of one batch, through BatchUnpickler."""
    with path.open("rb") as f:
        entry = BatchUnpickler(f, encoding="latin1").load()
    data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    return data, np.asarray(entry["labels"], dtype=np.int64)


def fetch_again(folder: Path) -> str:
    """The fix for a bad batch file: a fresh download or extraction."""
    return f"delete {folder} to download it again, or {ARCHIVE_HINT} {folder.parent} again"


def read_batches(folder: Path, names: Sequence[str]) -> tuple[Tensor, Tensor]:
    """uint8 images (N, 3, 32, 32) and int64 labels from CIFAR-10's pickled python batches.

    Files that are not the official ones (by md5) are still read, with a notice: copies made
    by hand are fine, and the restricted unpickler keeps a crafted file from running code.
    """
    images, labels = [], []
    for name in names:
        path = folder / name
        try:
            data, targets = read_batch(path)
        except NotABatch as err:
            raise ZooError(
                f"{path} is not a CIFAR-10 batch (it names {err}, which no batch needs); "
                f"{fetch_again(folder)}"
            ) from err
        except Exception as err:  # unpickling a damaged file fails in many types
            raise ZooError(
                f"cannot read CIFAR-10 batch {path} ({type(err).__name__}); {fetch_again(folder)}"
            ) from err
        if len(data) != len(targets) or not ((targets >= 0) & (targets < len(CLASSES))).all():
            raise ZooError(
                f"CIFAR-10 batch {path} has {len(data)} images but {len(targets)} labels or labels "
                f"outside 0-9; delete {folder} to download it again"
            )
        images.append(torch.from_numpy(data))
        labels.append(torch.from_numpy(targets))
    unofficial = unofficial_batches(folder, names)
    if unofficial:
        notice(f"{', '.join(unofficial)} in {folder} are not the official CIFAR-10 files "
               "(md5 differs); read anyway as plain arrays")
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
    by an unpickler that builds only numpy arrays, lists and strings, so a crafted file cannot
    run code and copies made by hand need no checksum to match (they get a notice).
    `val_split` of the 50,000 training images go to validation, chosen by `seed`. Training
    batches get a random crop (padding 4) and horizontal flip unless `augment=False`.
    """

    input_shape = (3, 32, 32)
    num_classes = len(CLASSES)
    classes = CLASSES
    labels = list(CLASSES)
    raw_inputs = Images(input_shape, CIFAR10_MEAN, CIFAR10_STD)

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
