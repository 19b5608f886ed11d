"""zoo export: the plain network as ONNX (run in onnxruntime) and TorchScript (run in torch),
answering as PyTorch does; and the pictures: a classifier's confusion matrix, zoo plot's axes,
grey image folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import ANSWER_HEADS, SyntheticDataModule, example_inputs, quiet_trainer
from lightning.pytorch.loggers import TensorBoardLogger
from PIL import Image

from zoo import ZooError, build, list_models, load_checkpoint
from zoo.callbacks import ConfusionMatrixCallback
from zoo.cli import main
from zoo.cli.inspect import plot_command
from zoo.datamodules import mnist
from zoo.datamodules.image_folder import ImageFolderDataModule

EXPORTED = list_models()
"""Every registered model: each card gives the example inputs its network is traced with."""


def checkpoint(name: str, folder: Path) -> Path:
    torch.manual_seed(0)
    trainer = quiet_trainer(folder)
    trainer.strategy.connect(build(name))
    trainer.save_checkpoint(folder / f"{name}.ckpt")
    return folder / f"{name}.ckpt"


@pytest.mark.parametrize("name", EXPORTED)
def test_exported_networks_answer_as_pytorch_does(name: str, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    ckpt = str(checkpoint(name, tmp_path))
    net = load_checkpoint(ckpt).net.eval()
    torch.manual_seed(1)
    inputs = example_inputs(name, batch_size=3)  # another batch size than the export's
    with torch.no_grad():
        expected = net(*inputs)
    main(["export", "--model", name, "--ckpt_path", ckpt, "--format", "onnx", "--out", str(tmp_path / "n.onnx")])
    session = ort.InferenceSession(str(tmp_path / "n.onnx"), providers=["CPUExecutionProvider"])
    feeds = {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs, strict=True)}
    (onnx_out,) = session.run(None, feeds)
    torch.testing.assert_close(torch.from_numpy(onnx_out), expected, atol=1e-5, rtol=1e-5)
    inputs_kind = load_checkpoint(ckpt).raw_inputs
    if None in inputs_kind.sample_shape():  # texts: the card's examples, of other lengths than the trace's 5
        for _, tensors in inputs_kind.batches(inputs_kind.expand(list(inputs_kind.examples))):
            with torch.no_grad():
                wanted = net(*tensors)
            feeds = {i.name: x.numpy() for i, x in zip(session.get_inputs(), tensors, strict=True)}
            torch.testing.assert_close(torch.from_numpy(session.run(None, feeds)[0]), wanted, atol=1e-5, rtol=1e-5)
    check_sidecar(json.loads((tmp_path / "n.onnx.json").read_text()), session, load_checkpoint(ckpt),
                  torch.from_numpy(onnx_out), expected)
    main(["export", "--ckpt_path", ckpt, "--format", "torchscript", "--out", str(tmp_path / "n.pt")])
    scripted = torch.jit.load(str(tmp_path / "n.pt"))
    with torch.no_grad():
        torch.testing.assert_close(scripted(*inputs), expected, atol=1e-5, rtol=1e-5)


def check_sidecar(sidecar: dict[str, Any], session: Any, model: Any, onnx_out: torch.Tensor,
                  expected: torch.Tensor) -> None:
    """The sidecar names the file's tensors as onnxruntime reads them (dynamic axes by name), its
    head turns the file's output into the task's answer, and its labels are the model's."""
    assert [(i["name"], i["shape"]) for i in sidecar["inputs"]] == [(i.name, i.shape) for i in session.get_inputs()]
    assert sidecar["output"]["shape"] == session.get_outputs()[0].shape
    torch.testing.assert_close(ANSWER_HEADS[sidecar["output"]["to_answer"]](onnx_out), model.prediction(expected),
                               atol=1e-5, rtol=1e-5)
    assert sidecar["labels"] == (list(model.labels) if hasattr(model, "labels") else None)
    assert sidecar["raw_inputs"]["kind"] == model.raw_inputs.kind and sidecar["format"] == "onnx"
    assert isinstance(sidecar["opset"], int) and len(sidecar["card_sha256"]) == 64


@pytest.mark.parametrize(("name", "length"), [("gru_names", "length"), ("char_rnn_shakespeare", "length"),
                                              ("rnncell_hello", 5)])
