"""The registry: names, suggestions, user registration, metadata kept in sync with the code."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from tools.model_index import TABLES_PAGE, index_text, readme_table, weights_table
from zoo import ZooError, build, build_datamodule, default_datamodule, list_datamodules, list_models, load_checkpoint
from zoo.cli.listing import load_index
from zoo.pretrained import cards
from zoo.registry import MODELS, index, natural_key, register_model
from zoo.tasks import ClassificationTask

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
    with pytest.raises(ValueError, match="already registered"):
        register_model("cnn_mnist", task=ClassificationTask, input_shape=(1,), output_shape=(1,),
                       num_params=0, datamodule="mnist")(type("Dup", (), {}))


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
