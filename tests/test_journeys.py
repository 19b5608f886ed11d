"""Users' journeys, run as a user runs them: `zoo fit` through the real command, then every
command and call that takes what it wrote. One model of each task kind, on tiny data, a step
or two each, so a checkpoint `zoo fit` writes is proved usable everywhere it is offered."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO
from PIL import Image

from zoo import load_checkpoint
from zoo.registry import model_card

ONE_STEP = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
            "--trainer.enable_progress_bar", "false"]
RUN = "runs/{model}/lightning_logs/version_{n}"


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a command that must have worked, with its stderr shown when it did not."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


def fit(run_zoo, tmp_path: Path, model: str, *extra: str) -> Path:
    """`zoo fit --model MODEL` for a step or two; the best checkpoint it names."""
    out = succeeded(run_zoo("fit", "--model", model, *ONE_STEP, *extra))
    best = tmp_path / RUN.format(model=model, n=0) / "checkpoints" / "best.ckpt"
    assert f"best checkpoint: {RUN.format(model=model, n=0)}/checkpoints/best.ckpt" in out, out
    assert best.is_file()
    return best


def prediction_rows(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    assert list(frame.columns[:3]) == ["input", "prediction", "probability"], frame.columns
    return frame


def digit_picture(path: Path) -> Path:
    """A thick vertical stroke, a '1' as a person draws it, on a white page."""
    page = np.full((60, 60), 255, dtype=np.uint8)
    page[10:50, 27:33] = 0
    Image.fromarray(page).save(path)
    return path


def test_image_classifier_journey(run_zoo, tmp_path: Path) -> None:
    """fit -> test, validate, predict (split and files) -> export both formats -> load -> resume."""
    best = fit(run_zoo, tmp_path, "cnn_mnist", "--model.scheduler", "null")
    ckpt = ["--ckpt_path", str(best)]

    evaluations = [succeeded(run_zoo("test", "--model", "cnn_mnist", *ckpt)),
                   succeeded(run_zoo("validate", *ckpt, "--model", "cnn_mnist")),
                   succeeded(run_zoo("predict", "--model", "cnn_mnist", *ckpt))]
    assert "test: test/acc" in evaluations[0]
    assert "validation: val/acc" in evaluations[1]
    assert "1000 predictions of shape (10,)" in evaluations[2]
    assert not any("dirpath has changed" in out for out in evaluations), "Lightning's checkpoint-folder notice"

    picture = digit_picture(tmp_path / "one.png")
    succeeded(run_zoo("predict", "--model", "cnn_mnist", *ckpt, str(picture), "--output", "one.csv"))
    rows = prediction_rows(tmp_path / "one.csv")
    assert rows["input"].tolist() == [str(picture)]
    assert rows["prediction"].astype(str).iloc[0] in [str(d) for d in range(10)]

    model = load_checkpoint(best)
    assert model.zoo_name == "cnn_mnist"
    for fmt, out in (("onnx", "cnn.onnx"), ("torchscript", "cnn.pt")):
        succeeded(run_zoo("export", "--model", "cnn_mnist", *ckpt, "--format", fmt, "--out", out))
    pixels = np.array(Image.open(picture))[None, None]  # the picture's own pixels: the files prepare them
    scripted = torch.jit.load(str(tmp_path / "cnn.pt"))
    with torch.no_grad():
        answer = scripted(torch.from_numpy(pixels))
    import onnxruntime

    session = onnxruntime.InferenceSession(str(tmp_path / "cnn.onnx"), providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run(None, {"input0": pixels})
    np.testing.assert_allclose(onnx_out, answer.numpy(), atol=1e-5, rtol=1e-5)
    assert str(int(onnx_out.argmax())) == str(rows["prediction"].iloc[0])
    assert float(onnx_out.max()) == pytest.approx(float(rows["probability"].iloc[0]), abs=1e-4)

    last = best.parent / "last.ckpt"
    resumed = succeeded(run_zoo("fit", "--model", "cnn_mnist", *ONE_STEP, "--model.scheduler", "null",
                                "--trainer.max_epochs", "2", "--ckpt_path", str(last)))
    assert "test of the best checkpoint" in resumed
    assert (best.parent.parent / "config_resume_1.yaml").is_file()
    assert torch.load(last, weights_only=True)["epoch"] == 1
    assert not (tmp_path / RUN.format(model="cnn_mnist", n=1)).exists()


def write_names(folder: Path) -> list[str]:
    """A tiny names_train.csv.gz in the file's format: six made-up names for each of the model's
    countries (the model's classes are fixed). Returns the countries."""
    countries = list(model_card("gru_names").labels or [])
    lines = [f"{country[:3]}{suffix}{i},{country}" for country in countries for i, suffix in enumerate("abcdef")]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "names_train.csv.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    return countries


def test_sequence_classifier_journey(run_zoo, tmp_path: Path) -> None:
    """gru_names: fit -> predict surnames -> export -> load."""
    countries = write_names(tmp_path / "data")
    best = fit(run_zoo, tmp_path, "gru_names", "--data.batch_size", "16")
    succeeded(run_zoo("predict", "--model", "gru_names", "--ckpt_path", str(best), "Nguyen", "Schmidt",
                      "--output", "names.csv"))
    rows = prediction_rows(tmp_path / "names.csv")
    assert rows["input"].tolist() == ["Nguyen", "Schmidt"]
    assert set(rows["prediction"]) <= set(countries)
    succeeded(run_zoo("export", "--ckpt_path", str(best), "--model", "gru_names", "--format", "onnx",
                      "--out", "names.onnx"))
    assert list(load_checkpoint(best).labels) == countries


def test_language_model_journey(run_zoo, tmp_path: Path) -> None:
    """char_rnn_shakespeare: fit -> predict from a prompt -> load and sample."""
    (tmp_path / "data").mkdir()
    alphabet = "".join(model_card("char_rnn_shakespeare").labels or [])  # the text must hold every character
    text = ("ROMEO:\nBut soft, what light through yonder window breaks?\n" + alphabet) * 20
    (tmp_path / "data" / "shakespeare.txt.gz").write_bytes(gzip.compress(text.encode()))
    best = fit(run_zoo, tmp_path, "char_rnn_shakespeare", "--data.batch_size", "4", "--data.seq_len", "32")
    out = succeeded(run_zoo("predict", "--model", "char_rnn_shakespeare", "--ckpt_path", str(best), "ROMEO:",
                            "--length", "20", "--seed", "0", "--output", "text.csv"))
    rows = prediction_rows(tmp_path / "text.csv")
    assert rows["input"].tolist() == ["ROMEO:"] and len(str(rows["prediction"].iloc[0])) == 20, out
    assert len(load_checkpoint(best).sample("ROMEO:", 15, 0.8, 0)) == 15


@pytest.mark.parametrize(
    ("model", "raw_input"),
    [("linear_regression", "4"), ("logistic_regression", "2.5")],
    ids=["regression", "binary"],
)
def test_regression_and_binary_journeys(run_zoo, tmp_path: Path, model: str, raw_input: str) -> None:
    """fit -> test -> predict a number -> export -> load."""
    best = fit(run_zoo, tmp_path, model)
    assert "test: test/" in succeeded(run_zoo("test", "--model", model, "--ckpt_path", str(best)))
    succeeded(run_zoo("predict", "--model", model, "--ckpt_path", str(best), raw_input, "--output", "p.csv"))
    rows = prediction_rows(tmp_path / "p.csv")
    assert rows["input"].astype(str).tolist() == [raw_input]
    succeeded(run_zoo("export", "--model", model, "--ckpt_path", str(best), "--format", "torchscript",
                      "--out", "m.pt"))
    assert load_checkpoint(best).zoo_name == model


def test_the_pass_curve_example_reads_a_checkpoint_zoo_fit_wrote(run_zoo, tmp_path: Path) -> None:
    best = fit(run_zoo, tmp_path, "logistic_regression")
    done = subprocess.run([sys.executable, str(REPO / "examples" / "pass_curve.py"), "--ckpt", str(best)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr


HALT = '''
import os
import signal

import lightning.pytorch as pl


class Halt(pl.Callback):
    """Stops a fresh run at the start of epoch `epoch`, when every checkpoint of the epoch before
    is on disk: by SIGKILL, or as Ctrl+C does (KeyboardInterrupt in the training loop)."""

    def __init__(self, epoch: int, how: str) -> None:
        self.epoch = epoch
        self.how = how

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.ckpt_path is not None or trainer.current_epoch != self.epoch:
            return
        if self.how == "SIGKILL":
            os.kill(os.getpid(), signal.SIGKILL)
        raise KeyboardInterrupt
'''


def halted_at(epoch: int, how: str) -> list[str]:
    """The `zoo fit` option that stops a run at a known point (`Halt`, in the test's folder)."""
    callback = {"class_path": "halt.Halt", "init_args": {"epoch": epoch, "how": how}}
    return ["--trainer.callbacks", json.dumps([callback])]


def checkpoint_files(run: Path) -> list[str]:
    return sorted(p.name for p in (run / "checkpoints").iterdir())


def best_score(checkpoint: dict[str, object]) -> object:
    """The monitored score a best checkpoint saved itself for (its ModelCheckpoint's state)."""
    states = checkpoint["callbacks"]
    assert isinstance(states, dict)
    return next(state["best_model_score"] for key, state in states.items() if key.startswith("ModelCheckpoint"))


@pytest.mark.slow
def test_an_interrupted_run_resumes_to_the_uninterrupted_runs_best_checkpoint(run_zoo, tmp_path: Path) -> None:
    """fit N epochs; fit again, stopped after epoch 1 (SIGKILL) or 2 (Ctrl+C) with its checkpoints
    saved; resume from last.ckpt: one best.ckpt, the same as the uninterrupted run's."""
    (tmp_path / "halt.py").write_text(HALT)
    env = {"PYTHONPATH": f"{REPO}{os.pathsep}{tmp_path}"}
    run = ["--model", "mlp_mnist", "--trainer.max_epochs", "4", "--trainer.limit_train_batches", "3",
           "--trainer.limit_val_batches", "1", "--trainer.enable_progress_bar", "false"]
    succeeded(run_zoo("fit", *run, extra_env=env))
    whole = tmp_path / RUN.format(model="mlp_mnist", n=0)
    expected = torch.load(whole / "checkpoints/best.ckpt", weights_only=True)

    for n, (epoch, how, code) in enumerate([(1, "SIGKILL", -signal.SIGKILL), (2, "Ctrl+C", 130)], start=1):
        stopped = run_zoo("fit", *run, *halted_at(epoch, how), extra_env=env)
        assert stopped.returncode == code, stopped.stderr
        folder = tmp_path / RUN.format(model="mlp_mnist", n=n)
        last = folder / "checkpoints/last.ckpt"
        assert torch.load(last, weights_only=True)["epoch"] == epoch - 1, "stopped where it was told to"

        out = succeeded(run_zoo("fit", *run, "--ckpt_path", str(last), extra_env=env))
        assert checkpoint_files(folder) == ["best.ckpt", "last.ckpt"], how
        assert "is not empty" not in out, "Lightning's warning about the run's own checkpoint folder"
        best = torch.load(folder / "checkpoints/best.ckpt", weights_only=True)
        assert best["epoch"] == expected["epoch"] and best["global_step"] == expected["global_step"], how
        assert torch.equal(best_score(best), best_score(expected)), how
        assert best["state_dict"].keys() == expected["state_dict"].keys()
        for name, tensor in expected["state_dict"].items():
            assert torch.equal(best["state_dict"][name], tensor), (how, name)
