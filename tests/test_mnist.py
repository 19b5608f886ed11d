"""The MNIST datamodule: the full-set path on tiny IDX files, the embedded digits, bad input."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
import torch

from zoo import ZooError
from zoo.datamodules.base import TensorBatches
from zoo.datamodules.mnist import MEAN, RAW_FILES, STD, MNISTDataModule


def write_idx(folder: Path, train: int, test: int) -> None:
    """The four IDX files in the format torchvision reads; pixel value = 10 * label."""
    folder.mkdir(parents=True)
    for (images_name, labels_name), n in zip(
        (RAW_FILES[:2], RAW_FILES[2:]), (train, test), strict=True
    ):
        labels = bytes(i % 10 for i in range(n))
        pixels = bytes(10 * (i % 10) for i in range(n) for _ in range(28 * 28))
        (folder / images_name).write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + pixels)
        (folder / labels_name).write_bytes(struct.pack(">II", 2049, n) + labels)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point torchvision's MNIST mirrors at a closed local port: downloads fail at once."""
    from torchvision.datasets import MNIST

    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])


def test_full_source_reads_idx_files_and_splits_them(tmp_path: Path) -> None:
    write_idx(tmp_path / "MNIST" / "raw", train=40, test=10)
    data = MNISTDataModule(str(tmp_path), source="full", val_split=0.25)
    assert data.split_sizes() == {"train": 30, "val": 10, "test": 10}
    assert data.used_source == "full"
    images, labels = data.splits["test"]
    assert images.shape == (10, 1, 28, 28) and images.dtype == torch.float32
    expected = (10 * labels.float() / 255 - MEAN) / STD
    torch.testing.assert_close(images[:, 0, 5, 5], expected)


def test_embedded_source_has_documented_sizes_and_a_fixed_test_set(tmp_path: Path) -> None:
    first = MNISTDataModule(str(tmp_path), source="embedded", seed=1)
    second = MNISTDataModule(str(tmp_path), source="embedded", seed=2)
    assert first.split_sizes() == second.split_sizes() == {"train": 3600, "val": 400, "test": 1000}
    torch.testing.assert_close(first.splits["test"][0], second.splits["test"][0])
    assert not torch.equal(first.splits["train"][1], second.splits["train"][1])
    assert set(first.splits["test"][1].tolist()) == set(range(10))
    assert abs(first.splits["train"][0].mean().item()) < 0.1


def test_pad_to_32_pads_with_the_normalised_background(tmp_path: Path) -> None:
    data = MNISTDataModule(str(tmp_path), source="embedded", pad_to=32)
    assert data.input_shape == (1, 32, 32)
    data.setup()
    images = data.splits["val"][0]
    assert images.shape[1:] == (1, 32, 32)
    assert torch.allclose(images[:, :, :2, :], torch.tensor(-MEAN / STD))


def test_augment_shifts_each_training_digit_by_at_most_two_pixels(tmp_path: Path) -> None:
    data = MNISTDataModule(str(tmp_path), source="embedded", batch_size=32, augment=True)
    data.setup()
    plain = next(iter(TensorBatches(data.splits["train"], 32, shuffle=True, seed=data.seed)))[0]
    shifted = next(iter(data.train_dataloader()))[0]
    background = -MEAN / STD
    padded = torch.nn.functional.pad(plain, (2, 2, 2, 2), value=background)
    offsets = set()
    for original, moved in zip(padded, shifted, strict=True):
        matches = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(original[:, dy : dy + 28, dx : dx + 28], moved)]
        assert matches, "an augmented digit is not a shift of its original"
        offsets.update(matches)
    assert len(offsets) > 5, "every digit got the same shift"
    assert torch.equal(next(iter(data.val_dataloader()))[0], data.splits["val"][0])


def test_full_source_without_files_or_network_fails_clearly(tmp_path: Path, offline: None) -> None:
    data = MNISTDataModule(str(tmp_path), source="full")
    with pytest.raises(ZooError, match=r"could not be downloaded .*--data.source embedded"):
        data.prepare_data()
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_whose_folder_another_run_removed_first_still_fails_clearly(
    tmp_path: Path, offline: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def removed_by_another_run(folder: Path) -> None:
        raise FileNotFoundError(2, "No such file or directory", str(folder))

    monkeypatch.setattr(Path, "rmdir", removed_by_another_run)
    with pytest.raises(ZooError, match=r"could not be downloaded"):
        MNISTDataModule(str(tmp_path), source="full").prepare_data()


def test_auto_source_falls_back_to_embedded_with_one_notice(
    tmp_path: Path, offline: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data = MNISTDataModule(str(tmp_path / "fresh"), source="auto")
    data.prepare_data()
    data.setup("fit")
    data.setup("test")
    assert data.used_source == "embedded"
    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(lines) == 1 and "5,000 embedded" in lines[0]


def test_unwritable_data_dir_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    data = MNISTDataModule(str(blocker / "mnist"), source="full")
    with pytest.raises(ZooError, match=r"cannot be created.*--data\.data_dir"):
        data.prepare_data()


def test_unknown_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ZooError, match="choose auto, full or embedded"):
        MNISTDataModule(str(tmp_path), source="ful")  # type: ignore[arg-type]


def test_tensor_batches_cover_every_sample_once_and_reshuffle_each_epoch() -> None:
    x = torch.arange(10)
    batches = TensorBatches((x, x * 2), batch_size=4, shuffle=True, seed=0)
    assert len(batches) == 3
    first = torch.cat([b[0] for b in batches])
    second = torch.cat([b[0] for b in batches])
    assert sorted(first.tolist()) == list(range(10)) == sorted(second.tolist())
    assert not torch.equal(first, second)
    assert all(torch.equal(b[1], b[0] * 2) for b in batches)


def test_tensor_batches_drop_last_keeps_only_full_batches() -> None:
    batches = TensorBatches((torch.arange(10),), batch_size=4, drop_last=True)
    assert len(batches) == 2 == len(list(batches))
