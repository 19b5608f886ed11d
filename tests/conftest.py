"""Shared fixtures: a synthetic datamodule shaped like any model's input, quiet trainers, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from torch import Tensor

from zoo.datamodules.base import TensorDataModule
from zoo.registry import model_card
from zoo.tasks import BinaryTask, ClassificationTask

REPO = Path(__file__).resolve().parents[1]
# The suite runs on the CPU; ZOO_TEST_ACCELERATOR=gpu runs the quiet trainers on a GPU instead.
TEST_ACCELERATOR = os.environ.get("ZOO_TEST_ACCELERATOR", "cpu")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--real-data-dir",
        default=os.environ.get("ZOO_DATA_DIR"),
        help="folder with the tutorials' data files (diabetes.csv.gz, ...); default $ZOO_DATA_DIR",
    )


SEQUENCE_LENGTH = 5
PT2_REFUSED = frozenset({"char_rnn_shakespeare", "embedding_rnn_hello", "gru_hello", "gru_names", "lstm_hello",
                         "rnn_hello"})
"""Models whose network torch.export cannot follow for any text length (nn.RNN, GRU and LSTM layers
unrolled for the example's length; gru_names sizes a tensor from one), so `zoo export --format pt2`
refuses them in one line and points to ONNX."""


def example_inputs(name: str, batch_size: int = 2) -> tuple[Tensor, ...]:
    """Random network inputs of model `name`, as its card's `inputs` makes them."""
    inputs = model_card(name).inputs
    assert inputs is not None, f"model {name} says nothing of its inputs"
    return inputs.example(batch_size)


def example_batch(name: str, batch_size: int = 2) -> tuple[Tensor, ...]:
    """Inputs and a target the task of model `name` can score (both classes for a binary one)."""
    card = model_card(name)
    inputs = example_inputs(name, batch_size)
    out = tuple(s or SEQUENCE_LENGTH for s in card.output_shape)
    if issubclass(card.task, ClassificationTask):
        target = torch.randint(0, out[-1], (batch_size, *out[:-1]))
    elif issubclass(card.task, BinaryTask):
        target = (torch.arange(batch_size * int(torch.tensor(out).prod())) % 2).float().view(batch_size, *out)
    else:
        target = torch.randn(batch_size, *out)
    return (*inputs, target)


class SyntheticDataModule(TensorDataModule):
    """A few random samples in the shapes and dtypes of a model's example batch."""

    def __init__(self, model: Any, data_dir: str, samples: int = 8, batch_size: int = 4) -> None:
        super().__init__(data_dir, batch_size=batch_size, eval_batch_size=batch_size, val_split=0.0)
        self.example = example_batch(model.zoo_name, samples)
        self.input_shape = model_card(model.zoo_name).input_shape

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        return {split: self.example for split in ("train", "val", "test")}


def quiet_trainer(root: Path, **kwargs: Any) -> pl.Trainer:
    options: dict[str, Any] = {
        "accelerator": TEST_ACCELERATOR,
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "default_root_dir": str(root),
    }
    return pl.Trainer(**(options | kwargs))


@pytest.fixture
def real_data_dir(request: pytest.FixtureRequest) -> Path:
    """The folder with the tutorials' real data files, from --real-data-dir or $ZOO_DATA_DIR."""
    value = request.config.getoption("--real-data-dir")
    if not value or not Path(value).is_dir():
        pytest.skip("no real data folder: pass --real-data-dir or set ZOO_DATA_DIR")
    return Path(value)


@pytest.fixture
def run_zoo(tmp_path: Path):
    """Run the zoo CLI in a subprocess in an empty folder, offline, using this checkout."""

    def run(*args: str, timeout: int = 300, extra_env: dict[str, str] | None = None):
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(REPO),
                "ZOO_DATA_DIR": str(tmp_path / "data"),
                "http_proxy": "http://127.0.0.1:9",
                "https_proxy": "http://127.0.0.1:9",
                "COLUMNS": "120",
            }
        )
        env.update(extra_env or {})
        return subprocess.run(
            [sys.executable, "-m", "zoo", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


IMAGE_MODES = ("I;16", "I", "P", "CMYK", "LA", "RGBA", "animated")
"""Pillow modes (and an animation) every image reader in zoo must take as their 8-bit grey twin."""


def save_in_mode(grey: Any, mode: str, path: Path) -> Path:
    """Save an 8-bit grey PIL image in another mode, holding the same picture: 16-bit values are
    the 8-bit ones times 257 (full range, as a 16-bit scanner writes); an animation's first frame
    is the picture, its second a blank. `path`'s suffix is replaced by one that keeps the mode."""
    import numpy as np
    from PIL import Image

    if mode in ("I;16", "I"):
        values = np.asarray(grey).astype(np.uint16 if mode == "I;16" else np.int32) * 257
        image = Image.fromarray(values)
        assert image.mode == mode
        return save(image, path.with_suffix(".png" if mode == "I;16" else ".tif"))
    if mode == "animated":
        blank = Image.new("L", grey.size, 128)
        path = path.with_suffix(".gif")
        grey.save(path, save_all=True, append_images=[blank])
        return path
    suffix = ".tif" if mode == "CMYK" else ".png"
    return save(grey.convert(mode), path.with_suffix(suffix))


def save(image: Any, path: Path) -> Path:
    image.save(path)
    return path
