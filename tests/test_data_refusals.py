"""Data files that must be refused in one line, never trusted: crafted, cut short or too small."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
import torchvision
from conftest import IMAGE_MODES, quiet_trainer, save_in_mode
from lightning.pytorch.loggers import TensorBoardLogger
from PIL import Image
from torch import Tensor, nn
from torchvision.io import write_png

from zoo.callbacks import LogSampleImages
from zoo.datamodules.cifar10 import (
    BATCH_FOLDER,
    OFFICIAL_MD5,
    TEST_BATCHES,
    TRAIN_BATCHES,
    md5_of,
    read_batches,
)
from zoo.datamodules.diabetes import read_table
from zoo.datamodules.image_folder import ImageFolderDataModule
from zoo.datamodules.mnist_csv import read_digits_csv
from zoo.datamodules.names import read_rows
from zoo.errors import ZooError

# --- CIFAR-10 batches -----------------------------------------------------------------------


class WritesMarker:
    """What a crafted batch can hold: unpickling it calls open(marker, 'w')."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.marker), "w")


def fake_batch(seed: int, count: int = 3) -> bytes:
    """A batch as the official files hold it (data, labels, filenames), pickled at protocol 2."""
    batch = {
        "batch_label": f"fake {seed}",
        "data": np.random.default_rng(seed).integers(0, 256, (count, 3072), dtype=np.uint8),
        "labels": [(seed + j) % 10 for j in range(count)],
        "filenames": [f"fake_{seed}_{j}.png" for j in range(count)],
    }
    return pickle.dumps(batch, protocol=2)


