"""A crafted checkpoint or data file, whose unpickling would create a marker file, goes through
every way zoo loads one: the marker never appears, and each is one line, exit 2."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from zoo import ZooError, load_checkpoint
from zoo.cli import main

REPO = Path(__file__).resolve().parents[1]


class WritesMarker:
    """Unpickling this calls open(marker, 'w'): what a hostile file could run instead."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.marker), "w")


@pytest.fixture
def crafted(tmp_path: Path) -> tuple[Path, Path]:
    """A checkpoint that names a zoo model but carries a payload; and the marker it would write."""
    marker = tmp_path / "marker"
    path = tmp_path / "crafted.ckpt"
    torch.save({"hyper_parameters": {"net": "cnn_mnist"}, "state_dict": {}, "x": WritesMarker(marker)}, path)
    return path, marker


def test_load_checkpoint_refuses_it(crafted: tuple[Path, Path]) -> None:
    path, marker = crafted
    with pytest.raises(ZooError, match="never loads"):
        load_checkpoint(path)
    assert not marker.exists()


COMMANDS = [
    ["test", "--model", "cnn_mnist", "--ckpt_path", "CKPT"],
    ["validate", "--model", "cnn_mnist", "--ckpt_path", "CKPT"],
    ["predict", "--model", "cnn_mnist", "--ckpt_path", "CKPT"],
    ["fit", "--model", "cnn_mnist", "--ckpt_path", "CKPT"],
    ["predict", "--model", "gru_names", "--ckpt_path", "CKPT", "Nguyen"],
    ["names", "CKPT", "Nguyen"],
    ["sample", "CKPT", "--prompt", "ROMEO:"],
    ["export", "--model", "cnn_mnist", "--ckpt_path", "CKPT", "--format", "onnx", "--out", "x.onnx"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=[a[0] + ("-inputs" if "Nguyen" in a else "") for a in COMMANDS])
def test_every_command_refuses_it_in_one_line(
    argv: list[str], crafted: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, marker = crafted
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main([str(path) if a == "CKPT" else a for a in argv])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("zoo: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "crafted.ckpt" in lines[0]
    assert not marker.exists()
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_the_pass_curve_example_refuses_it(crafted: tuple[Path, Path], tmp_path: Path) -> None:
    path, marker = crafted
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, str(REPO / "examples" / "pass_curve.py"), "--ckpt", str(path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("pass_curve.py: error: checkpoint")
    assert not marker.exists()


def test_a_crafted_cifar10_batch_is_refused_by_zoo_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "data" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    marker = tmp_path / "marker"
    fine = {"data": np.zeros((2, 3072), dtype=np.uint8), "labels": [0, 1]}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps(fine, protocol=2))
    (folder / "data_batch_3").write_bytes(pickle.dumps({"data": WritesMarker(marker)}, protocol=2))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--model", "cnn_cifar10", "--data.data_dir", str(tmp_path / "data"),
              "--trainer.fast_dev_run", "true"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "data_batch_3" in err and "is not a CIFAR-10 batch" in err and "Traceback" not in err
    assert not marker.exists()
