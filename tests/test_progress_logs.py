"""What a run prints and logs, read where people read it: a log file gets one plain line per
epoch, a terminal zoo's bar without Lightning's v_num, and a short run's step curve has a
point every 20 steps."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import SyntheticDataModule
from lightning.pytorch.loggers import CSVLogger

from zoo import build
from zoo.callbacks import TimedProgressBar, epoch_line
from zoo.training import fit


def test_zoo_fit_into_a_file_prints_one_plain_line_per_epoch(run_zoo) -> None:
    done = run_zoo("fit", "--model", "mlp_mnist", "--trainer.max_epochs", "2", "--trainer.limit_train_batches", "3",
                   "--trainer.limit_val_batches", "1", "--trainer.logger", "false")
    assert done.returncode == 0, done.stderr
    epochs = [line for line in done.stderr.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 2, done.stderr
    assert re.fullmatch(r"epoch 1/2  train/loss \S+  val/acc \S+  (val/\w+ \S+  )+\d+\.\d s", epochs[0]), epochs[0]
    assert "\x1b" not in done.stderr and "\r" not in done.stderr and "v_num" not in done.stderr


def test_epoch_lines_keep_four_digits_so_columns_line_up() -> None:
    first = epoch_line(2, 3, {"val/acc": 0.96, "train/loss": 1.234567, "step": 40}, 4.25)
    second = epoch_line(3, None, {"val/acc": 0.9625, "train/loss": 0.5, "step": 60}, 3.6)
    assert first == "epoch 2/3  step 40  train/loss 1.235  val/acc 0.9600  4.2 s"
    assert second == "epoch 3  step 60  train/loss 0.5000  val/acc 0.9625  3.6 s"


def test_a_terminal_gets_zoos_bar_without_v_num(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    model = build("cnn_mnist")
    run = fit("cnn_mnist", datamodule=SyntheticDataModule(model, str(tmp_path)), test=False, fast_dev_run=True,
              default_root_dir=str(tmp_path), accelerator="cpu")
    bar = run.trainer.progress_bar_callback
    assert isinstance(bar, TimedProgressBar)
    assert "v_num" not in bar.get_metrics(run.trainer, run.model)


@pytest.mark.parametrize(("log_every_n_steps", "rows"), [(None, 3), (4, 15)], ids=["paced", "as-given"])
def test_a_short_run_logs_its_step_metric_often_enough_for_a_curve(
    tmp_path: Path, log_every_n_steps: int | None, rows: int
) -> None:
    """60 steps: paced, the logger gets steps 20, 40 and 60 (not every step: a logged step costs
    about a millisecond), where Lightning's 50 would give one point; as given, every 4th step."""
    model = build("cnn_mnist")
    data = SyntheticDataModule(model, str(tmp_path), samples=120, batch_size=4)
    logger = CSVLogger(tmp_path, name="run")
    fit("cnn_mnist", datamodule=data, test=False, max_epochs=2, logger=logger, log_every_n_steps=log_every_n_steps,
        enable_progress_bar=False, enable_checkpointing=False, default_root_dir=str(tmp_path), accelerator="cpu")
    metrics = pd.read_csv(Path(logger.log_dir) / "metrics.csv")
    assert len(metrics.dropna(subset=["train/loss"])) == rows
