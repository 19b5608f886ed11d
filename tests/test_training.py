"""What a training run writes and shows, and what it costs each step: the training loss at the
logger's cadence, a progress bar on a clock, a logger flushed on a clock, last.ckpt as a link,
the random state in every checkpoint, and callbacks only where they act."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from conftest import SyntheticDataModule, quiet_trainer
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar, RichProgressBar
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.profilers import SimpleProfiler

from zoo import ZooError, build
from zoo.callbacks import EpochLines, TimedProgressBar
from zoo.checkpoints import load_checkpoint
from zoo.cli import main
from zoo.logs import PacedTensorBoardLogger
from zoo.runs import run_config
from zoo.tasks import RANDOM_STATE
from zoo.training import NoProfiler, fit


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
        ({}, EpochLines),
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


class CallbackNames(Callback):
    """The Trainer's callbacks by class name, as training starts and as testing starts."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {}

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.seen["train"] = [type(c).__name__ for c in trainer.callbacks]  # type: ignore[attr-defined]

    def on_test_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.seen["test"] = [type(c).__name__ for c in trainer.callbacks]  # type: ignore[attr-defined]


def test_a_run_keeps_best_and_last_and_the_confusion_matrix_off_the_training_steps(
    tmp_path: Path,
) -> None:
    model = build("cnn_mnist")
    names = CallbackNames()
    run = fit("cnn_mnist", datamodule=SyntheticDataModule(model, str(tmp_path)), max_epochs=1,
              limit_train_batches=2, limit_val_batches=1, enable_progress_bar=False,
              default_root_dir=str(tmp_path), accelerator="cpu", callbacks=[names])
    folder = Path(run.trainer.checkpoint_callback.best_model_path).parent  # type: ignore[union-attr]
    last = folder / "last.ckpt"
    assert (folder / "best.ckpt").is_file() and last.is_file() and not last.is_symlink()
    assert load_checkpoint(last).zoo_name == "cnn_mnist"
    assert "ConfusionMatrixCallback" not in names.seen["train"]
    assert "ConfusionMatrixCallback" in names.seen["test"]
    assert (Path(run.trainer.log_dir) / "confusion_matrix.png").is_file()  # type: ignore[arg-type]


def test_last_ckpt_follows_every_epoch_even_when_the_best_does_not(tmp_path: Path) -> None:
    """The monitored value never improves after the first epoch (the epoch number, minimised):
    best.ckpt stays at epoch 0 while last.ckpt holds the final epoch, so a resume loses nothing."""
    model = build("cnn_mnist")
    best = ModelCheckpoint(monitor="epoch", mode="min", filename="best")
    fit("cnn_mnist", datamodule=SyntheticDataModule(model, str(tmp_path)), max_epochs=3, test=False,
        limit_train_batches=2, limit_val_batches=1, enable_progress_bar=False, default_root_dir=str(tmp_path),
        accelerator="cpu", callbacks=[best])
    folder = Path(best.best_model_path).parent
    assert torch.load(folder / "best.ckpt", weights_only=True)["epoch"] == 0
    assert torch.load(folder / "last.ckpt", weights_only=True)["epoch"] == 2


def test_checkpoints_carry_the_random_state_and_loading_one_to_evaluate_leaves_it_alone(tmp_path: Path) -> None:
    model = build("cnn_mnist")
    trainer = quiet_trainer(tmp_path, max_epochs=1, limit_train_batches=1, limit_val_batches=1)
    trainer.fit(model, datamodule=SyntheticDataModule(model, str(tmp_path)))
    path = tmp_path / "run.ckpt"
    trainer.save_checkpoint(path)
    saved = torch.load(path, weights_only=True)[RANDOM_STATE]
    assert saved["torch"].dtype == torch.uint8 and len(saved["python"]) == 3
    torch.manual_seed(5)
    build("cnn_mnist")  # building the network draws its initial weights
    after_building = torch.get_rng_state()
    torch.manual_seed(5)
    load_checkpoint(path)
    assert torch.equal(torch.get_rng_state(), after_building), "the saved state was not restored"


def test_the_logger_flushes_on_its_clock_and_when_the_run_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logger = PacedTensorBoardLogger(str(tmp_path), flush_every=1e9)
    flushes: list[int] = []
    monkeypatch.setattr(logger.experiment, "flush", lambda: flushes.append(1))
    for step in range(5):
        logger.log_metrics({"train/loss": 1.0 / (step + 1)}, step)
        logger.save()
    assert len(flushes) == 1, "the first save flushes, the next four wait for the clock"
    logger.finalize("success")
    assert len(flushes) >= 2


