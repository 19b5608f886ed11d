"""zoo show (a network and its named parameters) and zoo plot (a metric per epoch)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SyntheticDataModule, quiet_trainer
from lightning.pytorch.loggers import TensorBoardLogger

from zoo import ZooError, build
from zoo.cli.inspect import plot_command, show_command


def test_show_prints_named_parameters_and_their_total(capsys: pytest.CaptureFixture[str]) -> None:
    show_command(["cnn_mnist"])
    out = capsys.readouterr().out
    assert "conv2.weight" in out and "(20, 10, 5, 5)" in out
    assert out.rstrip().endswith("8,490")


def test_plot_writes_one_point_per_epoch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = build("cnn_mnist")
    logger = TensorBoardLogger(tmp_path, name="run")
    trainer = quiet_trainer(tmp_path, max_epochs=2, logger=logger)
    trainer.fit(model, datamodule=SyntheticDataModule(model, str(tmp_path)))
    out = tmp_path / "acc.png"
    plot_command([logger.log_dir, "--out", str(out)])
    printed = capsys.readouterr().out
    assert "epoch 1: val/acc" in printed and "epoch 2: val/acc" in printed
    assert out.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ZooError, match=r"choose one of: .*val/loss"):
        plot_command([logger.log_dir, "--metric", "val/nope"])


def test_plot_of_a_folder_without_logs_explains_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ZooError, match="no TensorBoard event files"):
        plot_command([str(tmp_path)])
