"""Your own images, one sub-folder per label (004's ants / bees), decoded once into tensors.

Layouts:
- flat: ROOT/<label>/<image>. Train, val and test are seeded random splits
  (`val_split`, `test_split`).
- split: ROOT/train/<label>/<image>, optionally ROOT/val/... and ROOT/test/... (the ants /
  bees download has train and val). Named folders are used as named; a missing val is split
  off train; a missing test is the val folder when there is one (said in a notice), else
  split off train.
Labels are the sorted folder names under ROOT (or ROOT/train), numbered from 0.
`channels=1` reads the images in grey and normalises them with MNIST's mean and std, so the
MNIST models train and test on folders of digit images.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from itertools import islice
from pathlib import Path

import torch
from torch import Tensor
from torchvision.transforms import v2

from zoo import checks
from zoo.datamodules import mnist
from zoo.datamodules.base import TensorDataModule, seeded_split
from zoo.datamodules.image_tensors import normalise_images
from zoo.errors import ZooError
from zoo.inputs.image_files import IMAGE_SUFFIXES, MAX_SIDE, BadImage, read_image_bytes
from zoo.notice import notice
from zoo.registry import register_datamodule

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PROGRESS_FROM = 500  # show a progress bar when decoding at least this many files
MAX_CLASSES = 1_000
"""ImageNet's count. The labels become part of the run's configuration, which LightningCLI checks in
time that grows with their square: 10,000 label folders took five silent minutes."""
SPLIT_FOLDERS = ("train", "val", "test")


def is_visible_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".")


def with_progress(items: Iterable[Tensor | str], total: int) -> Iterator[Tensor | str]:
    """A progress bar on a terminal's stderr while many files decode."""
    from rich.console import Console
    from rich.progress import track

    console = Console(stderr=True)
    if total < PROGRESS_FROM or not console.is_terminal:
        yield from items
        return
    yield from track(items, total=total, description="decoding images", console=console,
                     transient=True)


