"""Faults during a run and outputs that would destroy inputs: a run folder deleted while `zoo fit`
writes to it, a full disk during a checkpoint save, SIGTERM outside a Trainer's run, writes cut
short, and output paths naming a command's own inputs, a checkpoint or a weights file."""

from __future__ import annotations

import errno
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest
import torch
from lightning.pytorch.utilities.exceptions import SIGTERMException
from test_resume import wait_for_epoch, zoo_process

from zoo.cli import main
from zoo.cli.lightning import on_sigterm
from zoo.files import atomic_write
from zoo.training import AtomicCheckpointIO, fit

SLOW = pytest.mark.slow
QUICK = ["--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar",
         "false", "--data.source", "embedded"]


def test_a_write_cut_short_leaves_the_old_file_whole_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "best.ckpt"
    path.write_bytes(b"the old checkpoint")
    with pytest.raises(OSError) as raised, atomic_write(path) as temporary:
        temporary.write_bytes(b"half a")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(path)
    assert path.read_bytes() == b"the old checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.ckpt"]
    with atomic_write(path) as temporary:
        assert temporary.parent == tmp_path and temporary.suffix == ".ckpt"
        temporary.write_bytes(b"the new checkpoint")
    assert path.read_bytes() == b"the new checkpoint"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.ckpt"]


