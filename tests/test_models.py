"""Every registered model, checked the same way: registering a model puts it under test."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
import torch.nn.functional as F
from conftest import SyntheticDataModule, example_batch, example_inputs, quiet_trainer

from zoo import build, build_net, list_models, load_checkpoint, model_card
from zoo.tasks import ClassificationTask, shapes_fit

NAMES = list_models()


@pytest.fixture(params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return request.param


def test_build_by_name_gives_a_lightning_module(name: str) -> None:
    model = build(name)
    assert isinstance(model, pl.LightningModule)
    assert model.zoo_name == name


def test_parameter_count_equals_the_tutorial_layers(name: str) -> None:
    net = build_net(name)
    assert sum(p.numel() for p in net.parameters()) == model_card(name).num_params
    assert sum(p.numel() for p in build(name).parameters()) == model_card(name).num_params


def test_the_network_is_a_plain_module_whose_state_dict_moves_unchanged(name: str) -> None:
    net = build_net(name)
    assert not isinstance(net, pl.LightningModule)
    model = build(name)
    model.net.load_state_dict(net.state_dict())
    inputs = example_inputs(name, 2)
    net.eval()
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(*inputs), net(*inputs), rtol=0, atol=0)


def test_forward_gives_the_declared_output_shape(name: str) -> None:
    model = build(name).eval()
    with torch.no_grad():
        output = model(*example_inputs(name, 3))
    assert output.shape[0] == 3
    assert shapes_fit(model_card(name).output_shape, tuple(output.shape[1:]))


def test_the_cards_input_shape_is_that_of_its_inputs_tensors(name: str) -> None:
    first = example_inputs(name, 3)[0]
    assert first.shape[0] == 3
    assert shapes_fit(model_card(name).input_shape, tuple(first.shape[1:]))


def test_backward_gives_a_finite_gradient_for_every_parameter(name: str) -> None:
    torch.manual_seed(0)
    model = build(name)
    *inputs, target = example_batch(name, 4)
    model.loss(model(*inputs), target).backward()
    for param_name, param in model.named_parameters():
        assert param.grad is not None, f"{param_name} got no gradient"
        assert torch.isfinite(param.grad).all(), f"{param_name} has a non-finite gradient"


def test_both_recipes_exist_and_build(name: str) -> None:
    card = model_card(name)
    assert {"tutorial", "default"} <= set(card.recipes) if card.tutorial else "default" in card.recipes
    for recipe_name, recipe in card.recipes.items():
        model = build(name, recipe=recipe_name)
        for key, value in recipe.model_hparams().items():
            assert model.hparams[key] == value


def test_fast_dev_run_fit_validate_test_predict(name: str, tmp_path: Path) -> None:
    model = build(name)
    data = SyntheticDataModule(model, str(tmp_path))
    trainer = quiet_trainer(tmp_path, fast_dev_run=True)
    trainer.fit(model, datamodule=data)
    assert trainer.state.finished
    assert torch.isfinite(trainer.callback_metrics["train/loss"])
    (results,) = trainer.test(model, datamodule=data, verbose=False)
    assert "test/loss" in results
    predictions = trainer.predict(model, datamodule=data)
    assert predictions and len(predictions[0]) == data.batch_size
    if isinstance(model, ClassificationTask):
        sums = predictions[0].sum(dim=-1)
        assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5)


def test_checkpoint_round_trip_rebuilds_the_same_model(name: str, tmp_path: Path) -> None:
    model = build(name, recipe="tutorial" if model_card(name).tutorial else "default")
    data = SyntheticDataModule(model, str(tmp_path))
    trainer = quiet_trainer(tmp_path, max_steps=1, limit_val_batches=0)
    trainer.fit(model, datamodule=data)
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    restored = load_checkpoint(path)
    assert type(restored) is type(model)
    assert restored.hparams == model.hparams
    inputs = example_inputs(name, 3)
    model.eval()
    restored.eval()
    with torch.no_grad():
        torch.testing.assert_close(restored(*inputs), model(*inputs), rtol=0, atol=0)


def test_channels_last_layout_gives_the_same_outputs(name: str) -> None:
    model = build(name).eval()
    inputs = example_inputs(name, 3)
    with torch.no_grad():
        before = model(*inputs)
        model.use_channels_last()
        torch.testing.assert_close(model(*inputs), before, rtol=1e-4, atol=1e-5)


def test_label_smoothing_softens_the_training_loss_alone() -> None:
    model = build("cnn_mnist", label_smoothing=0.1)
    logits = torch.tensor([[3.0, -1.0] + [0.0] * 8, [0.5, 2.0] + [0.0] * 8])
    target = torch.tensor([0, 1])
    model.train()
    smoothed = model.loss(logits, target)
    model.eval()
    plain = model.loss(logits, target)
    assert torch.isclose(smoothed, F.cross_entropy(logits, target, label_smoothing=0.1))
    assert torch.isclose(plain, F.cross_entropy(logits, target))
    assert smoothed > plain


def test_the_cards_example_inputs_are_answered(name: str) -> None:
    inputs = model_card(name).inputs
    assert inputs is not None, f"{name}'s card says nothing of its raw inputs"
    if inputs.examples:
        rows = build(name).answer(list(inputs.examples))
        assert [row.input for row in rows] == list(inputs.examples) and all(row.prediction for row in rows)
