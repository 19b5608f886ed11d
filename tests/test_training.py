"""What a training run writes and shows: the training loss at the logger's cadence, and a
progress bar that redraws every few steps."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SyntheticDataModule, quiet_trainer
from lightning.pytorch.callbacks import ProgressBar, RichProgressBar, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger

from zoo import build
from zoo.training import PROGRESS_REFRESH_STEPS, fit


def test_training_loss_reaches_the_logger_at_its_cadence(tmp_path: Path) -> None:
    model = build("cnn_mnist")
    data = SyntheticDataModule(model, str(tmp_path), samples=16, batch_size=4)
    logger = CSVLogger(tmp_path, name="run")
    trainer = quiet_trainer(tmp_path, max_epochs=2, log_every_n_steps=2, logger=logger)
    trainer.fit(model, datamodule=data)
    metrics = pd.read_csv(Path(logger.log_dir) / "metrics.csv")
    logged_steps = metrics.dropna(subset=["train/loss"])["step"].tolist()
    assert logged_steps == [1, 3, 5, 7]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, TQDMProgressBar),
        ({"enable_progress_bar": False}, None),
        ({"callbacks": [RichProgressBar()]}, RichProgressBar),
        ({"callbacks": RichProgressBar()}, RichProgressBar),
    ],
)
def test_fit_adds_a_lean_progress_bar_unless_off_or_given(
    tmp_path: Path, options: dict, expected: type | None
) -> None:
    model = build("cnn_mnist")
    data = SyntheticDataModule(model, str(tmp_path))
    run = fit("cnn_mnist", datamodule=data, test=False, fast_dev_run=True, logger=False,
              default_root_dir=str(tmp_path), accelerator="cpu", **options)
    bars = [c for c in run.trainer.callbacks if isinstance(c, ProgressBar)]
    assert [type(b) for b in bars] == ([expected] if expected else [])
    if expected is TQDMProgressBar:
        assert bars[0].refresh_rate == PROGRESS_REFRESH_STEPS
