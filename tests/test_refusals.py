"""What `zoo` refuses before a run starts: each bad input is one `zoo: error:` line, exit 2, no
traceback. A few rows run by default; the rest (each a ~5 s subprocess) with `-m slow`."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from benchmarks.serve import free_port

SLOW = pytest.mark.slow
SERVE = pytest.mark.skipif(importlib.util.find_spec("litserve") is None, reason="pip install -e '.[serve]'")
FREE_PORT = "<a free port>"
"""Stands for a port of 127.0.0.1 found free when the row runs (a fixed one may be taken)."""


def make_inputs(folder: Path) -> None:
    """The bad files the table refers to, written into the run's working folder."""
    (folder / "empty.ckpt").write_bytes(b"")
    (folder / "random.ckpt").write_bytes(random.Random(0).randbytes(4096))
    (folder / "a_folder.ckpt").mkdir()
    (folder / "a_file").write_text("")
    checkpoint = {"hyper_parameters": {"net": "mlp_mnist"}, "state_dict": {"w": torch.zeros(1000)}}
    torch.save(checkpoint, folder / "mlp.ckpt")
    whole = (folder / "mlp.ckpt").read_bytes()
    (folder / "truncated.ckpt").write_bytes(whole[: len(whole) // 2])
    (folder / "text.ckpt").write_bytes(b"junk\n")
    torch.save({"state_dict": {}}, folder / "foreign.ckpt")
    (folder / "renamed.safetensors").write_bytes(whole)
    save_file({"w": torch.zeros(3)}, folder / "weights.safetensors")


CASES = [
    pytest.param(["test", "--model", "cnn_mnist"], ["test needs trained weights", "--ckpt_path", "--untrained true"],
                 id="test-without-checkpoint"),
    pytest.param(["test", "--model", "cnn_mnist", "--ckpt_path", "nowhere.ckpt"], ["'nowhere.ckpt' does not exist"],
                 id="missing-checkpoint"),
    pytest.param(["test", "--model", "cnn_mnist", "--ckpt_path", "mlp.ckpt"],
                 ["written by model 'mlp_mnist', not 'cnn_mnist'", "--model mlp_mnist"],
                 id="another-models-checkpoint"),
    pytest.param(["validate", "--model", "cnn_mnist"], ["validate needs trained weights"],
                 id="validate-without-checkpoint", marks=SLOW),
    pytest.param(["predict", "--model", "cnn_mnist"], ["predict needs trained weights"],
                 id="predict-without-checkpoint", marks=SLOW),
    pytest.param(["test", "--model", "cnn_mnist", "--ckpt_path", "empty.ckpt"], ["'empty.ckpt' is empty"],
                 id="empty-checkpoint", marks=SLOW),
    pytest.param(["test", "--model", "cnn_mnist", "--ckpt_path", "truncated.ckpt"], ["damaged or not a checkpoint"],
                 id="truncated-checkpoint", marks=SLOW),
    pytest.param(["test", "--ckpt_path", "text.ckpt"],
                 ["checkpoint 'text.ckpt' is damaged or not a checkpoint (KeyError)"],
                 id="text-file-as-checkpoint"),
    pytest.param(["validate", "--model", "cnn_mnist", "--ckpt_path", "random.ckpt"],
                 ["checkpoint 'random.ckpt'", "pass a"],
                 id="random-bytes-checkpoint", marks=SLOW),
    pytest.param(["predict", "--model", "cnn_mnist", "--ckpt_path", "a_folder.ckpt"], ["is a folder"],
                 id="folder-as-checkpoint", marks=SLOW),
    pytest.param(["test", "--model", "cnn_mnist", "--ckpt_path", "foreign.ckpt"],
                 ["was not written by a registered zoo model"],
                 id="foreign-checkpoint", marks=SLOW),
    pytest.param(["test", "--model", "mlp_mnist", "--ckpt_path", "renamed.safetensors"],
                 ["checkpoint 'renamed.safetensors' is named like a safetensors weights file",
                  "rename it to end in .ckpt"],
                 id="checkpoint-named-safetensors"),
    pytest.param(["predict", "--model", "mlp_mnist", "--ckpt_path", "weights.safetensors"],
                 ["'weights.safetensors' is a safetensors weights file", "pass a .ckpt file", "--pretrained true"],
                 id="safetensors-as-checkpoint", marks=SLOW),
    pytest.param(["fit", "--model", "cnn_mnist", "--ckpt_path", "mlp.ckpt"], ["written by model 'mlp_mnist'"],
                 id="fit-resume-from-another-model", marks=SLOW),
    pytest.param(["fit", "--model", "cnn_mnist", "--ckpt_path", "truncated.ckpt"], ["damaged or not a checkpoint"],
                 id="fit-resume-from-truncated", marks=SLOW),
    pytest.param(["fit", "--model", "cnn_mnist", "--trainer.default_root_dir", "a_file/runs"],
                 ["'a_file/runs", "cannot be created", "--trainer.default_root_dir"],
                 id="unwritable-run-folder", marks=SLOW),
    pytest.param(["serve", "--host", "10.1.2.3"], ["--host '10.1.2.3' is not one LitServe binds to", "127.0.0.1"],
                 id="serve-host", marks=SERVE),
    pytest.param(["serve", "--port", "80"], ["--port 80 is out of range", "1024 to 65535"], id="serve-port",
                 marks=SERVE),
    pytest.param(["serve", "--timeout", "0"], ["--timeout must be more than"], id="serve-timeout", marks=SERVE),
    pytest.param(["serve", "--site", "nowhere"], ["--site 'nowhere' is not a built MkDocs site", "make docs"],
                 id="serve-site-not-built", marks=SERVE),
    pytest.param(["serve", "--modle", "cnn_mnist"], ["unrecognized arguments: --modle", "zoo serve --help"],
                 id="serve-option", marks=SERVE),
    pytest.param(["serve", "--port", FREE_PORT, "--model", "cnn_mnis"], ["unknown model 'cnn_mnis'", "cnn_mnist"],
                 id="serve-unknown-model", marks=[SERVE, SLOW]),
    pytest.param(["serve", "--port", FREE_PORT, "--model", "cnn_cifar10"], ["no pretrained weights", "--ckpt_path"],
                 id="serve-model-without-weights", marks=[SERVE, SLOW]),
    pytest.param(["serve", "--port", FREE_PORT, "--ckpt_path", "empty.ckpt"], ["'empty.ckpt' is empty"],
                 id="serve-broken-checkpoint", marks=[SERVE, SLOW]),
    pytest.param(["serve", "--port", FREE_PORT, "--model", "char_rnn_shakespeare"],
                 ["needs at least one model that is not a language model"],
                 id="serve-only-a-language-model", marks=[SERVE, SLOW]),
]


@pytest.mark.parametrize(("args", "words"), CASES)
def test_refused_in_one_line(run_zoo, tmp_path: Path, args: list[str], words: list[str]) -> None:
    make_inputs(tmp_path)
    result = run_zoo(*(str(free_port()) if arg == FREE_PORT else arg for arg in args))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("zoo: error:")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]
    assert not list(tmp_path.glob("runs/**/*.ckpt"))
    assert not list(tmp_path.glob("runs/**/version_*"))


def test_untrained_weights_are_evaluated_when_asked_for(run_zoo, tmp_path: Path) -> None:
    result = run_zoo("test", "--model", "cnn_mnist", "--untrained", "true", "--trainer.limit_test_batches", "1")
    assert result.returncode == 0, result.stderr
    assert "zoo: test: test/acc" in result.stdout
    assert "results in runs/cnn_mnist/eval/version_0" in result.stdout
    assert not (tmp_path / "runs/cnn_mnist/lightning_logs").exists()