def test_a_text_models_file_takes_any_length_unless_its_network_loops_in_python(
        name: str, length: str | int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rnncell_hello steps through positions in a Python loop, which a trace unrolls for the
    example's 5 characters: its files say so (sidecar and one line) rather than claim any length."""
    pytest.importorskip("onnxruntime")
    main(["export", "--model", name, "--ckpt_path", str(checkpoint(name, tmp_path)), "--format", "onnx",
          "--out", str(tmp_path / "n.onnx")])
    sidecar = json.loads((tmp_path / "n.onnx.json").read_text())
    assert sidecar["inputs"][0]["shape"][:2] == ["batch", length]
    said = "steps through the positions of its input in Python" in capsys.readouterr().err
    assert said == (length == 5)


def test_an_existing_sidecar_is_kept_without_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The sidecar is checked with the file, before anything is written: an existing one stops the
    export in one line and neither file is written."""
    ckpt = str(checkpoint("cnn_mnist", tmp_path))
    (tmp_path / "n.onnx.json").write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--ckpt_path", ckpt, "--format", "onnx", "--out", str(tmp_path / "n.onnx")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and "n.onnx.json" in err and "--overwrite" in err, err
    assert not (tmp_path / "n.onnx").exists() and (tmp_path / "n.onnx.json").read_text() == "mine"


def test_export_refusals_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = str(checkpoint("cnn_mnist", tmp_path))
    for args, message in [
        (["--format", "onnx", "--out", str(tmp_path / "nowhere" / "n.onnx")], "folder '.*nowhere' does not exist"),
        (["--format", "onnx", "--out", str(tmp_path)], "--out '.*' is a folder; pass a file path"),
        (["--format", "tflite", "--out", "n"], "argument --format: invalid choice"),
        (["--format", "onnx"], "the following arguments are required: --out"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(["export", "--ckpt_path", ckpt, *args])
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.count("\n") == 1
        assert __import__("re").search(message, err), err


def test_confusion_matrix_after_testing_a_classifier(tmp_path: Path) -> None:
    model = build("cnn_mnist")
    callback = ConfusionMatrixCallback()
    logger = TensorBoardLogger(tmp_path, name="run")
    trainer = quiet_trainer(tmp_path, max_epochs=1, logger=logger, callbacks=[callback])
    data = SyntheticDataModule(model, str(tmp_path), samples=8)
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data, verbose=False)
    assert callback.path == Path(logger.log_dir) / "confusion_matrix.png"
    assert callback.path.read_bytes().startswith(b"\x89PNG")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(logger.log_dir)
    events.Reload()
    assert "test/confusion_matrix" in events.Tags()["images"]


@pytest.mark.parametrize("name", ["char_rnn_shakespeare", "linear_regression", "rnn_hello"])
def test_confusion_matrix_is_a_no_op_for_other_tasks_and_sequences(name: str, tmp_path: Path) -> None:
    model = build(name)
    callback = ConfusionMatrixCallback()
    trainer = quiet_trainer(tmp_path, callbacks=[callback])
    trainer.test(model, datamodule=SyntheticDataModule(model, str(tmp_path)), verbose=False)
    assert callback.path is None and not list(tmp_path.rglob("*.png"))


def test_plot_puts_step_metrics_on_steps_and_epoch_metrics_on_epochs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = build("cnn_mnist")
    logger = TensorBoardLogger(tmp_path, name="run")
    trainer = quiet_trainer(tmp_path, max_epochs=2, logger=logger, log_every_n_steps=1)
    trainer.fit(model, datamodule=SyntheticDataModule(model, str(tmp_path), samples=8, batch_size=4))
    plot_command([logger.log_dir, "--metric", "train/loss", "--out", str(tmp_path / "new" / "loss.png")])
    printed = capsys.readouterr().out
    assert "step 0: train/loss" in printed and "step 3: train/loss" in printed
    assert (tmp_path / "new" / "loss.png").read_bytes().startswith(b"\x89PNG")  # the folder was made
    plot_command([logger.log_dir, "--metric", "val/loss", "--out", str(tmp_path / "val.png")])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == ["epoch 1", "epoch 2"]


def test_image_folder_in_grey_feeds_the_mnist_models(tmp_path: Path) -> None:
    for digit in range(10):  # the MNIST networks have ten outputs: one folder per digit
        (tmp_path / str(digit)).mkdir()
        for i in range(3):
            Image.new("RGB", (40 + i, 30), (255, 255, 255) if digit % 2 else (0, 0, 0)).save(
                tmp_path / str(digit) / f"{i}.png")
    data = ImageFolderDataModule(str(tmp_path), image_size=28, channels=1, val_split=0.2, test_split=0.2)
    assert data.input_shape == (1, 28, 28)
    data.setup("fit")
    images = data.splits["train"][0]
    assert images.shape[1:] == (1, 28, 28)
    values = {round(v, 4) for v in images.unique().tolist()}
    assert values <= {round(-mnist.MEAN / mnist.STD, 4), round((1 - mnist.MEAN) / mnist.STD, 4)}
    model = build("cnn_mnist", labels=data.labels)
    quiet_trainer(tmp_path, fast_dev_run=True).fit(model, datamodule=data)
    assert ImageFolderDataModule(str(tmp_path), image_size=32, channels=1).input_shape == (1, 32, 32)
    with pytest.raises(ZooError, match=r"channels must be 1 .* or 3"):
        ImageFolderDataModule(str(tmp_path), channels=2)