def half_written(path: Any, *args: Any, **kwargs: Any) -> None:
    """A writer that fills the disk halfway through its file."""
    Path(path).write_bytes(b"the first bytes")
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("output", ["csv", "torchscript"])
def test_a_failed_output_write_leaves_the_old_file_and_no_temporary(
    output: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zoo.answers import Row, write_csv
    from zoo.building import build
    from zoo.export import export

    path = tmp_path / f"out.{output}"
    path.write_bytes(b"the old output")
    if output == "csv":
        monkeypatch.setattr("pandas.DataFrame.to_csv", lambda frame, file, **kwargs: half_written(file))
        with pytest.raises(OSError, match="No space left"):
            write_csv([Row("4", "8")], path)
    else:
        monkeypatch.setattr(torch.jit, "save", lambda module, file: half_written(file.name))
        with pytest.raises(OSError, match="No space left"):
            export(build("linear_regression"), "torchscript", path, overwrite=True)
    assert path.read_bytes() == b"the old output"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_training_fit_saves_checkpoints_atomically(tmp_path: Path) -> None:
    run = fit("linear_regression", max_epochs=1, enable_progress_bar=False, default_root_dir=str(tmp_path),
              logger=False, test=False)
    assert isinstance(run.trainer.strategy.checkpoint_io, AtomicCheckpointIO)
    saved = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert saved == ["best.ckpt", "last.ckpt"], saved


def test_a_full_disk_during_a_checkpoint_save_is_one_line_and_keeps_the_saved_checkpoints_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    real_save = torch.save
    saves: list[Path] = []

    def disk_fills_after_the_first_save(obj: Any, file: Any, *args: Any, **kwargs: Any) -> None:
        if file.file is None:  # zoo hashing a checkpoint to compare it with the one before: no file
            real_save(obj, file, *args, **kwargs)
            return
        saves.append(Path(file.file.name))
        if len(saves) == 1:
            real_save(obj, file, *args, **kwargs)
            return
        file.write(b"PK\x03\x04 the first bytes of a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_fills_after_the_first_save)
    with pytest.raises(SystemExit) as stop:
        main(["fit", "--model", "mlp_mnist", "--trainer.max_epochs", "3", *QUICK])
    err = capsys.readouterr().err
    monkeypatch.setattr(torch, "save", real_save)
    folder = Path("runs/mlp_mnist/lightning_logs/version_0")
    assert stop.value.code == 2 and "Traceback" not in err, err
    assert err.splitlines()[-1] == (  # best.ckpt saves first, then last.ckpt: no last.ckpt to resume from
        f"zoo: error: the disk of run folder '{folder}' is full (No space left on device writing 'last.ckpt'); "
        "free some space, or pass --trainer.default_root_dir on another disk, and start the run again"), err
    assert [p.parent.name for p in saves] == ["checkpoints", "checkpoints"]
    assert all(p.name.startswith((".best.tmp-", ".last.tmp-")) for p in saves), "zoo fit saves through a temporary"
    kept = sorted(p.name for p in (tmp_path / folder / "checkpoints").iterdir())
    assert kept == ["best.ckpt"], "the checkpoint saved before the disk filled, whole; no temporary left"
    for name in kept:
        assert torch.load(tmp_path / folder / "checkpoints" / name, weights_only=True)["epoch"] == 0


@SLOW
def test_deleting_the_run_folder_during_zoo_fit_stops_it_in_one_line(tmp_path: Path) -> None:
    run = zoo_process(tmp_path, "fit", "--model", "mlp_mnist", "--trainer.max_epochs", "100000",
                      "--trainer.limit_train_batches", "5", *QUICK[2:])
    run_dir = tmp_path / "runs/mlp_mnist/lightning_logs/version_0"
    wait_for_epoch(run, run_dir / "checkpoints/last.ckpt")
    run_dir.rename(tmp_path / "deleted")  # one step, while the run writes into it
    shutil.rmtree(tmp_path / "deleted")
    try:
        _, err = run.communicate(timeout=120)
    finally:
        run.kill()
    assert run.returncode == 2, err
    assert "Traceback" not in err and "Exception in thread" not in err, err
    assert err.splitlines()[-1] == (
        "zoo: error: run folder 'runs/mlp_mnist/lightning_logs/version_0' was deleted while the run wrote to it; "
        "keep a run's folder until the run ends, and start it again"
    )
    assert not run_dir.exists(), "the run did not make its folder again"


def test_sigterm_outside_a_trainers_run_stops_zoo_and_inside_one_is_left_to_lightning() -> None:
    def lightnings_handler(signum: int, frame: Any) -> None:
        on_sigterm(signum, frame)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        with pytest.raises(SIGTERMException):
            os.kill(os.getpid(), signal.SIGTERM)
        signal.signal(signal.SIGTERM, lightnings_handler)
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)


def make_inputs(folder: Path) -> None:
    """Inputs for the table: a picture, a folder of pictures, a checkpoint, a weights file."""
    from PIL import Image

    (folder / "digits").mkdir()
    for path in (folder / "digit.png", folder / "digits/seven.png"):
        Image.new("L", (28, 28)).save(path)
    (folder / "model.ckpt").write_bytes(b"a checkpoint")
    (folder / "other.ckpt").write_bytes(b"another checkpoint")
    (folder / "net.safetensors").write_bytes(b"weights")


OVERWRITES = [
    pytest.param(["predict", "--model", "cnn_mnist", "digit.png", "--output", "digit.png"],
                 "--output 'digit.png' is an input of this command", id="predict-output-is-its-input"),
    pytest.param(["export", "--model", "cnn_mnist", "--ckpt_path", "model.ckpt", "--format", "onnx", "--out",
                  "model.ckpt"], "--out 'model.ckpt' is an input of this command", id="export-out-is-its-checkpoint",
                 marks=SLOW),
    pytest.param(["predict", "--model", "cnn_mnist", "digits", "--output", "digits/seven.png"],
                 "--output 'digits/seven.png' is a file in input folder 'digits'", id="predict-output-in-input-folder",
                 marks=SLOW),
    pytest.param(["predict", "--model", "cnn_mnist", "--ckpt_path", "model.ckpt", "digit.png", "--output",
                  "model.ckpt"], "--output 'model.ckpt' is an input of this command",
                 id="predict-output-is-its-checkpoint", marks=SLOW),
    pytest.param(["predict", "--model", "cnn_mnist", "digit.png", "--output", "other.ckpt"],
                 "--output 'other.ckpt' is an existing checkpoint", id="predict-output-is-a-checkpoint", marks=SLOW),
    pytest.param(["export", "--model", "cnn_mnist", "--format", "torchscript", "--out", "other.ckpt"],
                 "--out 'other.ckpt' is an existing checkpoint", id="export-out-is-a-checkpoint", marks=SLOW),
    pytest.param(["export", "--model", "cnn_mnist", "--format", "onnx", "--out", "net.safetensors"],
                 "--out 'net.safetensors' is an existing weights file", id="export-out-is-a-weights-file", marks=SLOW),
]


@pytest.mark.parametrize(("args", "problem"), OVERWRITES)
def test_an_output_that_would_overwrite_an_input_is_refused(
    run_zoo, tmp_path: Path, args: list[str], problem: str
) -> None:
    make_inputs(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = run_zoo(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    flag = problem.split()[0]
    said = f"zoo: error: {problem} and would be overwritten; pass {flag} with another file name"
    assert result.stderr.splitlines() == [said], result.stderr
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_zoo_plot_refuses_to_write_over_an_event_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path)) as writer:
        writer.add_scalar("val/acc", 0.5, 0)
    (events,) = tmp_path.glob("events.out.tfevents.*")
    before = events.read_bytes()
    with pytest.raises(SystemExit) as stop:
        main(["plot", str(tmp_path), "--out", str(events)])
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        f"zoo: error: --out '{events}' is an input of this command and would be overwritten; "
        "pass --out with another file name\n"
    )
    assert events.read_bytes() == before


