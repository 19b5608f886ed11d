"""Shared fixtures: a synthetic datamodule shaped like any model's input, quiet trainers, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
from torch import Tensor

from zoo.datamodules.base import TensorDataModule
from zoo.registry import model_card

REPO = Path(__file__).resolve().parents[1]
# The suite runs on the CPU; ZOO_TEST_ACCELERATOR=gpu runs the quiet trainers on a GPU instead.
TEST_ACCELERATOR = os.environ.get("ZOO_TEST_ACCELERATOR", "cpu")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--real-data-dir",
        default=os.environ.get("ZOO_DATA_DIR"),
        help="folder with the tutorials' data files (diabetes.csv.gz, ...); default $ZOO_DATA_DIR",
    )


class SyntheticDataModule(TensorDataModule):
    """A few random samples in the shapes and dtypes of a model's example batch."""

    def __init__(self, model: Any, data_dir: str, samples: int = 8, batch_size: int = 4) -> None:
        super().__init__(data_dir, batch_size=batch_size, eval_batch_size=batch_size, val_split=0.0)
        self.example = model.example_batch(samples)
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
