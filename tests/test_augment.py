"""Batched random warps (affine, optionally elastic): what they keep, what they change, and
MNIST's options."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from zoo import ZooError
from zoo.datamodules.image_tensors import normalised_black, random_warp
from zoo.datamodules.mnist import AFFINE, ELASTIC, MEAN, STD, Augment, MNISTDataModule
from zoo.inputs.preparation import centre_of_mass

BACKGROUND = -MEAN / STD


def digits(n: int = 16, size: int = 28) -> torch.Tensor:
    """Background images with a bright bar in the middle of each, as normalised MNIST."""
    images = torch.full((n, 1, size, size), BACKGROUND)
    images[:, :, size // 2 - 2 : size // 2 + 2, 8:-8] = (1 - MEAN) / STD
    return images


def test_zero_magnitudes_give_the_images_back() -> None:
    images = torch.randn(8, 3, 20, 24)
    same = random_warp(0, 0, 0, 0, fill=[0.1, 0.2, 0.3])(images, torch.Generator().manual_seed(0))
    torch.testing.assert_close(same, images, atol=1e-5, rtol=0)


def test_shape_dtype_and_device_are_kept_and_each_image_moves_differently() -> None:
    images = digits()
    moved = random_warp(fill=[BACKGROUND], **AFFINE)(images, torch.Generator().manual_seed(0))
    assert moved.shape == images.shape and moved.dtype == images.dtype and moved.device == images.device
    assert not torch.allclose(moved, images)
    assert len({tuple(m.flatten().round(decimals=3).tolist()) for m in moved}) == len(images)
    # pixels brought in from outside are background, not zero
    torch.testing.assert_close(moved[:, :, 0, 0], torch.full((len(images), 1), BACKGROUND))


def test_the_same_generator_seed_gives_the_same_batch() -> None:
    transform = random_warp(fill=[BACKGROUND], **AFFINE)
    first = transform(digits(), torch.Generator().manual_seed(3))
    second = transform(digits(), torch.Generator().manual_seed(3))
    assert torch.equal(first, second)


@pytest.mark.parametrize("elastic", [0.0, 34.0])
def test_normalised_black_fill_keeps_a_blank_image_blank(elastic: float) -> None:
    blank = torch.full((4, 3, 8, 8), 0.0)
    fill = normalised_black((0.5, 0.4, 0.3), (0.2, 0.2, 0.2))
    blank += torch.tensor(fill).view(1, 3, 1, 1)
    moved = random_warp(30, 0.2, 20, 3, fill=fill, elastic=elastic)(blank, torch.Generator().manual_seed(0))
    torch.testing.assert_close(moved, blank)


def test_elastic_alone_bends_each_digit_its_own_way_and_reproducibly() -> None:
    warp = random_warp(0, 0, 0, 0, fill=[BACKGROUND], **ELASTIC)
    bent = warp(digits(), torch.Generator().manual_seed(5))
    assert not torch.allclose(bent, digits())
    assert len({tuple(m.flatten().round(decimals=3).tolist()) for m in bent}) == len(bent)
    assert torch.equal(bent, warp(digits(), torch.Generator().manual_seed(5)))
    # a bend, not a jump: each bar's centre of ink stays within a few pixels of where it was
    for bent_bar, bar in zip(bent[:, 0], digits()[:, 0], strict=True):
        where = torch.arange(bar.shape[0], dtype=torch.float32)
        moved = torch.stack(centre_of_mass(torch.stack([bent_bar, bar]) - BACKGROUND, where, where)).diff(dim=1)
        assert moved.abs().max() < 4


def test_a_zero_elastic_field_is_the_affine_warp_exactly() -> None:
    affine = random_warp(fill=[BACKGROUND], **AFFINE)(digits(), torch.Generator().manual_seed(2))
    flat = random_warp(fill=[BACKGROUND], **AFFINE, elastic=0.0)(digits(), torch.Generator().manual_seed(2))
    assert torch.equal(affine, flat)


def test_mnist_affine_augments_training_batches_only_and_keeps_labels(tmp_path: Path) -> None:
    data = MNISTDataModule(str(tmp_path), source="embedded", batch_size=32, augment="affine")
    data.setup()
    plain = MNISTDataModule(str(tmp_path), source="embedded", batch_size=32)
    plain.setup()
    images, labels = next(iter(data.train_dataloader()))
    original, original_labels = next(iter(plain.train_dataloader()))
    assert torch.equal(labels, original_labels)
    assert images.shape == original.shape == (32, 1, 28, 28) and images.dtype == torch.float32
    assert not torch.allclose(images, original)
    assert torch.equal(next(iter(data.val_dataloader()))[0], data.splits["val"][0])


@pytest.mark.parametrize("augment", ["affine", "elastic"])
def test_mnist_warps_work_on_padded_digits(tmp_path: Path, augment: Augment) -> None:
    data = MNISTDataModule(str(tmp_path), source="embedded", batch_size=8, augment=augment, pad_to=32)
    images, _ = next(iter(data.train_dataloader()))
    assert images.shape == (8, 1, 32, 32)


def test_mnist_elastic_bends_the_affine_batch_and_keeps_its_labels(tmp_path: Path) -> None:
    affine = MNISTDataModule(str(tmp_path), source="embedded", batch_size=16, augment="affine")
    elastic = MNISTDataModule(str(tmp_path), source="embedded", batch_size=16, augment="elastic")
    bent, labels = next(iter(elastic.train_dataloader()))
    straight, straight_labels = next(iter(affine.train_dataloader()))
    assert torch.equal(labels, straight_labels)
    assert not torch.allclose(bent, straight)


def test_mnist_shift_is_the_same_as_true_and_unknown_augment_is_refused(tmp_path: Path) -> None:
    shift = MNISTDataModule(str(tmp_path), source="embedded", batch_size=16, augment="shift")
    true = MNISTDataModule(str(tmp_path), source="embedded", batch_size=16, augment=True)
    assert torch.equal(next(iter(shift.train_dataloader()))[0], next(iter(true.train_dataloader()))[0])
    with pytest.raises(ZooError, match="augment"):
        MNISTDataModule(str(tmp_path), source="embedded", augment="rotate")  # type: ignore[arg-type]


def test_embedded_val_split_zero_trains_on_all_4000_digits(tmp_path: Path) -> None:
    data = MNISTDataModule(str(tmp_path), source="embedded", val_split=0.0)
    assert data.split_sizes() == {"train": 4000, "val": 0, "test": 1000}
    assert len(data.val_dataloader()) == 0
