"""Runs keep their own folders, and a run killed mid-training resumes to the very same weights."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO

from zoo import build
from zoo.cli import main
from zoo.cli.lightning import without_model_names
from zoo.errors import ZooError
from zoo.runs import hold_run_dir, run_config_file

SMALL = ["--trainer.max_epochs", "3", "--trainer.limit_train_batches", "10", "--trainer.limit_val_batches", "1",
         "--trainer.enable_progress_bar", "false"]
RUN = Path("runs/cnn_mnist/lightning_logs")


def with_default_ctrl_c() -> None:
    """Ctrl+C as a terminal delivers it: a shell starts background jobs (a CI script run with
    `&`, say) with SIGINT ignored, every child inherits that, and Python then never raises
    KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def zoo_process(folder: Path, *args: str) -> subprocess.Popen[str]:
    """`zoo ARGS` started in `folder`, offline, as the run_zoo fixture runs it."""
    env = dict(os.environ, PYTHONPATH=str(REPO), ZOO_DATA_DIR=str(folder / "data"),
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "zoo", *args], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=with_default_ctrl_c)


def saved_epoch(path: Path) -> int | None:
    """The epoch inside a checkpoint, or None while it is missing or still being written."""
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["epoch"])
    except Exception:
        return None


def wait_for_epoch(process: subprocess.Popen[str], path: Path, timeout: float = 240) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        epoch = saved_epoch(path)
        if epoch is not None:
            return epoch
        time.sleep(0.02)
    raise AssertionError(f"no checkpoint at {path}; the run ended with {process.poll()}")


def test_fit_gets_a_fresh_folder_each_run_and_evaluations_write_elsewhere(run_zoo, tmp_path: Path) -> None:
    quick = ["--model", "mlp_mnist", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
             "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false", "--trainer.logger", "false"]
    for _ in range(2):
        result = run_zoo("fit", *quick)
        assert result.returncode == 0, result.stderr
    runs = tmp_path / "runs/mlp_mnist/lightning_logs"
    assert sorted(p.name for p in runs.iterdir()) == ["version_0", "version_1"]
    for version in ("version_0", "version_1"):
        assert (runs / version / "config.yaml").is_file()
        assert (runs / version / "checkpoints/best.ckpt").is_file()
    before = sorted((p.relative_to(runs), p.stat().st_mtime_ns) for p in runs.rglob("*"))
    test = run_zoo("test", "--model", "mlp_mnist", "--ckpt_path", str(runs / "version_0/checkpoints/best.ckpt"),
                   "--trainer.limit_test_batches", "1")
    assert test.returncode == 0, test.stderr
    assert "results in runs/mlp_mnist/eval/version_0" in test.stdout
    assert before == sorted((p.relative_to(runs), p.stat().st_mtime_ns) for p in runs.rglob("*"))


