"""The same MNIST digits for both sides: tensors for zoo, PIL images for the tutorial's loop."""

from __future__ import annotations

import functools
from typing import Any

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset
from torchvision import transforms

from benchmarks.common import Settings
from zoo.building import default_datamodule
from zoo.datamodules.base import TensorDataModule
from zoo.datamodules.mnist import MEAN, STD, MNISTDataModule, normalise
from zoo.registry import MODELS

Splits = dict[str, tuple[Tensor, Tensor]]


def choose_source(requested: str) -> str:
    """'auto' is full MNIST when its files are already on disk, else embedded; never downloads."""
    module = MNISTDataModule(source="full")
    if requested == "full" and not module.full_present():
        raise ValueError(f"full MNIST is not in {module.raw_dir}; copy the four IDX files there "
                         "or use --data embedded")
    if requested != "auto":
        return requested
    return "full" if module.full_present() else "embedded"


def mnist_models() -> list[str]:
    return [name for name in MODELS.names() if MODELS.get(name).datamodule == "mnist"]


def pad_to(name: str) -> int | None:
    value = MODELS.get(name).datamodule_args.get("pad_to")
    return int(value) if value is not None else None


@functools.cache
def mnist_splits(source: str, padding: int | None, sizes: tuple[tuple[str, int], ...]) -> Splits:
    """The mnist datamodule's own splits (its seed, its normalisation), each cut to a size."""
    module = MNISTDataModule(source=source, pad_to=padding)  # type: ignore[arg-type]
    module.setup()
    caps = dict(sizes)
    return {k: (x[: caps[k]], y[: caps[k]]) for k, (x, y) in module.splits.items()}


def split_caps(settings: Settings) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(settings.sizes.items()))


def splits_for(name: str, settings: Settings, padded: bool = True) -> Splits:
    return mnist_splits(settings.source, pad_to(name) if padded else None, split_caps(settings))


def describe_data(settings: Settings) -> str:
    """e.g. 'MNIST embedded: 3600 train / 400 val / 1000 test digits'."""
    splits = mnist_splits(settings.source, None, split_caps(settings))
    sizes = " / ".join(f"{len(splits[k][1])} {k}" for k in ("train", "val", "test"))
    return f"MNIST {settings.source}: {sizes} digits"


def zoo_datamodule(
    name: str, batch_size: int, settings: Settings, seed: int, **data_args: Any
) -> TensorDataModule:
    """The model's datamodule as `zoo fit` builds it, holding the benchmark's splits.

    The splits are loaded once per benchmark process and copied to the device here, as `setup`
    would place them; `seed` then only sets the training shuffle.
    """
    module = default_datamodule(
        name, source=settings.source, batch_size=batch_size, seed=seed, **data_args
    )
    assert isinstance(module, TensorDataModule)
    module.splits = {
        k: tuple(t.to(settings.device) for t in v) for k, v in splits_for(name, settings).items()
    }
    return module


def to_pixels(images: Tensor) -> Tensor:
    """Normalised (N, 1, 28, 28) floats back to the uint8 (N, 28, 28) digits they came from."""
    pixels = (images.squeeze(1) * STD + MEAN).mul(255).round().clamp(0, 255).to(torch.uint8)
    if not torch.allclose(normalise(pixels, None), images, atol=1e-4):
        raise ValueError("the tensors are not MNIST digits normalised with (0.1307, 0.3081)")
    return pixels


class PILDigits(Dataset[tuple[Any, int]]):
    """Digits served as torchvision's MNIST serves them: one PIL image per item, then the
    tutorial's transforms (ToTensor + Normalize, with Pad first for a 32x32 model)."""

    def __init__(self, images: Tensor, labels: Tensor, padding: int | None) -> None:
        self.data = to_pixels(images)
        self.targets = labels
        steps: list[Any] = []
        if padding is not None and padding != self.data.shape[-1]:
            total = padding - self.data.shape[-1]
            before, after = total // 2, total - total // 2
            steps.append(transforms.Pad((before, before, after, after)))
        steps += [transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))]
        self.transform = transforms.Compose(steps)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        img, target = self.data[index], int(self.targets[index])
        return self.transform(Image.fromarray(img.numpy())), target


def tutorial_datasets(name: str, settings: Settings) -> tuple[PILDigits, PILDigits]:
    """The zoo run's train and test digits, as the tutorial's datasets hand them out."""
    splits = splits_for(name, settings, padded=False)
    return PILDigits(*splits["train"], pad_to(name)), PILDigits(*splits["test"], pad_to(name))
