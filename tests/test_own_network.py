"""A network the user wrote in their own folder, never registered, through every command: `zoo fit`
with `--model.net '{"class_path": "mynet.TinyNet"}'`, then `zoo test`, `zoo predict`, `zoo export`,
`zoo serve` and `zoo.load_checkpoint` with the checkpoint alone. And the trust rules such a
checkpoint is read under, with crafted checkpoints: the classes it names must be networks (and
its task a zoo task) in modules importable as sys.path stands, and nothing else is imported or
called."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import REPO
from PIL import Image

from zoo import ZooError, load_checkpoint
from zoo.cli import main

MYNET = '''
from torch import Tensor, nn


class TinyNet(nn.Module):
    """A small MLP over 1x28x28 digits, written by a user, registered nowhere."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
'''
FIT = ["fit", "--model", "zoo.tasks.ClassificationTask", "--model.net", '{"class_path": "mynet.TinyNet"}',
       "--model.net.hidden", "24", "--data", "mnist", "--trainer.max_epochs", "1",
       "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "2", "--trainer.enable_progress_bar",
       "false"]
BEST = Path("lightning_logs/version_0/checkpoints/best.ckpt")


def zoo(folder: Path, *args: str) -> str:
    """`python -m zoo ARGS` as a user runs it from `folder` with `PYTHONPATH=.` (offline: MNIST is
    the embedded digits); its output, which must say it worked."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), "."]), ZOO_DATA_DIR=str(folder / "data"),
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", COLUMNS="120")
    result = subprocess.run([sys.executable, "-m", "zoo", *args], cwd=folder, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding mynet.py and the run `zoo fit` made of it."""
    folder = tmp_path_factory.mktemp("own")
    (folder / "mynet.py").write_text(MYNET)
    out = zoo(folder, *FIT)
    assert "model TinyNet: 19,090 parameters" in out and f"best checkpoint: {folder / BEST}" in out, out
    return folder


def test_a_network_of_ones_own_keeps_its_class_path_and_its_data_in_the_checkpoint(trained: Path) -> None:
    checkpoint = torch.load(trained / BEST, weights_only=True)
    hparams = checkpoint["hyper_parameters"]
    assert hparams["net"] == {"class_path": "mynet.TinyNet", "init_args": {"hidden": 24}}
    assert hparams["_class_path"] == "zoo.tasks.ClassificationTask"
    assert hparams["labels"] == [str(d) for d in range(10)]  # the datamodule's
    assert checkpoint["datamodule_hyper_parameters"]["_class_path"] == "zoo.datamodules.mnist.MNISTDataModule"


def test_a_network_of_ones_own_works_with_every_command_from_its_checkpoint(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ckpt = ["--ckpt_path", str(BEST)]
    assert "test: test/acc" in zoo(trained, "test", *ckpt)

    page = np.full((60, 60), 255, dtype=np.uint8)
    page[10:14, 15:45] = 0
    page[10:50, 41:45] = 0
    Image.fromarray(page).save(trained / "seven.png")
    table = zoo(trained, "predict", *ckpt, "seven.png").splitlines()
    assert table[0].split()[:3] == ["input", "prediction", "probability"]
    assert table[1].split()[0] == "seven.png" and table[1].split()[1] in [str(d) for d in range(10)]

    assert "TinyNet exported as onnx to tiny.onnx" in zoo(trained, "export", *ckpt, "--format", "onnx",
                                                        "--out", "tiny.onnx")
    import onnxruntime

    session = onnxruntime.InferenceSession(str(trained / "tiny.onnx"), providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(None, {"input0": np.asarray(Image.open(trained / "seven.png"))[None, None]})
    assert probabilities.shape == (1, 10)
    assert str(int(probabilities.argmax())) == table[1].split()[1]

    monkeypatch.syspath_prepend(str(trained))
    model = load_checkpoint(trained / BEST)
    assert type(model.net).__module__ == "mynet" and type(model.net).__name__ == "TinyNet"
    assert model.net.layers[1].out_features == 24
    (row,) = model.answer([str(trained / "seven.png")])
    assert row.prediction in [str(d) for d in range(10)]


def test_zoo_serve_answers_with_a_network_of_ones_own(trained: Path) -> None:
    """The journey's last step, in the default suite with the rest (a server takes 10-20 s to start)."""
    pytest.importorskip("litserve", reason="zoo serve needs the serve extra: pip install -e '.[serve]'")
    from benchmarks.serve import digit_body, zoo_serve

    with zoo_serve(["--ckpt_path", str(trained / BEST)], paths=[str(trained)]) as url:
        with urllib.request.urlopen(url + "/models") as answer:
            (card,) = json.load(answer)
        assert card["name"] == "TinyNet" and card["kind"] == "images" and card["num_params"] == 19_090
        request = urllib.request.Request(url + "/predict/TinyNet", data=digit_body(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            assert json.load(answer)["prediction"] in [str(d) for d in range(10)]


def test_a_datamodule_that_says_its_raw_inputs_says_those_of_every_registered_model_trained_on_it() -> None:
    """What a network of one's own answers comes from its data: the same contract the cards of
    zoo's models trained on that data give (examples aside)."""
    from dataclasses import replace

    from zoo.building import build_datamodule
    from zoo.registry import MODELS

    compared = []
    for name in MODELS.names():
        card = MODELS.get(name)
        said = getattr(build_datamodule(card.datamodule, **card.datamodule_args), "raw_inputs", None)
        if said is not None and card.inputs is not None:
            assert replace(said, examples=()) == replace(card.inputs, examples=()), name
            compared.append(card.datamodule)
    assert {"mnist", "cifar10", "names", "diabetes"} <= set(compared)


def test_a_classifier_of_ones_own_without_labels_or_data_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["fit", "--model", "zoo.tasks.ClassificationTask", "--model.net", json.dumps(LINEAR)])
    assert stop.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith("needs labels naming its classes; pass labels=[...], one per output, e.g. [str(i) for i "
                         "in range(10)] (on the command line --model.labels, or --data NAME, whose labels it takes)")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("net", "line"), [
    ('{"class_path": "mynet.TinyNet"}', "--model.net's class_path 'mynet.TinyNet': no module 'mynet' can be imported "
                                        "from here; put the folder holding mynet.py on the path, e.g. PYTHONPATH=. "
                                        "zoo ... when it is in this folder"),
    ('{"class_path": "TinyNet"}', "--model.net's class_path 'TinyNet' is not module.Class; write e.g. mynet.TinyNet "
                                  "for class TinyNet in mynet.py"),
])
def test_a_network_python_cannot_find_is_refused_in_one_line_with_the_fix(net: str, line: str, run_zoo,
                                                                           tmp_path: Path) -> None:
    """The user's mynet.py lies in the working folder, which is not on the path until they say so."""
    (tmp_path / "mynet.py").write_text(MYNET)
    result = run_zoo(*[net if arg == FIT[4] else arg for arg in FIT])
    assert (result.returncode, result.stderr) == (2, f"zoo: error: {line}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mynet.py"]


def test_a_network_given_in_python_is_kept_as_a_module_only_never_copied_into_the_hyperparameters() -> None:
    from zoo.tasks import ClassificationTask

    model = ClassificationTask(net=torch.nn.Linear(4, 2), labels=["a", "b"])
    assert model.hparams["net"] is None and "net" not in model.hparams_initial


LINEAR = {"class_path": "torch.nn.Linear", "init_args": {"in_features": 4, "out_features": 2}}
"""A network any environment can import: a checkpoint of it is crafted in each test."""


def crafted(net: Any = None, task: Any = "zoo.tasks.RegressionTask", **change: Any) -> dict[str, Any]:
    """A checkpoint as `zoo fit` writes one for a network of one's own, with `net` and the task's
    class path in place of the real ones."""
    hparams = {"_class_path": task, "net": LINEAR if net is None else net, "lr": 0.01,
               "_instantiator": "lightning.pytorch.cli.instantiate_module"}
    state = {"net.weight": torch.zeros(2, 4), "net.bias": torch.zeros(2)}
    return {"hyper_parameters": hparams, "state_dict": state, "epoch": 0, "global_step": 1} | change


def saved(checkpoint: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)
    return path


def test_a_crafted_checkpoint_of_a_network_of_ones_own_loads_as_it_says(tmp_path: Path) -> None:
    model = load_checkpoint(saved(crafted(), tmp_path / "linear.ckpt"))
    assert type(model).__name__ == "RegressionTask" and isinstance(model.net, torch.nn.Linear)
    assert model.hparams["net"] == LINEAR


def marker_command(marker: Path) -> dict[str, dict[str, Any]]:
    """What each dangerous callable would be given to create `marker`, were it ever called."""
    return {
        "os.system": {"command": f"touch {marker}"},
        "subprocess.Popen": {"args": ["touch", str(marker)]},
        "builtins.eval": {"source": f"open({str(marker)!r}, 'w')"},
    }


@pytest.mark.parametrize("dangerous", ["os.system", "subprocess.Popen", "builtins.eval"])
@pytest.mark.parametrize("place", ["net", "task"])
def test_a_checkpoint_naming_a_callable_that_is_no_network_is_refused_by_name_and_never_calls_it(
    dangerous: str, place: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "called"
    net = {"class_path": dangerous, "init_args": marker_command(marker)[dangerous]}
    checkpoint = crafted(net=net) if place == "net" else crafted(task=dangerous)
    path = saved(checkpoint, tmp_path / "bad.ckpt")
    with pytest.raises(ZooError, match=rf"names '{dangerous}' as its {'network' if place == 'net' else 'task'}, "
                                       r"which is not a subclass of (torch\.nn|zoo\.tasks)"):
        load_checkpoint(path)
    with pytest.raises(SystemExit) as stop:
        main(["test", "--ckpt_path", str(path)])
    assert stop.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("zoo: error: ") and dangerous in line
    assert not marker.exists()


def test_a_checkpoint_of_a_network_of_ones_own_is_not_taken_for_a_registered_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = saved(crafted(), tmp_path / "linear.ckpt")
    with pytest.raises(SystemExit) as stop:
        main(["test", "--model", "cnn_mnist", "--ckpt_path", str(path)])
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        f"zoo: error: checkpoint {str(path)!r} was written by network 'torch.nn.Linear', not model 'cnn_mnist'; "
        "leave out --model cnn_mnist (the checkpoint names its network), or pass a checkpoint of cnn_mnist\n")


def test_a_module_lying_next_to_the_checkpoint_is_never_imported(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "sideeffect_net.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n\nfrom torch import nn\n\n\nclass Net(nn.Linear):\n    pass\n")
    net = {"class_path": "sideeffect_net.Net", "init_args": {"in_features": 4, "out_features": 2}}
    path = saved(crafted(net=net), elsewhere / "next.ckpt")
    with pytest.raises(ZooError, match=r"module 'sideeffect_net' is not importable from sys.path; put the folder"):
        load_checkpoint(path)
    assert not marker.exists() and "sideeffect_net" not in sys.modules


@pytest.mark.parametrize(("checkpoint", "message"), [
    pytest.param(crafted(task="torch.nn.Linear"), r"names 'torch.nn.Linear' as its task, which is not a subclass "
                 r"of zoo.tasks.Task", id="task-a-network"),
    pytest.param(crafted(net={"class_path": "Linear", "init_args": {}}), r"names 'Linear' as its network, which is "
                 r"no class path", id="net-no-class-path"),
    pytest.param(crafted(net={"class_path": "zoo_nowhere.Net", "init_args": {}}), r"module 'zoo_nowhere' is not "
                 r"importable from sys.path", id="net-module-missing"),
    pytest.param(crafted(net={"class_path": "torch.nn.Linear", "init_args": {"in_features": torch.tensor(4)}}),
                 r"holds argument 'in_features' of network 'torch.nn.Linear' as a Tensor, not a plain value",
                 id="net-argument-a-tensor"),
    pytest.param(crafted(net={"class_path": "torch.nn.Linear", "init_args": {"in_features": 4, "out": 2}}),
                 r"network 'torch.nn.Linear' takes no argument 'out'", id="net-unknown-argument"),
    pytest.param(crafted(net={"class_path": "torch.nn.Linear", "init_args": {"in_features": 10**6,
                                                                            "out_features": 10**6}}),
                 r"'net.bias': 1000000 in the model, 2 in the file", id="net-larger-than-its-weights"),
    pytest.param(crafted(hyper_parameters={"net": LINEAR, "lr": 0.01}), r"holds network 'torch.nn.Linear' but names "
                 r"no task class", id="no-task-class"),
])
def test_a_crafted_checkpoint_of_a_network_of_ones_own_is_refused_in_one_line(
    checkpoint: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ZooError, match=message):
        load_checkpoint(saved(checkpoint, tmp_path / "crafted.ckpt"))
