"""The image datamodules (cifar10, image_folder, mnist_csv), their augmentation and shape checks."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
import yaml
from conftest import quiet_trainer
from torchvision.io import write_png

from zoo import ZooError, build
from zoo.datamodules.cifar10 import BATCH_FOLDER, MEAN, STD, CIFAR10DataModule
from zoo.datamodules.image_folder import IMAGENET_MEAN, IMAGENET_STD, MAX_CLASSES, ImageFolderDataModule
from zoo.datamodules.image_tensors import random_crop_flip
from zoo.datamodules.mnist import MEAN as MNIST_MEAN
from zoo.datamodules.mnist import STD as MNIST_STD
from zoo.datamodules.mnist_csv import MNISTCSVDataModule
from zoo.tasks import check_compatible

CIFAR_NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


# --- CIFAR-10 ------------------------------------------------------------------------------


def cifar_pixels(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)


def write_cifar(folder: Path, per_batch: int = 4) -> dict[str, dict]:
    """The six python batches (and batches.meta) in CIFAR-10's pickle format, tiny."""
    folder.mkdir(parents=True)
    batches = {}
    for i, name in enumerate(CIFAR_NAMES):
        batch = {
            "batch_label": name,
            "labels": [(i + j) % 10 for j in range(per_batch)],
            "data": cifar_pixels(per_batch, seed=i),
            "filenames": [f"{name}_{j}.png" for j in range(per_batch)],
        }
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        batches[name] = batch
    meta = {"label_names": ["airplane"] * 10, "num_cases_per_batch": per_batch, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return batches


def test_torchvision_refuses_batch_files_whose_md5_differs(tmp_path: Path) -> None:
    """Why the datamodule reads the pickles itself: torchvision checks every batch's md5."""
    write_cifar(tmp_path / BATCH_FOLDER)
    with pytest.raises(RuntimeError, match="not found or corrupted"):
        torchvision.datasets.CIFAR10(str(tmp_path), train=True, download=False)


def test_cifar10_reads_the_batches_as_normalised_channels_first_images(tmp_path: Path) -> None:
    batches = write_cifar(tmp_path / BATCH_FOLDER)
    data = CIFAR10DataModule(str(tmp_path), val_split=0.25)
    assert data.split_sizes() == {"train": 15, "val": 5, "test": 4}
    images, labels = data.splits["test"]
    assert images.dtype == torch.float32 and images.shape == (4, 3, 32, 32)
    raw = batches["test_batch"]["data"].reshape(4, 3, 32, 32)
    mean, std = torch.tensor(MEAN).view(3, 1, 1), torch.tensor(STD).view(3, 1, 1)
    torch.testing.assert_close((images * std + mean) * 255, torch.from_numpy(raw).float(),
                               atol=1e-3, rtol=0)
    assert labels.tolist() == batches["test_batch"]["labels"]
    train_labels = torch.cat([data.splits["train"][1], data.splits["val"][1]])
    expected = [label for n in CIFAR_NAMES[:5] for label in batches[n]["labels"]]
    assert sorted(train_labels.tolist()) == sorted(expected)


def test_cifar10_offline_without_files_fails_in_one_line_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.error
    import urllib.request

    def offline(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    data = CIFAR10DataModule(str(tmp_path / "data"))
    with pytest.raises(ZooError, match=r"could not be downloaded \(URLError\); connect") as err:
        data.prepare_data()
    assert "\n" not in str(err.value) and "cifar-10-python.tar.gz" in str(err.value)
    assert list((tmp_path / "data").iterdir()) == []


def test_a_download_that_breaks_halfway_leaves_no_partial_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(url: str, download_root: str, **kwargs: object) -> None:
        (Path(download_root) / "cifar-10-python.tar.gz").write_bytes(b"half an archive")
        (Path(download_root) / BATCH_FOLDER).mkdir()
        (Path(download_root) / BATCH_FOLDER / "data_batch_1").write_bytes(b"half a batch")
        raise OSError("connection reset")

    monkeypatch.setattr(torchvision.datasets.cifar, "download_and_extract_archive", broken)
    with pytest.raises(ZooError, match=r"could not be downloaded \(OSError\)"):
        CIFAR10DataModule(str(tmp_path)).prepare_data()
    assert list(tmp_path.iterdir()) == []


def test_a_finished_download_is_moved_into_place_and_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FakeTorchvisionCIFAR10:
        def __init__(self, root: str, train: bool, download: bool) -> None:
            write_cifar(Path(root) / BATCH_FOLDER, per_batch=2)
            (Path(root) / "cifar-10-python.tar.gz").write_bytes(b"the archive")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeTorchvisionCIFAR10)
    data = CIFAR10DataModule(str(tmp_path), val_split=0.2)
    assert data.split_sizes() == {"train": 8, "val": 2, "test": 2}
    assert [p.name for p in tmp_path.iterdir()] == [BATCH_FOLDER]


def test_cifar10_names_missing_and_damaged_batch_files(tmp_path: Path) -> None:
    write_cifar(tmp_path / BATCH_FOLDER)
    (tmp_path / BATCH_FOLDER / "data_batch_3").unlink()
    with pytest.raises(ZooError, match="lacks data_batch_3; copy them there, or delete"):
        CIFAR10DataModule(str(tmp_path)).setup()
    (tmp_path / BATCH_FOLDER / "data_batch_3").write_bytes(b"\x80\x02 not a pickle")
    with pytest.raises(ZooError, match=r"cannot read CIFAR-10 batch .*data_batch_3 "):
        CIFAR10DataModule(str(tmp_path)).setup()


# --- batched augmentation -------------------------------------------------------------------


def test_crop_flip_keeps_shape_and_dtype_and_is_seeded() -> None:
    images = torch.randn(16, 3, 32, 32)
    augment = random_crop_flip(4, [0.0, 0.0, 0.0])
    first = augment(images, torch.Generator().manual_seed(1))
    assert first.shape == images.shape and first.dtype == images.dtype
    torch.testing.assert_close(augment(images, torch.Generator().manual_seed(1)), first)
    assert not torch.equal(augment(images, torch.Generator().manual_seed(2)), first)
    changed = (first != images).flatten(1).any(dim=1)
    assert changed.sum() >= 12  # 1/81 chance per image of no shift, and then 1/2 of no flip


def test_each_augmented_image_is_a_window_of_the_padded_image_maybe_mirrored() -> None:
    images = torch.arange(8 * 2 * 6 * 6, dtype=torch.float32).view(8, 2, 6, 6)
    fill = [-1.0, -2.0]
    out = random_crop_flip(2, fill)(images, torch.Generator().manual_seed(0))
    padded = torch.stack([torch.full((10, 10), f) for f in fill]).repeat(8, 1, 1, 1)
    padded[..., 2:8, 2:8] = images
    seen_flip = seen_shift = False
    for image, result in zip(padded, out, strict=True):
        matches = [
            (top, left, flip)
            for top in range(5)
            for left in range(5)
            for flip in (False, True)
            if torch.equal(
                image[:, top : top + 6, left : left + 6].flip(-1)
                if flip
                else image[:, top : top + 6, left : left + 6],
                result,
            )
        ]
        assert len(matches) == 1
        seen_flip |= matches[0][2]
        seen_shift |= matches[0][:2] != (2, 2)
    assert seen_flip and seen_shift


def test_cifar10_augments_training_batches_only_when_asked(tmp_path: Path) -> None:
    write_cifar(tmp_path / BATCH_FOLDER)
    data = CIFAR10DataModule(str(tmp_path), batch_size=32, val_split=0.0)
    ((augmented, labels),) = list(data.train_dataloader())
    plain_data = CIFAR10DataModule(str(tmp_path), batch_size=32, val_split=0.0, augment=False)
    ((plain, plain_labels),) = list(plain_data.train_dataloader())
    assert torch.equal(labels, plain_labels)  # the same shuffle, so the same images in order
    assert augmented.shape == plain.shape == (20, 3, 32, 32)
    assert not torch.equal(augmented, plain)
    black = torch.tensor([-m / s for m, s in zip(MEAN, STD, strict=True)])
    padding_pixels = (augmented.permute(0, 2, 3, 1) == black).all(dim=-1)
    assert padding_pixels.any()


# --- image_folder ---------------------------------------------------------------------------


def write_image(path: Path, rgb: tuple[int, int, int], size: tuple[int, int] = (20, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = torch.tensor(rgb, dtype=torch.uint8).view(3, 1, 1).expand(3, *size).contiguous()
    write_png(image, str(path))


def ants_and_bees(root: Path, per_class: int = 5) -> None:
    for i in range(per_class):
        write_image(root / "bees" / f"bee{i}.png", (255, 255, 0), size=(20 + i, 30))
        write_image(root / "ants" / f"ant{i}.png", (255, 0, 0), size=(40, 25 + i))


def test_image_folder_labels_are_sorted_folder_names_and_images_are_resized(tmp_path: Path) -> None:
    ants_and_bees(tmp_path)
    (tmp_path / "ants" / "notes.txt").write_text("not an image")
    data = ImageFolderDataModule(str(tmp_path), image_size=16, val_split=0.2, test_split=0.2)
    assert data.classes == ["ants", "bees"] and data.num_classes == 2
    assert data.input_shape == (3, 16, 16)
    assert data.split_sizes() == {"train": 6, "val": 2, "test": 2}
    images, labels = (torch.cat(t) for t in zip(*data.splits.values(), strict=True))
    assert images.shape == (10, 3, 16, 16) and images.dtype == torch.float32
    assert sorted(labels.tolist()) == [0] * 5 + [1] * 5
    red = torch.tensor([(1 - IMAGENET_MEAN[0]) / IMAGENET_STD[0],
                        -IMAGENET_MEAN[1] / IMAGENET_STD[1],
                        -IMAGENET_MEAN[2] / IMAGENET_STD[2]]).view(3, 1, 1)
    ant = images[labels == 0][0]
    torch.testing.assert_close(ant, red.expand_as(ant), atol=1e-5, rtol=0)


def test_image_folder_uses_train_and_val_folders_when_present(tmp_path: Path) -> None:
    ants_and_bees(tmp_path / "train", per_class=4)
    ants_and_bees(tmp_path / "val", per_class=2)
    data = ImageFolderDataModule(str(tmp_path))
    assert data.split_sizes() == {"train": 8, "val": 4, "test": 4}
    torch.testing.assert_close(data.splits["test"], data.splits["val"])
    write_image(tmp_path / "val" / "wasps" / "w.png", (0, 0, 0))
    with pytest.raises(ZooError, match=r"wasps is not a label of .*train; rename it to one of: a"):
        ImageFolderDataModule(str(tmp_path)).setup()


def test_a_corrupt_image_is_named_or_skipped_and_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ants_and_bees(tmp_path)
    (tmp_path / "bees" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with pytest.raises(ZooError, match=r"cannot decode image .*bees/broken\.png \(.+\); remove"):
        ImageFolderDataModule(str(tmp_path)).setup()
    data = ImageFolderDataModule(str(tmp_path), skip_bad_files=True, decode_workers=2)
    assert sum(data.split_sizes().values()) == 10
    notices = [line for line in capsys.readouterr().err.splitlines() if "skipped" in line]
    assert len(notices) == 1 and "skipped 1 unreadable image files" in notices[0]
    assert "broken.png" in notices[0]


def test_image_folder_refuses_missing_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(ZooError, match=r"needs its folder; pass --data\.root"):
        ImageFolderDataModule()
    with pytest.raises(ZooError, match=r"nowhere does not exist; pass --data\.root"):
        ImageFolderDataModule(str(tmp_path / "nowhere")).setup()
    with pytest.raises(ZooError, match="no label folders in"):
        ImageFolderDataModule(str(tmp_path)).setup()
    (tmp_path / "ants").mkdir()
    with pytest.raises(ZooError, match="no images in"):
        ImageFolderDataModule(str(tmp_path)).setup()



def test_more_label_folders_than_zoo_classifies_are_refused_at_once_without_a_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """10,000 label folders once kept `zoo fit` silent for five minutes (LightningCLI checking the
    labels in the run's configuration); empty folders are enough to be refused."""
    from zoo.cli import main

    root = tmp_path / "photos"
    for i in range(MAX_CLASSES + 1):
        (root / f"label{i:05d}").mkdir(parents=True)
    refusal = (f"{root} holds more than 1,000 label folders, and zoo classifies at most 1,000 classes; "
               "pass --data.root with at most 1,000, ROOT/<label>/<image>")
    with pytest.raises(ZooError) as raised:
        ImageFolderDataModule(str(root)).setup()
    assert str(raised.value) == refusal
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["fit", "--model", "cnn_cifar10", "--data", "image_folder", "--data.root", str(root)])
    assert stop.value.code == 2
    assert capsys.readouterr().err == f"zoo: error: {refusal}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos"], "no run folder"

def test_cnn_cifar10_fits_an_image_folder(tmp_path: Path) -> None:
    ants_and_bees(tmp_path / "images")
    model = build("cnn_cifar10", labels=["ants", "bees"])
    assert model.net.model1[-1].out_features == 2
    data = ImageFolderDataModule(str(tmp_path / "images"), batch_size=4)
    trainer = quiet_trainer(tmp_path, fast_dev_run=True)
    trainer.fit(model, datamodule=data)
    assert trainer.state.finished and torch.isfinite(trainer.callback_metrics["train/loss"])


# --- mnist_csv ------------------------------------------------------------------------------


def write_digits_csv(path: Path, rows: int, header: bool) -> np.ndarray:
    values = np.random.default_rng(rows).integers(0, 256, (rows, 785))
    values[:, 0] = np.arange(rows) % 10
    values[0, 1] = 255
    names = ["label"] + [f"{r}x{c}" for r in range(1, 29) for c in range(1, 29)]
    lines = [",".join(names)] * header
    lines += [",".join(map(str, row)) for row in values]
    path.write_text("\n".join(lines) + "\n")
    return values


@pytest.mark.parametrize("header", [True, False])
def test_mnist_csv_reads_label_first_rows_normalised_like_mnist(
    tmp_path: Path, header: bool
) -> None:
    write_digits_csv(tmp_path / "mnist_train.csv", 20, header)
    test_values = write_digits_csv(tmp_path / "mnist_test.csv", 5, header)
    data = MNISTCSVDataModule(str(tmp_path), val_split=0.2)
    assert data.split_sizes() == {"train": 16, "val": 4, "test": 5}
    images, labels = data.splits["test"]
    assert images.shape == (5, 1, 28, 28) and labels.tolist() == [0, 1, 2, 3, 4]
    assert images[0, 0, 0, 0].item() == pytest.approx((1 - MNIST_MEAN) / MNIST_STD)
    expected = (torch.from_numpy(test_values[:, 1:]).float() / 255 - MNIST_MEAN) / MNIST_STD
    torch.testing.assert_close(images.flatten(1), expected, atol=1e-5, rtol=0)


def test_mnist_csv_refuses_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ZooError, match=r"MNIST CSV file .*mnist_train\.csv not found"):
        MNISTCSVDataModule(str(tmp_path)).setup()
    (tmp_path / "train.csv").write_text("3,0,0,0\n")
    write_digits_csv(tmp_path / "test.csv", 2, header=False)
    with pytest.raises(ZooError, match="has 4 columns, expected 785; every row must be the digit, then 784"):
        MNISTCSVDataModule(str(tmp_path), train_file="train.csv", test_file="test.csv").setup()


@pytest.mark.parametrize(("name", "pad_to"), [("cnn_mnist", None), ("lenet_mnist", 32)])
def test_mnist_models_fit_on_mnist_csv(tmp_path: Path, name: str, pad_to: int | None) -> None:
    write_digits_csv(tmp_path / "mnist_train.csv", 12, header=False)
    write_digits_csv(tmp_path / "mnist_test.csv", 4, header=False)
    data = MNISTCSVDataModule(str(tmp_path), batch_size=4, pad_to=pad_to)
    model = build(name)
    trainer = quiet_trainer(tmp_path, fast_dev_run=True)
    trainer.fit(model, datamodule=data)
    assert trainer.state.finished and torch.isfinite(trainer.callback_metrics["train/loss"])


# --- model / data checks --------------------------------------------------------------------


def test_an_mnist_model_is_refused_on_cifar10_without_touching_files(tmp_path: Path) -> None:
    data = CIFAR10DataModule(str(tmp_path / "data"))
    expected = "expects inputs of shape 1x28x28 but datamodule 'cifar10' gives 3x32x32"
    with pytest.raises(ZooError, match=expected):
        check_compatible(build("mlp_mnist"), data)
    assert not (tmp_path / "data").exists()


def test_a_model_with_other_labels_than_the_folder_is_refused(tmp_path: Path) -> None:
    for label in "abc":
        write_image(tmp_path / label / "x.png", (0, 0, 0))
    data = ImageFolderDataModule(str(tmp_path))
    expected = r"data's labels differ from those of model 'cnn_cifar10' \(only the data has 'c'\); .*--model\.labels"
    with pytest.raises(ZooError, match=expected):
        check_compatible(build("cnn_cifar10", labels=["a", "b"]), data)
    reordered = r"\(the same 3 labels in another order: data 'a', 'b', 'c', model 'c', 'b', 'a'\)"
    with pytest.raises(ZooError, match=reordered):
        check_compatible(build("cnn_cifar10", labels=["c", "b", "a"]), data)
    check_compatible(build("cnn_cifar10", labels=["a", "b", "c"]), data)


@pytest.mark.slow
def test_cli_refuses_mlp_mnist_on_cifar10_before_any_download(run_zoo, tmp_path: Path) -> None:
    result = run_zoo("fit", "--model", "mlp_mnist", "--data", "cifar10")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("zoo: error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert "expects inputs of shape 1x28x28" in errors[0] and "gives 3x32x32" in errors[0]
    assert not (tmp_path / "data").exists() and not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_cli_fit_cnn_cifar10_offline_says_how_to_get_cifar10(run_zoo, tmp_path: Path) -> None:
    result = run_zoo("fit", "--model", "cnn_cifar10", "--trainer.fast_dev_run", "true")
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("zoo: error: CIFAR-10 is not in") and "cifar-10-python.tar.gz" in last
    assert "Traceback" not in result.stderr
    assert list((tmp_path / "data").iterdir()) == []


@pytest.mark.slow
def test_cli_fits_cnn_cifar10_on_an_image_folder(run_zoo, tmp_path: Path) -> None:
    ants_and_bees(tmp_path / "hymenoptera")
    result = run_zoo("fit", "--model", "cnn_cifar10", "--data", "image_folder",
                     "--data.root", str(tmp_path / "hymenoptera"),
                     "--trainer.fast_dev_run", "true")
    assert result.returncode == 0, result.stderr
    assert "zoo: test of the final weights: test/acc" in result.stdout


def test_an_mnist_model_built_with_the_folders_labels_has_that_many_outputs(tmp_path: Path) -> None:
    for label in ("a", "b"):
        write_image(tmp_path / label / "x.png", (0, 0, 0))
    data = ImageFolderDataModule(str(tmp_path), channels=1, image_size=28)
    for name in ("mlp_mnist", "cnn_mnist", "cnn_deep_mnist", "inception_mnist", "resnet_mnist"):
        model = build(name, labels=["a", "b"])
        check_compatible(model, data)
        assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 2)
    assert build("lenet_mnist", labels=["a", "b"])(torch.zeros(1, 1, 32, 32)).shape == (1, 2)


@pytest.mark.slow
def test_cli_fits_cnn_mnist_on_a_two_label_folder_taking_the_folders_labels(run_zoo, tmp_path: Path) -> None:
    for i in range(4):
        write_image(tmp_path / "digits" / "a" / f"{i}.png", (30 + i, 30, 30), size=(20, 20))
        write_image(tmp_path / "digits" / "b" / f"{i}.png", (220 + i, 220, 220), size=(20, 20))
    args = ["fit", "--model", "cnn_mnist", "--data", "image_folder", "--data.root", str(tmp_path / "digits"),
            "--data.channels", "1", "--data.image_size", "28", "--data.val_split", "0.25", "--data.test_split", "0.25",
            "--trainer.max_epochs", "1"]
    refused = run_zoo(*args, "--model.labels", "[x, y]")  # labels of one's own that are not the folder's
    assert refused.returncode == 2 and "build the model with --model.labels" in refused.stderr
    assert not (tmp_path / "runs").exists()
    result = run_zoo(*args)  # no labels typed: the folder's are linked to the model
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "zoo: test of the best checkpoint: test/acc" in result.stdout
    saved = yaml.safe_load((tmp_path / "runs/cnn_mnist/lightning_logs/version_0/config.yaml").read_text())
    assert saved["model"]["init_args"]["labels"] == ["a", "b"]
