"""The registry: names, suggestions, user registration, metadata kept in sync with the code."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from tools.model_index import TABLES_PAGE, index_text, readme_table, weights_table
from zoo import ZooError, build, build_datamodule, default_datamodule, list_datamodules, list_models, load_checkpoint
from zoo.building import build_net
from zoo.cli.listing import load_index
from zoo.inputs import mnist_digits
from zoo.pretrained import cards
from zoo.registry import MODELS, index, model_card, natural_key, register_model
from zoo.tasks import ClassificationTask

REPO = Path(__file__).resolve().parents[1]

REPO = Path(__file__).resolve().parents[1]
MNIST_MODELS = ["mlp_mnist", "cnn_mnist", "cnn_deep_mnist", "inception_mnist", "resnet_mnist",
                "lenet_mnist"]


def test_the_six_mnist_models_are_registered() -> None:
    assert set(MNIST_MODELS) <= set(list_models("*mnist*"))


def test_list_models_filters_with_shell_wildcards() -> None:
    assert list_models("inception_*") == ["inception_mnist"]
    assert list_models("no_such_*") == []


def test_natural_sort_puts_2_before_10() -> None:
    assert sorted(["m10", "m2", "m1"], key=natural_key) == ["m1", "m2", "m10"]


def test_unknown_model_suggests_the_closest_name() -> None:
    with pytest.raises(ZooError, match=r"unknown model 'inceptoin_mnist'; did you mean 'inception_mnist'"):
        build("inceptoin_mnist")


def test_unknown_datamodule_suggests_the_closest_name() -> None:
    with pytest.raises(ZooError, match=r"did you mean 'mnist'"):
        build_datamodule("mnsit")
    assert "mnist" in list_datamodules()


def test_unknown_recipe_lists_the_choices() -> None:
    with pytest.raises(ZooError, match="choose one of: accurate, default, pretrained, tutorial"):
        build("cnn_mnist", recipe="fastest")


def test_bad_optimizer_is_refused_when_building() -> None:
    with pytest.raises(ZooError, match="unknown optimizer 'sdg'"):
        build("cnn_mnist", optimizer="sdg")


@pytest.mark.parametrize("name", ["cnn_mnist", "diabetes_mlp", "char_rnn_shakespeare"])
def test_an_unknown_hyperparameter_is_named_with_the_ones_the_model_takes(name: str) -> None:
    with pytest.raises(ZooError, match=r"takes no argument 'lrr'; did you mean 'lr'\? it takes: .*weight_decay"):
        build(name, lrr=0.1)
    with pytest.raises(ZooError, match=r"takes no argument 'width'; it takes: "):
        build(name, width=3)


def test_an_unknown_datamodule_argument_is_named_with_the_ones_it_takes() -> None:
    with pytest.raises(ZooError, match=r"'mnist' takes no argument 'batchsize'; did you mean 'batch_size'\?"):
        default_datamodule("inception_mnist", batchsize=64)


def test_a_duplicate_name_is_refused() -> None:
    with pytest.raises(ZooError, match=r"model name 'cnn_mnist' is already registered by zoo\.models\.cnn\.\w+; "
                                       "register yours under another name"):
        register_model("cnn_mnist", task=ClassificationTask, input_shape=(1,), output_shape=(1,),
                       num_params=0, datamodule="mnist")(type("Dup", (), {}))


SHAPE_SOURCES = [
    pytest.param({"inputs": mnist_digits(), "input_shape": (1, 28, 28)},
                 r"^model 'shapeless' gives both inputs= and input_shape=; leave out input_shape=: its inputs give the "
                 r"shape, \(1, 28, 28\)$", id="both"),
    pytest.param({}, r"^model 'shapeless' gives neither inputs= nor input_shape=; pass inputs= \(see zoo.inputs\), "
                     r"or input_shape=, one sample's shape such as \(1, 28, 28\)$", id="neither"),
]


@pytest.mark.parametrize(("given", "problem"), SHAPE_SOURCES)
def test_the_input_shape_has_one_source(given: dict[str, Any], problem: str) -> None:
    with pytest.raises(ZooError, match=problem):
        register_model("shapeless", task=ClassificationTask, output_shape=(10,), num_params=7850, datamodule="mnist",
                       **given)
    assert "shapeless" not in list_models()


def test_the_input_shape_comes_from_the_inputs() -> None:
    @register_model("shaped_by_inputs", task=ClassificationTask, output_shape=(10,), num_params=7850,
                    datamodule="mnist", inputs=mnist_digits(32))
    class OneLayer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(1024, 10)

        def forward(self, x: Tensor) -> Tensor:
            return self.fc(x.flatten(1))

    try:
        assert model_card("shaped_by_inputs").input_shape == (1, 32, 32)
    finally:
        MODELS._cards.pop("shaped_by_inputs")


def test_a_user_model_registers_and_builds_by_name(tmp_path: Path) -> None:
    @register_model("tiny_user_model", task=ClassificationTask, input_shape=(1, 28, 28),
                    output_shape=(10,), num_params=7850, datamodule="mnist")
    class TinyUserModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(784, 10)

        def forward(self, x: Tensor) -> Tensor:
            return self.fc(x.flatten(1))

    try:
        model = build("tiny_user_model", lr=0.5)
        assert isinstance(model.net, TinyUserModel)
        assert model.hparams.lr == 0.5
        assert "tiny_user_model" in list_models("tiny_*")
    finally:
        MODELS._cards.pop("tiny_user_model")


def test_hparams_set_to_none_keep_the_recipe_value() -> None:
    assert build("cnn_mnist", recipe="tutorial", lr=None).hparams.lr == 0.01


def test_load_checkpoint_refuses_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(ZooError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.ckpt")
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(ZooError, match="not written by a registered zoo model"):
        load_checkpoint(foreign)


def test_saved_index_matches_the_registry() -> None:
    assert index_text(load_index()) == index_text(index()), "run: python -m tools.model_index"


def test_the_model_and_weights_tables_match_the_registry_and_cards() -> None:
    readme = TABLES_PAGE.read_text()
    assert readme_table(index()) in readme, "run: python -m tools.model_index"
    assert weights_table(cards()) in readme, "run: python -m tools.model_index"


def test_a_checkpoint_whose_bytes_changed_is_refused(tmp_path: Path) -> None:
    import lightning.pytorch as pl

    model = build("cnn_mnist")
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.strategy.connect(model)
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    assert load_checkpoint(path).zoo_name == "cnn_mnist"
    data = bytearray(path.read_bytes())
    start = data.index(b"archive/data/0") + 200
    data[start:start + 32] = bytes(32)
    path.write_bytes(bytes(data))
    with pytest.raises(ZooError, match="is corrupted"):
        load_checkpoint(path)


def test_a_cards_num_params_is_checked_when_its_network_is_first_built() -> None:
    @register_model("miscounted_user_model", task=ClassificationTask, input_shape=(1, 28, 28),
                    output_shape=(10,), num_params=1000, datamodule="mnist")
    class MiscountedModel(nn.Module):
        def __init__(self, num_classes: int = 10) -> None:
            super().__init__()
            self.fc = nn.Linear(784, num_classes)

    try:
        expected = (r"model 'miscounted_user_model' declares num_params=1,000 but its network MiscountedModel has "
                    r"7,850 parameters; pass num_params=7850 to register_model, or fix the network")
        with pytest.raises(ZooError, match=expected):
            build("miscounted_user_model")
        with pytest.raises(ZooError, match=expected):
            build_net("miscounted_user_model")
        assert build("miscounted_user_model", labels=list("abc")).num_classes == 3  # not as registered: not counted
    finally:
        MODELS._cards.pop("miscounted_user_model")


PLUGIN_HEAD = "from torch import nn\nfrom zoo import register_model\nfrom zoo.tasks import ClassificationTask\n\n"


def plugin(name: str, num_params: int = 7850) -> str:
    """A plugin module registering a one-layer MNIST classifier as `name`, declaring `num_params`."""
    return PLUGIN_HEAD + (
        f"@register_model({name!r}, task=ClassificationTask, input_shape=(1, 28, 28), output_shape=(10,),\n"
        f"                num_params={num_params}, datamodule='mnist')\n"
        "class OneLayer(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(784, 10)\n\n"
        "    def forward(self, x):\n"
        "        return self.fc(x.flatten(1))\n"
    )


PLUGIN_REFUSALS = [
    pytest.param("broken", "def broken(:\n", ["list"],
                 "plugin module 'broken' named in ZOO_PLUGINS is not valid Python (invalid syntax, {dir}/broken.py, "
                 "line 1); fix it", id="syntax-error"),
    pytest.param("twice", plugin("cnn_mnist"), ["list"],
                 "model name 'cnn_mnist' is already registered by zoo.models.cnn.", id="duplicate-name"),
    pytest.param("miscounted", plugin("miscounted", 1000), ["fit", "--model", "miscounted"],
                 "model 'miscounted' declares num_params=1,000 but its network OneLayer has 7,850 parameters",
                 id="num-params"),
    pytest.param("cites", PLUGIN_HEAD + "register_model('x', task=ClassificationTask, input_shape=(1,), "
                 "output_shape=(1,), num_params=0, datamodule='mnist', tutorial='nowhere')\n", ["list"],
                 "model 'x' cites tutorial 'nowhere', which zoo does not know; cite one of: ", id="unknown-tutorial"),
]


@pytest.mark.parametrize(("module", "source", "args", "words"), PLUGIN_REFUSALS)
def test_a_broken_plugin_is_one_line(run_zoo, tmp_path: Path, module: str, source: str, args: list[str],
                                     words: str) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / f"{module}.py").write_text(source)
    env = {"ZOO_PLUGINS": module, "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path / "plugins")])}
    result = run_zoo(*args, extra_env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("zoo: error: " + words.format(dir=tmp_path / "plugins")), result.stderr
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_empty_zoo_plugins_entries_are_skipped(run_zoo, tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "mine.py").write_text(plugin("mine_mnist"))
    env = {"ZOO_PLUGINS": ", mine ,, ", "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path / "plugins")])}
    result = run_zoo("list", "mine*", extra_env=env)
    assert result.returncode == 0, result.stderr
    assert "mine_mnist  7,850" in result.stdout
