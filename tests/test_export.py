"""zoo export: decoded raw inputs to answers as ONNX (run in onnxruntime) and TorchScript (run
in torch), answering as PyTorch does; and the pictures: a classifier's confusion matrix, zoo plot's axes,
grey image folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import PT2_REFUSED, REPO, SyntheticDataModule, quiet_trainer
from lightning.pytorch.loggers import TensorBoardLogger
from PIL import Image

from zoo import ZooError, build, list_models, load_checkpoint
from zoo.callbacks import ConfusionMatrixCallback
from zoo.cli import main
from zoo.cli.inspect import plot_command
from zoo.datamodules import mnist
from zoo.datamodules.image_folder import ImageFolderDataModule
from zoo.export import Answering, ExportedModel, export
from zoo.tasks import LanguageModelTask

EXPORTED = list_models()
"""Every registered model: each card gives the example inputs its network is traced with."""


def checkpoint(name: str, folder: Path) -> Path:
    torch.manual_seed(0)
    trainer = quiet_trainer(folder)
    trainer.strategy.connect(build(name))
    trainer.save_checkpoint(folder / f"{name}.ckpt")
    return folder / f"{name}.ckpt"


@pytest.mark.parametrize("name", EXPORTED)
def test_exported_files_answer_raw_inputs_as_pytorch_does(name: str, tmp_path: Path) -> None:
    """Decoded raw inputs (pixels of another size than the trace's, character codes, numbers) in
    another batch size than the export's; texts of the card's examples, of other lengths."""
    ort = pytest.importorskip("onnxruntime")
    ckpt = str(checkpoint(name, tmp_path))
    model = load_checkpoint(ckpt).eval()
    answering = Answering(model).eval()
    raw = model.raw_inputs
    batches = [raw.raw_example(3, torch.Generator().manual_seed(1))]
    if "height" in raw.varying_axes().values():
        batches.append(tuple(t.repeat_interleave(2, dim=2)[..., 1:] for t in batches[0]))
    if "length" in raw.varying_axes().values():
        batches.extend(raw.decode(items) for items, _ in raw.batches(raw.expand(list(raw.examples))))
    main(["export", "--model", name, "--ckpt_path", ckpt, "--format", "onnx", "--out", str(tmp_path / "n.onnx")])
    session = ort.InferenceSession(str(tmp_path / "n.onnx"), providers=["CPUExecutionProvider"])
    main(["export", "--ckpt_path", ckpt, "--format", "torchscript", "--out", str(tmp_path / "n.pt")])
    scripted = torch.jit.load(str(tmp_path / "n.pt"))
    sidecar = json.loads((tmp_path / "n.onnx.json").read_text())
    for decoded in batches:
        if sidecar["inputs"][0]["shape"][1] == 5 and decoded[0].shape[1] != 5:
            continue  # a file traced for one length (rnncell_hello: below)
        with torch.no_grad():
            expected = answering(*decoded)
            torch.testing.assert_close(scripted(*decoded), expected, atol=1e-5, rtol=1e-5)
        feeds = {i.name: x.numpy() for i, x in zip(session.get_inputs(), decoded, strict=True)}
        torch.testing.assert_close(torch.from_numpy(session.run(None, feeds)[0]), expected, atol=1e-5, rtol=1e-5)
    check_sidecar(sidecar, session, model)


def check_sidecar(sidecar: dict[str, Any], session: Any, model: Any) -> None:
    """The sidecar names the file's tensors as onnxruntime reads them (dynamic axes by name),
    says what its output is, and its labels are the model's."""
    assert [(i["name"], i["shape"]) for i in sidecar["inputs"]] == [(i.name, i.shape) for i in session.get_inputs()]
    assert sidecar["output"]["shape"] == session.get_outputs()[0].shape
    classifier = hasattr(model, "labels")
    assert sidecar["output"]["is"] == ("the probabilities of the labels, over the last axis" if classifier
                                       else "the answer: the network's output as it is")
    assert sidecar["labels"] == (list(model.labels) if classifier else None)
    assert sidecar["raw_inputs"]["kind"] == model.raw_inputs.kind and sidecar["format"] == "onnx"
    assert sidecar["raw_inputs"]["decode"] == model.raw_inputs.decoding
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


def raw_items(model: Any, folder: Path) -> list[Any]:
    """Raw inputs a person gives the model: two pictures of a "1" of different sizes (the second
    in colour), the card's examples, or numbers of the model's width."""
    raw = model.raw_inputs
    if raw.kind == "images":
        for side, mode in [(40, "L"), (57, "RGB")]:
            page = np.zeros((side, side), dtype=np.uint8)
            page[5:-5, side // 2 - 2:side // 2 + 2] = 255
            Image.fromarray(page).convert(mode).save(folder / f"one_{side}.png")
        return [folder / "one_40.png", folder / "one_57.png"]
    if raw.examples:
        return list(raw.examples)
    (numbers,) = raw.raw_example(2, torch.Generator().manual_seed(1))
    return [",".join(f"{v:.3f}" for v in row.tolist()) for row in numbers]


@pytest.mark.parametrize("name", [n for n in EXPORTED if not issubclass(type(build(n)), LanguageModelTask)])
def test_a_model_answers_through_its_exported_file_as_in_pytorch(name: str, tmp_path: Path) -> None:
    """`ExportedModel` (zoo serve --runtime onnxruntime) gives the rows `Task.answer` gives: the
    same labels, probabilities and values within 1e-4."""
    pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    model = build(name).eval()
    items = raw_items(model, tmp_path)
    wanted, got = model.answer(items, k=3), ExportedModel(model).answer(items, k=3)
    assert [(row.input, [label for label, _ in row.top]) for row in got] == [
        (row.input, [label for label, _ in row.top]) for row in wanted]
    for mine, theirs in zip(got, wanted, strict=True):
        assert [p for _, p in mine.top] == pytest.approx([p for _, p in theirs.top], abs=1e-4)
        assert numbers(mine.prediction) == pytest.approx(numbers(theirs.prediction), abs=1e-4)


def numbers(prediction: str) -> list[float] | str:
    """A regressor's printed values as numbers; any other answer (a label, text) as it is."""
    try:
        return [float(v) for v in prediction.split()]
    except ValueError:
        return prediction


def test_an_exported_file_refuses_a_length_it_was_not_traced_for_in_one_line() -> None:
    pytest.importorskip("onnxruntime")
    exported = ExportedModel(build("rnncell_hello").eval())
    assert exported.answer(["hello"])[0].input == "hello"
    with pytest.raises(ZooError, match=r"^rnncell_hello.onnx takes input0 of shape \['batch', 5\], and this input is "
                                       r"\[1, 4\]; give an input of that size$"):
        exported.answer(["hell"])


@pytest.mark.parametrize("name", EXPORTED)
def test_a_pt2_file_answers_as_pytorch_does_or_is_refused_in_one_line(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`torch.export`'s .pt2 keeps the batch and an image's size dynamic (other sizes than the
    export's answer as PyTorch does); a recurrent network it cannot follow for any length is one
    line pointing to ONNX, and nothing is written."""
    torch.manual_seed(0)
    model = build(name).eval()
    out = tmp_path / "n.pt2"
    if name in PT2_REFUSED:
        with pytest.raises(SystemExit) as stop:
            main(["export", "--model", name, "--format", "pt2", "--out", str(out)])
        (line,) = capsys.readouterr().err.splitlines()
        assert stop.value.code == 2 and line.startswith(f"zoo: error: {name}'s network cannot be exported to .pt2 "
                                                        "taking any batch and length (torch.export: ")
        assert line.endswith("); use --format onnx, which takes them") and list(tmp_path.iterdir()) == []
        return
    export(model, "pt2", out)
    program = torch.export.load(str(out)).module()
    raw = model.raw_inputs
    batches = [raw.raw_example(3, torch.Generator().manual_seed(1))]
    if "height" in raw.varying_axes().values():
        batches.append(tuple(t.repeat_interleave(2, dim=2)[..., 1:] for t in batches[0]))
    answering = Answering(model).eval()
    with torch.no_grad():
        for decoded in batches:
            torch.testing.assert_close(program(*decoded), answering(*decoded), atol=1e-5, rtol=1e-5)
    assert json.loads((tmp_path / "n.pt2.json").read_text())["format"] == "pt2"


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


ONNXRUNTIME_ONLY = REPO / "docs" / "guides" / "answer_with_onnxruntime.py"
"""The docs' script that answers with an exported file and its sidecar, with no zoo code."""


@pytest.mark.parametrize(("name", "items"), [("gru_names", ["Nguyen", "Schmidt", "Müller"]),
                                             ("cnn_mnist", ["seven.png", "one.jpg"])])
def test_the_docs_onnxruntime_script_answers_as_zoo_predict_does(name: str, items: list[str], tmp_path: Path) -> None:
    """Raw inputs (names, picture files) through the exported file in a process that never
    imports zoo or torch give `zoo predict`'s answers: the file carries the preparation."""
    pytest.importorskip("onnxruntime")
    page = np.full((60, 60), 255, dtype=np.uint8)
    page[10:14, 15:45], page[10:50, 41:45] = 0, 0
    Image.fromarray(page).save(tmp_path / "seven.png")
    Image.fromarray(np.pad(255 - page[:, 30:], 20)).convert("RGB").save(tmp_path / "one.jpg")
    main(["export", "--model", name, "--format", "onnx", "--out", str(tmp_path / "model.onnx")])
    never_imports = (f"import runpy, sys; sys.argv = [{str(ONNXRUNTIME_ONLY)!r}, 'model.onnx', *{items!r}]; "
                     "runpy.run_path(sys.argv[0], run_name='__main__'); "
                     "assert not {'zoo', 'torch'} & set(sys.modules), 'zoo or torch imported'")
    result = subprocess.run([sys.executable, "-c", never_imports], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": ""}, timeout=120)
    assert result.returncode == 0, result.stderr
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        rows = build(name, pretrained=True).answer(items)
    assert result.stdout.splitlines() == [f"{row.input} {row.prediction} {row.probability:.4f}" for row in rows]