@pytest.mark.slow
def test_concurrent_fits_never_share_a_folder(tmp_path: Path) -> None:
    quick = ["fit", "--model", "mlp_mnist", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
             "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false"]
    processes = [zoo_process(tmp_path, *quick) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    runs = tmp_path / "runs/mlp_mnist/lightning_logs"
    assert sorted(p.name for p in runs.iterdir()) == ["version_0", "version_1"]
    assert all(len(list((runs / v).glob("events.out.tfevents.*"))) >= 1 for v in ("version_0", "version_1"))


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A run of SMALL never stopped: its folder and its output."""
    folder = tmp_path_factory.mktemp("whole")
    whole = zoo_process(folder, "fit", "--model", "cnn_mnist", *SMALL)
    whole_out, whole_err = whole.communicate(timeout=300)
    assert whole.returncode == 0, whole_err
    return folder, whole_out


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_run_resumes_to_the_same_weights_and_metrics(
    stop: signal.Signals, whole_run: tuple[Path, str], tmp_path: Path
) -> None:
    whole_folder, whole_out = whole_run
    killed = zoo_process(tmp_path / "killed", "fit", "--model", "cnn_mnist", *SMALL)
    last = tmp_path / "killed" / RUN / "version_0/checkpoints/last.ckpt"
    epoch = wait_for_epoch(killed, last)
    killed.send_signal(stop)
    _, killed_err = killed.communicate(timeout=60)
    assert epoch < 2
    if stop == signal.SIGTERM:  # as Ctrl+C: the checkpoints kept, said in one line
        assert killed.returncode == 143 and "Traceback" not in killed_err, killed_err
        assert killed_err.splitlines()[-1].startswith("zoo: terminated (SIGTERM); saved: "), killed_err
        assert "last.ckpt" in killed_err.splitlines()[-1]
    else:
        assert killed.returncode == -signal.SIGKILL

    resumed = zoo_process(tmp_path / "killed", "fit", "--model", "cnn_mnist", *SMALL,
                          "--ckpt_path", str(RUN / "version_0/checkpoints/last.ckpt"))
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert "dirpath has changed" not in err
    assert sorted(p.name for p in (tmp_path / "killed" / RUN).iterdir()) == ["version_0"]

    finals = [torch.load(root / RUN / "version_0/checkpoints/last.ckpt", weights_only=True)
              for root in (whole_folder, tmp_path / "killed")]
    assert finals[0]["epoch"] == finals[1]["epoch"] == 2
    assert finals[0]["state_dict"].keys() == finals[1]["state_dict"].keys()
    for name, tensor in finals[0]["state_dict"].items():
        assert torch.equal(tensor, finals[1]["state_dict"][name]), name

    def test_line(output: str) -> str:
        return next(line for line in output.splitlines() if line.startswith("zoo: test of"))

    assert test_line(out) == test_line(whole_out)


@pytest.mark.slow
def test_ctrl_c_keeps_the_checkpoints_and_exits_130(tmp_path: Path) -> None:
    # Many epochs, so that however late this test sees the first checkpoint, Ctrl+C lands
    # mid-training.
    run = zoo_process(tmp_path, "fit", "--model", "cnn_mnist", "--trainer.max_epochs", "50",
                      "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false")
    last = tmp_path / RUN / "version_0/checkpoints/last.ckpt"
    assert wait_for_epoch(run, last) < 49
    assert wait_for_epoch(run, last.with_name("best.ckpt")) < 49  # written after last.ckpt, at validation
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert "Traceback" not in err
    saved = [line for line in err.splitlines() if line.startswith("zoo: interrupted; saved:")]
    assert len(saved) == 1 and "best.ckpt" in saved[0] and "last.ckpt" in saved[0], err
    assert saved_epoch(last) is not None and saved_epoch(last.with_name("best.ckpt")) is not None


@pytest.mark.parametrize("scheduler", ["onecycle", "cosine"])
def test_resuming_a_run_made_longer_is_refused_before_a_step(
    scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    quick = ["--model", "cnn_mnist", "--data.source", "embedded", "--model.scheduler", scheduler,
             "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
             "--trainer.enable_progress_bar", "false"]
    main(["fit", *quick, "--trainer.max_epochs", "1"])
    last = RUN / "version_0/checkpoints/last.ckpt"
    before = last.resolve().stat().st_mtime_ns
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", *quick, "--trainer.max_epochs", "2", "--ckpt_path", str(last)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    assert f"{scheduler} schedule was planned for 2 steps, but resuming it as given runs 4" in err
    assert last.resolve().stat().st_mtime_ns == before, "the checkpoint is left as it was"


def test_a_run_folder_is_held_by_one_process_at_a_time(tmp_path: Path) -> None:
    held = hold_run_dir(tmp_path)
    with pytest.raises(ZooError, match="is held by another 'zoo fit'"):
        hold_run_dir(tmp_path)
    os.close(held)
    os.close(hold_run_dir(tmp_path))


def test_a_second_resume_of_a_run_in_progress_is_refused(
    run_zoo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    quick = ["--model", "mlp_mnist", "--trainer.max_epochs", "2", "--trainer.limit_train_batches", "2",
             "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false"]
    main(["fit", *quick, "--trainer.max_epochs", "1"])
    run = Path("runs/mlp_mnist/lightning_logs/version_0")
    last = run / "checkpoints/last.ckpt"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in run.rglob("*"))
    held = hold_run_dir(run)  # as a zoo fit training or resuming this run holds it
    try:
        refused = run_zoo("fit", *quick, "--ckpt_path", str(last))
    finally:
        os.close(held)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert refused.stderr.splitlines()[-1] == (
        f"zoo: error: run folder {str(run)!r} is held by another 'zoo fit' training or resuming it; "
        "wait until that one ends, then resume"
    )
    assert sorted((p.name, p.stat().st_mtime_ns) for p in run.rglob("*")) == before, "nothing written"


def test_a_resume_keeps_the_runs_options_and_refuses_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    quick = ["--model", "mlp_mnist", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
             "--trainer.enable_progress_bar", "false"]
    main(["fit", *quick, "--trainer.max_epochs", "1", "--data.batch_size", "32", "--model.scheduler", "null"])
    run = Path("runs/mlp_mnist/lightning_logs/version_0")
    last = run / "checkpoints/last.ckpt"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in run.rglob("*"))
    refused = [("--model.lr 0.5", "0.003"), ("--model.optimizer sgd", "adam"), ("--recipe tutorial", "default"),
               ("--model.scheduler onecycle", "None"), ("--data.batch_size 64", "32"),
               ("--seed_everything 7", "42"), ("--trainer.limit_train_batches 3", "2")]
    for option, own in refused:
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main(["fit", "--ckpt_path", str(last), *option.split()])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and "Traceback" not in err, err
        said = f"zoo: error: resuming run {str(run)!r} with {option}, but the run trains with {own}; resume without "
        assert len(err.splitlines()) == 1 and err.startswith(said + option.split()[0]), err
        assert "or start a new run without --ckpt_path" in err
        assert sorted((p.name, p.stat().st_mtime_ns) for p in run.rglob("*")) == before, option

    # The bare command resumes with the run's own options; its length and display may change.
    main(["fit", "--ckpt_path", str(last), "--trainer.max_epochs", "2", "--trainer.enable_model_summary", "true"])
    resumed = (run / "config_resume_1.yaml").read_text()
    assert "batch_size: 32" in resumed and "scheduler: null" in resumed and "max_epochs: 2" in resumed
    assert torch.load(last, weights_only=True)["epoch"] == 1


def test_a_run_resumes_from_its_latest_config(tmp_path: Path) -> None:
    assert run_config_file(tmp_path) is None
    for name in ("config.yaml", "config_resume_2.yaml", "config_resume_10.yaml", "config_resume_x.yaml"):
        (tmp_path / name).write_text("")
    assert run_config_file(tmp_path) == tmp_path / "config_resume_10.yaml"


def test_a_resume_leaves_out_only_the_model_name() -> None:
    args = ["--model", "cnn_mnist", "--model.lr", "0.1", "--model=mlp_mnist", "--model", "my/model.yaml"]
    assert without_model_names(args) == ["--model.lr", "0.1", "--model", "my/model.yaml"]


def test_resuming_from_callbacks_that_are_not_a_mapping_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    model = build("linear_regression")
    torch.save({"hyper_parameters": dict(model.hparams), "state_dict": model.state_dict(), "callbacks": [1, 2]},
               "odd.ckpt")
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--ckpt_path", "odd.ckpt"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err, err
    assert err.splitlines() == ["zoo: error: checkpoint 'odd.ckpt' holds callbacks of type list, not a mapping of "
                                "their states, so training cannot resume from it; pass a last.ckpt written by "
                                "'zoo fit'"]
    assert not Path("runs").exists()