def write_fake_batches(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for seed, name in enumerate(TRAIN_BATCHES + TEST_BATCHES):
        (folder / name).write_bytes(fake_batch(seed))
    return folder


def test_a_crafted_batch_is_refused_without_running_its_code(tmp_path: Path) -> None:
    proof = tmp_path / "plain-pickle-ran-code"
    pickle.loads(pickle.dumps(WritesMarker(proof), protocol=2)).close()
    assert proof.exists()  # so the payload really runs code under plain pickle.load

    folder = write_fake_batches(tmp_path / BATCH_FOLDER)
    marker = tmp_path / "marker"
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": WritesMarker(marker)}, protocol=2))
    with pytest.raises(ZooError, match=r"data_batch_1 is not a CIFAR-10 batch \(it names io\.open") as err:
        read_batches(folder, TRAIN_BATCHES)
    assert not marker.exists()
    assert "\n" not in str(err.value) and f"delete {folder}" in str(err.value)


def test_fake_batches_still_read_with_a_notice_that_they_are_not_official(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_fake_batches(tmp_path / BATCH_FOLDER)
    images, labels = read_batches(folder, TRAIN_BATCHES)
    assert images.shape == (15, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.tolist()[:3] == [0, 1, 2]
    notices = capsys.readouterr().err.splitlines()
    assert len(notices) == 1 and "data_batch_1, data_batch_2" in notices[0]
    assert "are not the official CIFAR-10 files" in notices[0]


def test_a_batch_written_by_numpy_1_reads(tmp_path: Path) -> None:
    """The official files name numpy.core.multiarray, numpy 2's numpy._core.multiarray."""
    folder = write_fake_batches(tmp_path / BATCH_FOLDER)
    numpy_1 = fake_batch(0).replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in numpy_1
    (folder / "test_batch").write_bytes(numpy_1)
    images, _ = read_batches(folder, TEST_BATCHES)
    assert torch.equal(images, read_batches(folder, ["data_batch_1"])[0])


def test_batches_with_the_official_md5_read_without_a_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_fake_batches(tmp_path / BATCH_FOLDER)
    for name in TEST_BATCHES:
        monkeypatch.setitem(OFFICIAL_MD5, name, md5_of(folder / name))
    read_batches(folder, TEST_BATCHES)
    assert capsys.readouterr().err == ""


def test_the_official_md5_sums_are_torchvisions() -> None:
    cifar = torchvision.datasets.CIFAR10
    assert dict(cifar.train_list + cifar.test_list) == OFFICIAL_MD5


# --- CSV tables of numbers ------------------------------------------------------------------

DIABETES_ROW = ["-0.29", "0.48", "0.18", "-0.29", "0", "0.001", "-0.53", "-0.03", "1"]


def diabetes_file(folder: Path, line: int, column: int, cell: str) -> Path:
    rows = [list(DIABETES_ROW) for _ in range(4)]
    rows[line - 1][column - 1] = cell
    path = folder / "diabetes.csv.gz"
    path.write_bytes(gzip.compress("".join(",".join(r) + "\n" for r in rows).encode()))
    return path


def mnist_file(folder: Path, line: int, column: int, cell: str) -> Path:
    rows = [["7", *["0"] * 784] for _ in range(3)]
    rows[line - 2][column - 1] = cell
    path = folder / "mnist_train.csv"
    header = ",".join(["label", *(f"p{i}" for i in range(784))])
    path.write_text("\n".join([header] + [",".join(r) for r in rows]) + "\n")
    return path


TABLE_CELLS = [
    (read_table, diabetes_file, 2, 3, "inf", "line 2, column 3: 'inf' is not a finite number (the features are"),
    (read_table, diabetes_file, 3, 1, "1e30", "line 3, column 1: 1e30 is outside -1..1 (the features are scaled to"),
    (read_table, diabetes_file, 4, 8, "", "line 4, column 8: the cell is empty (the features are scaled to [-1, 1],"),
    (read_table, diabetes_file, 1, 5, "nan", "line 1, column 5: 'nan' is not a finite number"),
    (read_table, diabetes_file, 1, 2, "abc", "line 1, column 2: 'abc' is not a number"),
    (read_table, diabetes_file, 2, 9, "0.5", "line 2, column 9: 0.5 is not a whole number (the label is 0 or 1, 0..1)"),
    (read_table, diabetes_file, 2, 9, "2", "line 2, column 9: 2 is outside 0..1 (the label is 0 or 1)"),
    (read_digits_csv, mnist_file, 3, 1, "10", "line 3, column 1: 10 is outside 0..9 (the first column is the digit"),
    (read_digits_csv, mnist_file, 2, 100, "256", "line 2, column 100: 256 is outside 0..255 (pixels are raw whole"),
    (read_digits_csv, mnist_file, 4, 785, "-inf", "line 4, column 785: '-inf' is not a finite number"),
    (read_digits_csv, mnist_file, 2, 2, "12.5", "line 2, column 2: 12.5 is not a whole number"),
    (read_digits_csv, mnist_file, 3, 50, "", "line 3, column 50: the cell is empty"),
    (read_digits_csv, mnist_file, 4, 3, "x", "line 4, column 3: 'x' is not a number"),
]


@pytest.mark.parametrize(("read", "write", "line", "column", "cell", "words"), TABLE_CELLS,
                         ids=[f"{w.__name__}-{c or 'empty'}" for _, w, _, _, c, _ in TABLE_CELLS])
def test_a_bad_cell_is_refused_naming_file_line_and_column(
    tmp_path: Path, read: object, write: object, line: int, column: int, cell: str, words: str
) -> None:
    path = write(tmp_path, line, column, cell)  # type: ignore[operator]
    with pytest.raises(ZooError) as err:
        read(path)  # type: ignore[operator]
    assert str(err.value).startswith(f"{path} {words}") and "\n" not in str(err.value)


# --- names ----------------------------------------------------------------------------------


def test_a_cut_short_names_file_is_refused_in_one_line(tmp_path: Path) -> None:
    rows = "".join(f"Name{i},Country{i % 3}\n" for i in range(200)).encode()
    whole = gzip.compress(rows)
    path = tmp_path / "names_train.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ZooError, match=r"names_train\.csv\.gz is cut short or damaged \(") as err:
        read_rows(path)
    assert "\n" not in str(err.value) and "replace it with a complete copy" in str(err.value)


def test_a_names_row_without_a_country_is_refused_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "names_train.csv.gz"
    path.write_bytes(gzip.compress(b"Nguyen,Vietnamese\nKim, \n"))
    with pytest.raises(ZooError, match=r"names_train.csv.gz line 2: the country is empty .*; every row must be name,"):
        read_rows(path)


# --- image folders --------------------------------------------------------------------------


def write_images(root: Path, per_class: dict[str, int]) -> Path:
    for label, count in per_class.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            image = torch.full((3, 8, 8), 40 * i, dtype=torch.uint8)
            write_png(image, str(root / label / f"{i}.png"))
    return root


def test_an_image_folder_of_one_class_is_refused(tmp_path: Path) -> None:
    root = write_images(tmp_path / "images", {"ants": 5})
    expected = r"one class only \(ants\); classification needs at least two classes: add a folder"
    with pytest.raises(ZooError, match=expected):
        ImageFolderDataModule(str(root)).setup()
    (root / "bees").mkdir()  # a second class without images is still one class
    with pytest.raises(ZooError, match=expected):
        ImageFolderDataModule(str(root)).setup()


def test_a_folder_too_small_to_train_on_is_refused_with_its_size(tmp_path: Path) -> None:
    root = write_images(tmp_path / "images", {"ants": 1, "bees": 1})
    data = ImageFolderDataModule(str(root), val_split=0.4, test_split=0.4)
    with pytest.raises(ZooError, match=r"image_folder holds 2 samples, too few to leave any for training after "
                       r"val_split 0.4 and test_split 0.4; add data") as err:
        data.setup()
    assert "\n" not in str(err.value) and "lower --data.val_split" in str(err.value)


class TinyClassifier(pl.LightningModule):
    """Just enough of a model to fit: the callback, not the model, is under test."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2))

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        images, labels = batch
        return nn.functional.cross_entropy(self.net(images), labels)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_an_empty_validation_split_fits_and_logs_no_sample_images(tmp_path: Path) -> None:
    root = write_images(tmp_path / "images", {"ants": 1, "bees": 1})
    data = ImageFolderDataModule(str(root), image_size=8, batch_size=2)
    assert data.split_sizes() == {"train": 2, "val": 0, "test": 0}
    trainer = quiet_trainer(tmp_path, max_epochs=1, logger=TensorBoardLogger(tmp_path / "logs"),
                            callbacks=[LogSampleImages()])
    trainer.fit(TinyClassifier(), datamodule=data)
    assert trainer.state.finished


@pytest.mark.parametrize("size", [(10_000, 10_000), (14_000, 14_000)], ids=["over-the-limit", "over-twice-the-limit"])
def test_a_decompression_bomb_in_an_image_folder_is_refused_unless_skipped(
    tmp_path: Path, size: tuple[int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_images(tmp_path / "images", {"ants": 3, "bees": 3})
    Image.new("1", size).save(root / "bees" / "bomb.png")  # tens of kB that decode to >= 100 million pixels
    with pytest.raises(ZooError, match=r"cannot decode image .*bomb\.png \(.*over zoo's limit of 89,478,485 pixels "
                       r"against decompression bombs\); remove or replace it, or pass --data.skip_bad_files true"):
        ImageFolderDataModule(str(root), image_size=8).setup()
    data = ImageFolderDataModule(str(root), image_size=8, skip_bad_files=True)
    assert sum(data.split_sizes().values()) == 6
    assert "skipped 1 unreadable image files" in capsys.readouterr().err


def test_an_image_folder_takes_every_mode_as_its_8_bit_grey_twin(tmp_path: Path) -> None:
    grey = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8) * 4)
    for label in ("twins", "grey"):
        (tmp_path / label).mkdir()
    for mode in IMAGE_MODES:
        save_in_mode(grey, mode, tmp_path / "twins" / mode.replace(";", "_"))
    grey.save(tmp_path / "grey" / "grey.png")
    data = ImageFolderDataModule(str(tmp_path), image_size=8, channels=1, val_split=0, test_split=0)
    data.setup()
    images, labels = data.splits["train"]
    assert len(labels) == 1 + len(IMAGE_MODES)
    for image in images:
        torch.testing.assert_close(image, images[labels == 1][0], atol=0.02, rtol=0)


# --- Data that disagrees with the model -------------------------------------------------------

GRU_NAMES_COUNTRIES = ("Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish",
                       "Italian", "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish",
                       "Vietnamese")


@pytest.mark.parametrize(("countries", "words"), [
    (("Atlantis", "Mars"), "(only the data has 'Atlantis', 'Mars' and only the model has 'Arabic', 'Chinese'"),
    ((*GRU_NAMES_COUNTRIES, "Narnia"), "(only the data has 'Narnia')"),
    (GRU_NAMES_COUNTRIES[1:], "(only the model has 'Arabic')"),
], ids=["other-countries", "one-unknown-country", "one-country-missing"])
def test_names_whose_countries_differ_from_the_models_are_refused_naming_them(
    run_zoo, tmp_path: Path, countries: tuple[str, ...], words: str
) -> None:
    data = tmp_path / "names"
    data.mkdir()
    rows = "".join(f"Name{i},{country}\n" for i in range(12) for country in countries)
    (data / "names_train.csv.gz").write_bytes(gzip.compress(rows.encode()))
    result = run_zoo("test", "--model", "gru_names", "--pretrained", "true", "--data.data_dir", str(data))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"zoo: error: the data's labels differ from those of model 'gru_names' {words}" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_feature_the_data_reader_refuses_is_refused_over_http_too(tmp_path: Path) -> None:
    """zoo serve reads a request as zoo predict reads its inputs: a diabetes feature of 1e30 is a
    400 naming the bound the diabetes file is read with, and the rest of the batch is answered."""
    adapter = pytest.importorskip("zoo.serve.adapter")
    from zoo import build

    model = build("diabetes_mlp")
    body = adapter.request_body("diabetes_mlp")
    queries = [adapter.checked(body(input=text)) for text in ("0,0,0,0,0,0,0,1e30", "0,0,0,0,0,0,0,0.5")]
    answers = adapter.answer(model, queries)
    assert answers[0] == adapter.Refusal(400, "input '0,0,0,0,0,0,0,1e30': 1e30 is outside -1..1 (the features "
                                              "are scaled to [-1, 1]); pass numbers within -1..1")
    assert answers[1]["prediction"] in ("0", "1")


# --- Encodings ------------------------------------------------------------------------------

ENCODED = [
    ("utf-16", "is UTF-16 text, which zoo does not read"),
    ("utf-16-le", "holds NUL bytes (UTF-16 text without its mark, or no text at all)"),
    ("utf-32", "is UTF-32 text, which zoo does not read"),
    ("cp1252", "is not UTF-8 text (byte 0xe9 at offset"),
]
READERS = [  # reader, file name, gzipped, its text (an 'é' where cp1252 writes a byte UTF-8 refuses)
    (read_table, "diabetes.csv.gz", True, ",".join(DIABETES_ROW) + "\n" + ",".join(DIABETES_ROW) + "\n# é\n"),
    (read_table, "diabetes.csv", False, ",".join(DIABETES_ROW) + "\n# é\n"),
    (read_digits_csv, "mnist_train.csv", False, ",".join(["7", *["0"] * 784]) + "\n# é\n"),
    (read_rows, "names_train.csv.gz", True, "Nguyen,Vietnamese\nJosé,Spanish\n"),
]


@pytest.mark.parametrize(("encoding", "words"), ENCODED, ids=[e for e, _ in ENCODED])
@pytest.mark.parametrize(("read", "name", "gzipped", "text"), READERS, ids=[r[1] for r in READERS])
def test_a_csv_not_in_utf8_is_refused_before_it_is_parsed(
    tmp_path: Path, read, name: str, gzipped: bool, text: str, encoding: str, words: str
) -> None:
    data = text.encode(encoding)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if gzipped else data)
    with pytest.raises(ZooError) as err:
        read(path)
    assert str(err.value).startswith(f"{path} {words}")
    assert str(err.value).endswith("; save it as UTF-8 (or plain ASCII) comma-separated text")


def test_a_checkpoint_tested_on_names_of_other_countries_is_refused(run_zoo, tmp_path: Path) -> None:
    """The issue's own case: `zoo test --ckpt_path C --data.data_dir D`, the model's labels from C."""
    from zoo import build

    trainer = quiet_trainer(tmp_path)
    trainer.strategy.connect(build("gru_names"))
    trainer.save_checkpoint(tmp_path / "gru.ckpt")
    (tmp_path / "names").mkdir()
    rows = "".join(f"Name{i},{country}\n" for i in range(12) for country in (*GRU_NAMES_COUNTRIES, "Narnia"))
    (tmp_path / "names" / "names_train.csv.gz").write_bytes(gzip.compress(rows.encode()))
    result = run_zoo("test", "--ckpt_path", "gru.ckpt", "--data.data_dir", "names")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "zoo: error: the data's labels differ from those of model 'gru_names' (only the data has 'Narnia');" \
        in result.stderr
    assert not (tmp_path / "runs").exists()
