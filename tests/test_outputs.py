"""What a command writes: an existing file is replaced only when the user asks (`--overwrite true`,
the same option on every command that writes one), and never when it is a checkpoint, a weights
file or one of the command's inputs; a device or a FIFO is written where it stands, never renamed
over (as root, `--output /dev/null` used to leave a regular file in its place)."""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest
import torch

from zoo.cli import main
from zoo.errors import ZooError
from zoo.files import atomic_write, output_path

KEPT = b"notes the user keeps"


def read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    """A reader of the FIFO at `path`, keeping what it read: a writer's open waits for one."""

    def read() -> None:
        with open(path, "rb") as fifo:
            into.append(fifo.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_a_fifo_is_written_in_place_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "answers.csv"
    os.mkfifo(fifo)
    read: list[bytes] = []
    reader = read_fifo(fifo, read)
    assert output_path(fifo, "--output") == fifo, "nothing is replaced: no --overwrite true needed"
    with atomic_write(fifo) as target:
        target.write_bytes(b"input,prediction\n")
    reader.join(timeout=60)
    assert read == [b"input,prediction\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode), "still a FIFO, not a regular file renamed over it"
    assert [p.name for p in tmp_path.iterdir()] == ["answers.csv"], "no temporary file"


def test_zoo_export_into_a_fifo_writes_through_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "net.pt"
    os.mkfifo(fifo)
    read: list[bytes] = []
    reader = read_fifo(fifo, read)
    main(["export", "--model", "linear_regression", "--format", "torchscript", "--out", str(fifo)])
    reader.join(timeout=60)
    assert capsys.readouterr().out == f"zoo: linear_regression exported as torchscript to {fifo}\n"
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    (tmp_path / "copy.pt").write_bytes(read[0])
    net = torch.jit.load(str(tmp_path / "copy.pt"))
    assert net(torch.ones(1, 1)).shape == (1, 1)


def test_a_socket_is_refused_as_an_output(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(path))
        with pytest.raises(ZooError) as raised:
            output_path(path, "--output", overwrite=True)
    assert str(raised.value) == (f"--output '{path}' is a socket, which cannot be written as a file; "
                                 "pass --output with a file path")


def event_folder(folder: Path) -> Path:
    """A run's log folder with one TensorBoard scalar, for `zoo plot`."""
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(folder)) as writer:
        writer.add_scalar("val/acc", 0.5, 0)
    return folder


REPLACES = [
    pytest.param(["export", "--model", "linear_regression", "--format", "torchscript", "--out", "notes.txt"],
                 "--out 'notes.txt'", "notes.txt", ["notes.txt.json"], id="export"),
    pytest.param(["predict", "--model", "linear_regression", "3", "--output", "notes.txt"],
                 "--output 'notes.txt'", "notes.txt", [], id="predict"),
    pytest.param(["plot", "logs", "--out", "notes.png"], "--out 'notes.png'", "notes.png", [], id="plot"),
    pytest.param(["plot", "logs"], "--out 'logs/val_acc.png'", "logs/val_acc.png", [], id="plot-default-out"),
]
"""Each command, the option and file it would replace, and what else it writes (an export's sidecar)."""


@pytest.mark.parametrize(("args", "named", "file", "also"), REPLACES)
def test_an_existing_file_is_replaced_only_with_overwrite_true(
    args: list[str], named: str, file: str, also: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    event_folder(tmp_path / "logs")
    (tmp_path / file).write_bytes(KEPT)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    option = named.split()[0]
    assert capsys.readouterr().err == (f"zoo: error: {named} exists and would be overwritten; pass --overwrite true "
                                       f"to replace it, or {option} with another file name\n")
    assert (tmp_path / file).read_bytes() == KEPT
    assert sorted(p.name for p in tmp_path.rglob("*")) == before, "nothing written, no run folder"
    main([*args, "--overwrite", "true"])
    assert (tmp_path / file).read_bytes() != KEPT
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(before + also), "the file replaced, nothing else"


def test_overwrite_alone_replaces_a_file_in_commands_outside_lightning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    event_folder(tmp_path / "logs")
    (tmp_path / "curve.png").write_bytes(KEPT)
    main(["plot", "logs", "--out", "curve.png", "--overwrite"])
    assert (tmp_path / "curve.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(SystemExit) as stop:
        main(["plot", "logs", "--out", "curve.png", "--overwrite", "yes"])
    assert stop.value.code == 2


def test_zoo_plot_refuses_a_name_of_no_image_format_before_drawing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    event_folder(tmp_path / "logs")
    with pytest.raises(SystemExit) as stop:
        main(["plot", "logs", "--out", "notes.txt"])
    assert stop.value.code == 2
    said = capsys.readouterr().err
    assert said.startswith("zoo: error: --out 'notes.txt' names no image format matplotlib writes; pass --out "
                           "ending in one of: ") and ".png" in said and said.count("\n") == 1, said
    assert not (tmp_path / "notes.txt").exists()


@pytest.mark.parametrize("target", ["model.ckpt", "net.safetensors"])
def test_overwrite_true_never_replaces_a_checkpoint_or_weights_file(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / target).write_bytes(KEPT)
    with pytest.raises(SystemExit) as stop:
        main(["export", "--model", "linear_regression", "--format", "onnx", "--out", target, "--overwrite", "true"])
    assert stop.value.code == 2
    kind = "checkpoint" if target.endswith(".ckpt") else "weights file"
    assert capsys.readouterr().err == (f"zoo: error: --out '{target}' is an existing {kind} and would be "
                                       "overwritten; pass --out with another file name\n")
    assert (tmp_path / target).read_bytes() == KEPT


def test_the_python_export_asks_for_overwrite_too(tmp_path: Path) -> None:
    from zoo.building import build
    from zoo.export import export

    path = tmp_path / "net.pt"
    path.write_bytes(KEPT)
    with pytest.raises(ZooError, match="exists and would be overwritten; pass --overwrite true"):
        export(build("linear_regression"), "torchscript", path)
    assert path.read_bytes() == KEPT
    export(build("linear_regression"), "torchscript", path, overwrite=True)
    assert torch.jit.load(str(path))(torch.ones(2, 1)).shape == (2, 1)


def test_zoo_weights_build_into_a_folder_holding_its_files_asks_for_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "built").mkdir()
    (tmp_path / "built/linear_regression.metrics.json").write_bytes(KEPT)
    with pytest.raises(SystemExit) as stop:
        main(["weights", "build", "linear_regression", "--out", "built"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        "zoo: error: --out folder 'built' already holds 'linear_regression.metrics.json', which would be "
        "overwritten; pass --overwrite true to replace it, or --out with another folder\n")
    assert [p.name for p in (tmp_path / "built").iterdir()] == ["linear_regression.metrics.json"]
    main(["weights", "build", "linear_regression", "--out", "built", "--overwrite", "true"])
    assert sorted(p.name for p in (tmp_path / "built").iterdir()) == [
        "cards.json", "linear_regression.metrics.json", "linear_regression.safetensors"]
    assert (tmp_path / "built/linear_regression.metrics.json").read_bytes() != KEPT