@register_datamodule(
    "image_folder",
    description="your images in ROOT/<label>/<image> (or ROOT/train|val|test/<label>/...), "
    "3 x image_size x image_size, ImageNet-normalised",
    source="a folder of your own, e.g. the tutorial's ants / bees (hymenoptera_data)",
)
class ImageFolderDataModule(TensorDataModule):
    """Every image decoded and resized once at setup, so a training batch is one index.

    `image_size` (default 32) and `channels` (3, or 1 for grey) set `input_shape` = (channels,
    image_size, image_size): any model with that input shape trains on the folder (cnn_cifar10
    with the defaults; `--data.channels 1 --data.image_size 28` for the MNIST models, 32 for
    LeNet). Colour images are ImageNet-normalised unless `mean`/`std` are given; grey ones use
    MNIST's (0.1307, 0.3081). Files are opened as `zoo predict` opens them (any Pillow mode, the
    first frame of an animation, at most `PIL.Image.MAX_IMAGE_PIXELS` pixels). Unreadable files
    stop setup with an error naming the file, or with `skip_bad_files=True` are left out and
    counted in one notice. `decode_workers` threads decode in parallel (0 or 1: one).
    """

    def __init__(
        self,
        root: str | None = None,
        image_size: int = 32,
        batch_size: int = 64,
        eval_batch_size: int = 1000,
        val_split: float = 0.1,
        test_split: float = 0.1,
        seed: int = 42,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        skip_bad_files: bool = False,
        decode_workers: int = 0,
        channels: int = 3,
    ) -> None:
        if root is None:
            raise ZooError(
                "image_folder needs its folder; pass --data.root PATH (PATH/<label>/<image>)"
            )
        if channels not in (1, 3):
            raise ZooError(f"channels must be 1 (grey) or 3 (colour), got {channels}; pass --data.channels 1 or 3")
        checks.whole(image_size, "image_size", 1, MAX_SIDE)
        if not 0.0 <= test_split < 1.0 or val_split + test_split >= 1.0:
            raise ZooError(
                f"val_split + test_split must leave images to train on, got {val_split} + "
                f"{test_split}; pass e.g. --data.val_split 0.1 --data.test_split 0.1"
            )
        super().__init__(root, batch_size, eval_batch_size, val_split, seed)
        self.image_size = image_size
        self.test_split = test_split
        self.channels = channels
        self.mean = tuple(mean) if mean is not None else ((mnist.MEAN,) if channels == 1 else IMAGENET_MEAN)
        self.std = tuple(std) if std is not None else ((mnist.STD,) if channels == 1 else IMAGENET_STD)
        if len(self.mean) != channels or len(self.std) != channels:
            raise ZooError(
                f"mean and std need one value per channel ({channels}), got {list(self.mean)} and "
                f"{list(self.std)}; pass --data.mean and --data.std of that length or leave them out"
            )
        self.skip_bad_files = skip_bad_files
        self.decode_workers = decode_workers
        self.input_shape = (channels, image_size, image_size)
        self.resize = v2.Resize((image_size, image_size), antialias=True)

    @cached_property
    def folders(self) -> dict[str, Path]:
        """The split folders present: {'train': ROOT} in the flat layout."""
        root = self.data_dir
        if not root.is_dir():
            raise ZooError(
                f"image folder {root} does not exist; pass --data.root with a folder laid out "
                "as ROOT/<label>/<image>"
            )
        if not (root / "train").is_dir():
            return {"train": root}
        return {name: root / name for name in SPLIT_FOLDERS if (root / name).is_dir()}

    @cached_property
    def classes(self) -> list[str]:
        train = self.folders["train"]
        folders = (p.name for p in train.iterdir() if is_visible_dir(p))
        names = sorted(islice(folders, MAX_CLASSES + 1))  # a folder of millions is not listed whole
        if len(names) > MAX_CLASSES:
            raise ZooError(
                f"{train} holds more than {MAX_CLASSES:,} label folders, and zoo classifies at most "
                f"{MAX_CLASSES:,} classes; pass --data.root with at most {MAX_CLASSES:,}, ROOT/<label>/<image>"
            )
        if not names:
            raise ZooError(
                f"no label folders in {train}; put the images in {train}/<label>/<image>"
            )
        return names

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def labels(self) -> list[str]:
        """The class names a model trained on this folder must be built with."""
        return self.classes

    def image_files(self, folder: Path) -> tuple[list[Path], list[int]]:
        """The image files under folder/<label>/ and their label numbers."""
        label_of = {name: i for i, name in enumerate(self.classes)}
        files, labels, ignored = [], [], []
        for label_dir in sorted(p for p in folder.iterdir() if is_visible_dir(p)):
            if label_dir.name not in label_of:
                raise ZooError(
                    f"{label_dir} is not a label of {self.folders['train']}; rename it to one "
                    f"of: {', '.join(self.classes)}"
                )
            for path in sorted(p for p in label_dir.iterdir() if not p.name.startswith(".")):
                if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                    files.append(path)
                    labels.append(label_of[label_dir.name])
                else:
                    ignored.append(path)
        if ignored:
            notice(f"ignored {len(ignored)} entries that are not {'/'.join(IMAGE_SUFFIXES)} "
                   f"files in {folder} (first: {ignored[0]})")
        if not files:
            raise ZooError(
                f"no images in {folder}/<label>/; add {', '.join(IMAGE_SUFFIXES)} files there"
            )
        return files, labels

    def decode(self, path: Path) -> Tensor | str:
        """The resized uint8 (C, S, S) image, or why it could not be decoded."""
        try:
            return self.resize(read_image_bytes(path, self.channels))
        except BadImage as err:
            return err.why

    def read_folder(self, folder: Path) -> tuple[Tensor, Tensor]:
        """Normalised float images and int64 labels of one split folder."""
        files, labels = self.image_files(folder)
        with ThreadPoolExecutor(max(1, self.decode_workers)) as pool:
            decoded = list(with_progress(pool.map(self.decode, files), len(files)))
        bad = [(f, why) for f, why in zip(files, decoded, strict=True) if isinstance(why, str)]
        if bad and not self.skip_bad_files:
            path, why = bad[0]
            raise ZooError(
                f"cannot decode image {path} ({why}); remove or replace it, or pass "
                "--data.skip_bad_files true"
            )
        if bad:
            notice(f"skipped {len(bad)} unreadable image files in {folder} (first: {bad[0][0]})")
        kept = [(x, y) for x, y in zip(decoded, labels, strict=True) if isinstance(x, Tensor)]
        if not kept:
            raise ZooError(f"no readable images in {folder}; add images that are not damaged")
        images = normalise_images(torch.stack([x for x, _ in kept]), self.mean, self.std)
        return images, torch.tensor([y for _, y in kept], dtype=torch.long)

    def check_two_classes(self, labels: Tensor) -> None:
        """One class leaves nothing to tell apart: the model would be right whatever it learnt."""
        present = sorted({self.classes[i] for i in labels.tolist()})
        if len(present) < 2:
            train = self.folders["train"]
            raise ZooError(
                f"{train} has images of one class only ({present[0]}); classification needs at "
                f"least two classes: add a folder per class, {train}/<label>/<image>"
            )

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        folders = self.folders
        train = self.read_folder(folders["train"])
        self.check_two_classes(train[1])
        named = {k: self.read_folder(v) for k, v in folders.items() if k != "train"}
        if "test" not in named and "val" in named:
            notice(f"no {self.data_dir / 'test'} folder: testing on {folders['val']}")
            named["test"] = named["val"]
        carve = [k for k in ("val", "test") if k not in named]
        fractions = {"val": self.val_split, "test": self.test_split}
        parts = seeded_split(
            train,
            [1 - sum(fractions[k] for k in carve), *(fractions[k] for k in carve)],
            self.seed,
        )
        return {"train": parts[0], **dict(zip(carve, parts[1:], strict=True)), **named}
