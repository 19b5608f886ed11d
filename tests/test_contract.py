"""The contract on the card: a model file alone (a plugin) puts a new model, or a new kind of
input, through predict, export and the registry-wide tests; a task takes a network of one's own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import REPO
from torch import Tensor, nn

from zoo import ZooError, load_checkpoint
from zoo.datamodules.base import TensorDataModule
from zoo.inputs import Numbers
from zoo.tasks import ClassificationTask
from zoo.training import fit

PLUGIN = '''"""A tabular classifier and a model with an input kind of its own, in one plugin file."""
import torch
from torch import nn

from zoo import register_model
from zoo.inputs import Inputs, Numbers
from zoo.tasks import ClassificationTask


class LetterCounts(Inputs):
    """Words, read as how often each letter a-z occurs in them."""

    kind = "letters"
    help = "words, read as counts of the letters a-z"
    examples = ("banana",)

    def tensors(self, items):
        counts = [torch.bincount(torch.tensor([ord(c) - 97 for c in w.lower() if "a" <= c <= "z"], dtype=torch.long),
                                 minlength=26).float() for w in items]
        return (torch.stack(counts),)

    def example(self, batch_size=2, generator=None):
        return (torch.randint(0, 4, (batch_size, 26), generator=generator).float(),)


@register_model("plugin_tabular", task=ClassificationTask, output_shape=(2,), num_params=18,
                datamodule="diabetes", labels=("no", "yes"), ships_weights=False,
                inputs=Numbers(8, examples=("0.1,0,0,0,0,0,0,0",)))
class Tabular(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x)


@register_model("plugin_letters", task=ClassificationTask, output_shape=(2,), num_params=54,
                datamodule="diabetes", labels=("short", "long"), ships_weights=False, inputs=LetterCounts())
class Letters(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(26, 2)

    def forward(self, x):
        return self.fc(x)
'''

SAVE_CHECKPOINTS = """
import sys, torch, lightning.pytorch as pl
from zoo import build
for name in ("plugin_tabular", "plugin_letters"):
    torch.manual_seed(0)
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, accelerator="cpu")
    trainer.strategy.connect(build(name))
    trainer.save_checkpoint(f"{sys.argv[1]}/{name}.ckpt")
"""


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "plugin_models.py").write_text(PLUGIN)
    return dict(os.environ, ZOO_PLUGINS="plugin_models", PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]))


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_plugin_file_alone_puts_its_models_through_predict_and_export(
    plugin_env: dict[str, str], tmp_path: Path
) -> None:
    saved = run(["-c", SAVE_CHECKPOINTS, str(tmp_path)], plugin_env, tmp_path)
    assert saved.returncode == 0, saved.stderr
    for name, given in (("plugin_tabular", "0.5,1,0,0,0,0,0,2"), ("plugin_letters", "banana")):
        ckpt = str(tmp_path / f"{name}.ckpt")
        answered = run(["-m", "zoo", "predict", "--ckpt_path", ckpt, given, "--output", str(tmp_path / f"{name}.csv")],
                       plugin_env, tmp_path)
        assert answered.returncode == 0, answered.stderr
        first = answered.stdout.splitlines()[1]
        assert first.startswith(given) and first.split()[1] in ("no", "yes", "short", "long")
        exported = run(["-m", "zoo", "export", "--ckpt_path", ckpt, "--format", "onnx", "--out",
                        str(tmp_path / f"{name}.onnx")], plugin_env, tmp_path)
        assert exported.returncode == 0, exported.stderr
        assert (tmp_path / f"{name}.onnx").stat().st_size > 0


@pytest.mark.slow
def test_a_plugin_file_alone_puts_its_models_under_the_registry_wide_tests(
    plugin_env: dict[str, str], tmp_path: Path
) -> None:
    tests = [str(REPO / "tests" / f) for f in ("test_models.py", "test_export.py")]
    done = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "plugin_", *tests], plugin_env, REPO)
    assert done.returncode == 0, done.stdout[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary
    assert int(summary.split(" passed")[0].split()[-1]) >= 2 * 9  # each model, every registry-wide test


class PairsData(TensorDataModule):
    """Eight features, the label 1 where the first is positive."""

    input_shape = (8,)
    labels = ("no", "yes")

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(64, 8, generator=generator)
        return {split: (x, (x[:, 0] > 0).long()) for split in ("train", "val", "test")}


def test_a_task_trains_a_network_of_ones_own_without_a_plugin(tmp_path: Path) -> None:
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    model = ClassificationTask(net=net, labels=["no", "yes"], inputs=Numbers(8), lr=0.05)
    assert model.net is net and model.zoo_name == ""
    run = fit(model, datamodule=PairsData(str(tmp_path), batch_size=16), max_epochs=5, default_root_dir=str(tmp_path),
              logger=False, enable_progress_bar=False)
    assert run.test["test/acc"] > 0.8
    (row,) = model.answer(["2,0,0,0,0,0,0,0"])
    assert row.prediction == "yes" and row.probability is not None and row.probability > 0.5
    best = run.trainer.checkpoint_callback.best_model_path  # type: ignore[union-attr]
    loaded = ClassificationTask.load_from_checkpoint(best, net=nn.Sequential(nn.Linear(8, 16), nn.ReLU(),
                                                                             nn.Linear(16, 2)), weights_only=True)
    assert torch.equal(loaded.net[0].weight, net[0].weight.cpu())
    with pytest.raises(ZooError, match=r"not written by a registered zoo model.*load_from_checkpoint\(path, net="):
        load_checkpoint(best)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: ClassificationTask(net=nn.Linear(8, 2)), r"needs labels naming its classes; pass labels=\[...\]"),
    (lambda: ClassificationTask(net=nn.Linear(8, 2), labels=["a", "b"]).answer(["1"]),
     r"model Linear does not say what raw inputs it takes; give it inputs=\.\.\."),
    (lambda: fit(ClassificationTask(net=nn.Linear(8, 2), labels=["a", "b"])), r"pass datamodule=\.\.\."),
])
def test_a_network_of_ones_own_is_refused_in_one_line_where_it_says_too_little(make, message: str) -> None:
    with pytest.raises(ZooError, match=message):
        make()


def test_a_classifier_refuses_class_scores_outside_the_last_dimension() -> None:
    model = ClassificationTask(net=nn.Conv2d(1, 3, 1), labels=["a", "b", "c"])
    scores = model(torch.randn(2, 1, 4, 5))  # segmentation-shaped: N x C x H x W
    with pytest.raises(ZooError, match=r"put the class scores in the last dimension"):
        model.loss(scores, torch.zeros(2, 4, 5, dtype=torch.long))


def test_a_pretrained_model_answers_and_its_rows_print_as_a_table() -> None:
    from zoo import build
    from zoo.answers import format_table

    (row,) = build("linear_regression", pretrained=True).answer(["4"])
    assert abs(float(row.prediction) - 8) < 0.01
    assert format_table([row]).splitlines()[1].startswith("4")