def test_a_full_disk_under_tensorboard_s_writer_stops_zoo_fit_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """TensorBoard writes its events from a thread of its own, through a plain `write`: the full
    disk it meets names no file, and reached the training thread as a 70-line traceback."""
    from tensorboard.summary.writer.record_writer import RecordWriter

    def disk_full(writer: RecordWriter, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(RecordWriter, "write", disk_full)
    with pytest.raises(SystemExit) as stop:
        main(["fit", "--model", "mlp_mnist", "--trainer.max_epochs", "2", *QUICK])
    err = capsys.readouterr().err
    folder = "runs/mlp_mnist/lightning_logs/version_0"
    assert stop.value.code == 2 and "Traceback" not in err and "Exception in thread" not in err, err
    assert err.splitlines()[-1] in {
        f"zoo: error: the disk of run folder '{folder}' is full (No space left on device); {then}"
        for then in (
            "free some space, or pass --trainer.default_root_dir on another disk, and start the run again",
            f"the checkpoints saved before are whole: free some space, then resume with --ckpt_path "
            f"{folder}/checkpoints/last.ckpt",  # the writer's thread may fail after the first epoch
        )
    }, err


def test_a_full_disk_during_zoo_export_is_one_line_naming_the_file_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """torch.jit.save given a path aborts the whole process on a full disk; zoo saves through a
    Python file, whose `write` raises an OSError like this one."""

    def fills_the_disk(module: Any, file: Any) -> None:
        file.write(b"PK\x03\x04 the first bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.jit, "save", fills_the_disk)
    with pytest.raises(SystemExit) as stop:
        main(["export", "--model", "linear_regression", "--format", "torchscript", "--out", "net.pt"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        "zoo: error: the disk is full (No space left on device writing 'net.pt'); free some space on it, "
        "or write the file to a folder on another disk\n")
    assert not list(tmp_path.iterdir())


def test_a_full_disk_naming_no_file_is_told_against_the_run_folder(tmp_path: Path) -> None:
    from zoo.runs import write_failure

    run_dir = tmp_path / "version_0"
    (run_dir / "checkpoints").mkdir(parents=True)
    try:
        raise RuntimeError("the logger failed") from OSError(errno.ENOSPC, "No space left on device")
    except RuntimeError as err:
        without_last = write_failure(err, run_dir)
        (run_dir / "checkpoints/last.ckpt").write_bytes(b"a checkpoint")
        with_last = write_failure(err, run_dir)
        outside_a_run = write_failure(err, None)
    assert str(without_last) == (f"the disk of run folder '{run_dir}' is full (No space left on device); free some "
                                 "space, or pass --trainer.default_root_dir on another disk, and start the run again")
    assert str(with_last) == (f"the disk of run folder '{run_dir}' is full (No space left on device); the "
                              "checkpoints saved before are whole: free some space, then resume with --ckpt_path "
                              f"{run_dir}/checkpoints/last.ckpt")
    assert str(outside_a_run) == ("the disk is full (No space left on device); free some space on it, or write the "
                                  "file to a folder on another disk")


def test_a_checkpoint_of_the_same_bytes_at_the_same_step_is_a_hard_link_else_a_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = AtomicCheckpointIO()
    weights = {"epoch": 1, "global_step": 10, "state_dict": {"w": torch.arange(4.0)}}
    writer.save_checkpoint(weights, tmp_path / "best.ckpt")
    writer.save_checkpoint(dict(weights), tmp_path / "last.ckpt")
    assert (tmp_path / "last.ckpt").samefile(tmp_path / "best.ckpt")
    other_weights = weights | {"state_dict": {"w": torch.ones(4)}}
    writer.save_checkpoint(other_weights, tmp_path / "other.ckpt")
    later = weights | {"global_step": 11}
    writer.save_checkpoint(later, tmp_path / "later.ckpt")
    monkeypatch.setattr(os, "link", lambda source, target: (_ for _ in ()).throw(OSError(errno.EPERM, "no links")))
    writer.save_checkpoint(dict(later), tmp_path / "copy.ckpt")
    inodes = {p.name: p.stat().st_ino for p in tmp_path.iterdir()}
    assert sorted(inodes) == ["best.ckpt", "copy.ckpt", "last.ckpt", "later.ckpt", "other.ckpt"], "no temporary"
    assert len({inodes["best.ckpt"], inodes["other.ckpt"], inodes["later.ckpt"], inodes["copy.ckpt"]}) == 4
    assert (tmp_path / "copy.ckpt").read_bytes() == (tmp_path / "later.ckpt").read_bytes()
    for name, saved in [("last.ckpt", weights), ("other.ckpt", other_weights), ("copy.ckpt", later)]:
        loaded = torch.load(tmp_path / name, weights_only=True)
        assert loaded["global_step"] == saved["global_step"]
        assert torch.equal(loaded["state_dict"]["w"], saved["state_dict"]["w"])


def test_last_ckpt_of_an_epoch_that_saved_best_ckpt_is_one_file_with_it_and_resumes_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    quiet = ["--model", "linear_regression", "--trainer.enable_progress_bar", "false"]
    main(["fit", *quiet, "--trainer.max_epochs", "2"])
    checkpoints = tmp_path / "runs/linear_regression/lightning_logs/version_0/checkpoints"
    best, last = torch.load(checkpoints / "best.ckpt", weights_only=True), checkpoints / "last.ckpt"
    assert best["epoch"] == 1, "the second epoch was the best, so both were saved at its end"
    assert last.samefile(checkpoints / "best.ckpt") and last.stat().st_nlink == 2
    main(["fit", *quiet, "--trainer.max_epochs", "3", "--ckpt_path", str(last)])
    main(["fit", *quiet, "--trainer.max_epochs", "3"])  # the same run, never stopped: version_1
    resumed = torch.load(last, weights_only=True)
    whole = torch.load(str(last).replace("version_0", "version_1"), weights_only=True)
    assert resumed["epoch"] == whole["epoch"] == 2
    assert resumed["state_dict"].keys() == whole["state_dict"].keys()
    assert all(torch.equal(resumed["state_dict"][k], whole["state_dict"][k]) for k in whole["state_dict"])
