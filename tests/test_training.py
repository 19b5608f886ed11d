"""What a training run writes and shows: the training loss at the logger's cadence, and a
progress bar that redraws every few steps."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import SyntheticDataModule, quiet_trainer
from lightning.pytorch.callbacks import ProgressBar, RichProgressBar
from lightning.pytorch.loggers import CSVLogger

from zoo import build
from zoo.callbacks import TimedProgressBar
from zoo.cli import main
from zoo.runs import run_config
from zoo.training import fit


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
        ({}, TimedProgressBar),
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


def bar_draws(tmp_path: Path, interval: float, capsys: pytest.CaptureFixture[str]) -> int:
    """How many times a two-epoch fit of four steps an epoch draws its training bar."""
    model = build("cnn_mnist")
    data = SyntheticDataModule(model, str(tmp_path), samples=16, batch_size=4)
    bar = TimedProgressBar(interval)
    trainer = quiet_trainer(tmp_path, max_epochs=2, enable_progress_bar=True, callbacks=[bar],
                            limit_val_batches=0)
    capsys.readouterr()
    trainer.fit(model, datamodule=data)
    return capsys.readouterr().out.count("Epoch")


def test_the_bar_redraws_within_an_epoch_only_when_its_interval_has_passed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    every_step, never = bar_draws(tmp_path, 0.0, capsys), bar_draws(tmp_path, 1e9, capsys)
    assert every_step - never == 2 * 3, "three steps of each epoch drawn, the fourth by the epoch's end"
    assert never > 0, "each epoch still draws its start and its end"


def test_zoo_fit_and_training_fit_resolve_one_configuration_and_reach_the_same_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "data"))
    limits = {"max_epochs": 2, "limit_train_batches": 4, "limit_val_batches": 1, "enable_progress_bar": False}
    with pytest.raises(SystemExit) as printed_config:
        main(["fit", "--model", "cnn_mnist", "--recipe", "tutorial", "--print_config"])
    assert printed_config.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    config = run_config("cnn_mnist", "tutorial")
    assert printed["model"]["init_args"].items() >= config["model"]["init_args"].items()
    assert printed["data"]["init_args"].items() >= config["data"]["init_args"].items()
    assert printed["checkpoint"].items() >= config["checkpoint"].items()
    assert printed["seed_everything"] == config["seed_everything"]
    assert printed["trainer"]["max_epochs"] == config["trainer"]["max_epochs"]

    main(["fit", "--model", "cnn_mnist", "--recipe", "tutorial", *(f"--trainer.{k}={v}" for k, v in limits.items())])
    line = next(x for x in capsys.readouterr().out.splitlines() if "test of the best checkpoint" in x)
    run = fit("cnn_mnist", recipe="tutorial", default_root_dir=str(tmp_path / "python"), **limits)
    assert line.endswith(", ".join(f"{k} {v:.4f}" for k, v in sorted(run.test.items())))
    assert Path(run.trainer.checkpoint_callback.best_model_path).name == "best.ckpt"  # type: ignore[union-attr]
