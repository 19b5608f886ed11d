"""What a training run writes: the training loss at the logger's cadence."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from conftest import SyntheticDataModule, quiet_trainer
from lightning.pytorch.loggers import CSVLogger

from zoo import build


def test_training_loss_reaches_the_logger_at_its_cadence(tmp_path: Path) -> None:
    model = build("cnn_mnist")
    data = SyntheticDataModule(model, str(tmp_path), samples=16, batch_size=4)
    logger = CSVLogger(tmp_path, name="run")
    trainer = quiet_trainer(tmp_path, max_epochs=2, log_every_n_steps=2, logger=logger)
    trainer.fit(model, datamodule=data)
    metrics = pd.read_csv(Path(logger.log_dir) / "metrics.csv")
    logged_steps = metrics.dropna(subset=["train/loss"])["step"].tolist()
    assert logged_steps == [1, 3, 5, 7]
