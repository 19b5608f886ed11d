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


def run_bounded(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m zoo ARGS` in `cwd` with at most 4 GiB of data (heap and private mappings, not the
    libraries torch maps, which a GPU build makes large) and 120 s: a regression that expands a
    crafted file fails the test instead of exhausting the machine's memory."""
    import resource

    def bounded() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (4 << 30, 4 << 30))

    return subprocess.run([sys.executable, "-m", "zoo", *args], cwd=cwd, capture_output=True, text=True,
                          env=env or dict(os.environ, PYTHONPATH=str(REPO)), timeout=120, preexec_fn=bounded)


def laughs(levels: int = 9, fan: int = 9) -> str:
    """A 'billion laughs' YAML value in flow style: each level an anchored list of `fan` aliases
    of the level below, `fan` ** `levels` strings once expanded, in a few hundred bytes."""
    value = "&l0 [" + ", ".join(["lol"] * fan) + "]"
    for level in range(1, levels):
        value = f"[{value}, &l{level} [" + ", ".join([f"*l{level - 1}"] * fan) + "]]"
    return value


@pytest.mark.parametrize("where", ["config-file", "option-value"])
def test_a_billion_laughs_yaml_is_refused_before_it_is_expanded(tmp_path: Path, where: str) -> None:
    bomb = laughs()
    assert len(bomb) < 600
    (tmp_path / "bomb.yaml").write_text(f"trainer:\n  callbacks: {bomb}\n")
    args = ["--config", "bomb.yaml"] if where == "config-file" else ["--trainer.callbacks", bomb]
    done = run_bounded(["fit", "--model", "cnn_mnist", *args], tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("zoo: error: ")
    assert "expands to more than 100,000 values through its YAML aliases (*name)" in done.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("text", ["x: &a [*a]\n", "x: &a {y: *a}\n"], ids=["list", "mapping"])
def test_a_yaml_alias_inside_its_own_anchor_is_refused(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "loop.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--model", "cnn_mnist", "--config", "loop.yaml"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err == ("zoo: error: config file 'loop.yaml' expands to more than 100,000 values through its YAML "
                   "aliases (*name); write the values out, or use fewer aliases\n")


def test_a_config_file_of_random_bytes_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "random.yaml").write_bytes(bytes([0x86]) + np.random.default_rng(0).bytes(3000))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--model", "cnn_mnist", "--config", "random.yaml"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err == ("zoo: error: config file 'random.yaml' is not text (byte 0x86 at offset 0 is not UTF-8); pass a "
                   "YAML file, e.g. one written by --print_config\n")


PLANTED = "open('MARKER', 'w').close()\n\nclass Thing:\n    pass\n"
"""A module whose import leaves a marker file: what a planted module could run instead."""


def test_python_m_zoo_does_not_import_a_module_planted_in_the_working_folder(tmp_path: Path) -> None:
    (tmp_path / "planted.py").write_text(PLANTED)
    (tmp_path / "run.yaml").write_text("model:\n  class_path: planted.Thing\n")
    done = run_bounded(["fit", "--config", "run.yaml"], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stderr.splitlines()[-1] == ("zoo: error: Parser key \"model\": Problem with given class_path "
                                            "'planted.Thing': No module named 'planted'; see 'zoo fit --help'")
    assert not (tmp_path / "MARKER").exists()


def test_python_m_zoo_still_imports_a_users_module_from_pythonpath(tmp_path: Path) -> None:
    """The user's own folder on PYTHONPATH is theirs to import from, the working folder included."""
    (tmp_path / "planted.py").write_text(PLANTED)
    (tmp_path / "run.yaml").write_text("model:\n  class_path: planted.Thing\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), "."]))
    done = run_bounded(["fit", "--config", "run.yaml"], tmp_path, env)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert (tmp_path / "MARKER").exists()