def test_a_recipe_that_trains_on_every_row_ends_without_a_test(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    limits = {"max_epochs": 1, "limit_train_batches": 2}
    run = fit("gru_names", recipe="pretrained", data_kwargs={"data_dir": str(real_data_dir)},
              logger=False, enable_progress_bar=False, **limits)
    assert run.test == {} and run.trainer.current_epoch == 1
    main(["fit", "--model", "gru_names", "--recipe", "pretrained", "--data.data_dir", str(real_data_dir),
          "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.enable_progress_bar", "false"])
    assert "zoo: no test split in the data: nothing tested" in capsys.readouterr().out
    assert list(tmp_path.glob("runs/gru_names/lightning_logs/version_0/checkpoints/last.ckpt"))


class NoValidationData(SyntheticDataModule):
    """Synthetic samples with an empty validation split, as `val_split=0` leaves it."""

    def load(self) -> dict:
        splits = super().load()
        return splits | {"val": tuple(t[:0] for t in splits["val"])}


def test_a_fit_without_validation_data_runs_no_validation_and_keeps_last_ckpt_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("zoo.notice._printed", set())  # a notice said by an earlier test is not said again
    limits = {"max_epochs": 2, "limit_train_batches": 2, "enable_progress_bar": False}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = fit("cnn_mnist", datamodule=NoValidationData(build("cnn_mnist"), str(tmp_path)), logger=False,
                  default_root_dir=str(tmp_path / "python"), accelerator="cpu", **limits)
        main(["fit", "--model", "cnn_mnist", "--data.source", "embedded", "--data.val_split", "0",
              *(f"--trainer.{k}={v}" for k, v in limits.items())])
    messages = [str(w.message) for w in caught]
    about_validation = [m for m in messages if "across ranks is zero" in m or "val/" in m]
    assert about_validation == [], "no warning of an empty loader or a missing val/loss"
    assert "val/loss" not in run.trainer.callback_metrics and run.test
    assert [p.name for p in (tmp_path / "python").rglob("*.ckpt")] == ["last.ckpt"]
    assert [p.name for p in (tmp_path / "runs").rglob("*.ckpt")] == ["last.ckpt"]
    printed = capsys.readouterr()
    assert "zoo: test of the final weights: test/acc" in printed.out
    assert printed.err.count("no validation split: validation is off") == 1, "said once per process"


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"model_kwargs": {"lrr": 0.1}}, "ClassificationTask takes no argument 'lrr'; did you mean 'lr'?"),
        ({"data_kwargs": {"val_splt": 0.2}}, "MNISTDataModule takes no argument 'val_splt'; did you mean 'val_split'?"),
    ],
)
def test_an_unknown_override_in_python_is_one_line_naming_the_arguments(
    overrides: dict, words: str, tmp_path: Path
) -> None:
    with pytest.raises(ZooError) as refused:
        fit("cnn_mnist", default_root_dir=str(tmp_path), logger=False, **overrides)
    assert words in str(refused.value) and "it takes: " in str(refused.value)
    assert not list(tmp_path.iterdir()), "refused before anything was written"


@pytest.mark.parametrize(("profiler", "kind"), [(None, NoProfiler), ("simple", SimpleProfiler)])
def test_a_run_profiles_nothing_unless_asked_and_then_as_asked(profiler: str | None, kind: type,
                                                              tmp_path: Path) -> None:
    """Without a profiler, zoo's NoProfiler (cheaper per hook call than Lightning's default); a
    profiler the user names is the one the run uses, and times the run's steps."""
    run = fit("linear_regression", max_epochs=1, enable_progress_bar=False, default_root_dir=str(tmp_path),
              logger=False, test=False, profiler=profiler)
    assert type(run.trainer.profiler) is kind
    if profiler:
        assert run.trainer.profiler.recorded_durations["run_training_batch"]  # type: ignore[attr-defined]


def test_zoo_fit_keeps_the_profiler_a_user_names(run_zoo, tmp_path: Path) -> None:
    """Its report, written to a file in the run's folder as asked, times the training steps."""
    result = run_zoo("fit", "--model", "linear_regression", "--trainer.max_epochs", "1",
                     "--trainer.profiler", "SimpleProfiler", "--trainer.profiler.filename", "steps")
    assert result.returncode == 0, result.stderr
    (report,) = tmp_path.glob("runs/linear_regression/lightning_logs/version_0/fit-steps.txt")
    assert "run_training_batch" in report.read_text()
