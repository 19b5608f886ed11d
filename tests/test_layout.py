"""The code's shape: imports run one way, and every model card's metadata resolves."""

from __future__ import annotations

import inspect

import pytest

from tools.import_graph import cycles, graph, violations
from zoo import build_datamodule, list_models, model_card
from zoo.registry import DATAMODULES
from zoo.tasks import shapes_fit
from zoo.tutorials import TUTORIALS


def test_imports_run_one_way_with_no_cycle() -> None:
    edges = graph()
    assert "zoo.registry" in edges["zoo.tasks"]
    assert violations(edges) == []
    assert cycles(edges) == []


def test_the_checker_finds_an_upward_import_a_sideways_one_and_a_cycle() -> None:
    assert violations({"zoo.registry": {"zoo.cli.listing"}}) == [
        "zoo.registry (layer 1) imports zoo.cli.listing (layer 5)"
    ]
    assert len(violations({"zoo.models.hello": {"zoo.datamodules.hello"}})) == 1
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]


def parameters(cls: type) -> set[str]:
    """Constructor parameters of a class and of its bases (tasks pass `**task` up)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            names |= set(inspect.signature(klass.__init__).parameters) - {"self", "args", "kwargs", "task"}
    return names


@pytest.mark.parametrize("name", list_models())
def test_model_card_resolves(name: str) -> None:
    card = model_card(name)
    assert card.tutorial in TUTORIALS and card.section
    assert card.reference.startswith(f"tutorial {card.tutorial} ")
    assert card.datamodule in DATAMODULES
    data_cls = DATAMODULES.get(card.datamodule).cls
    for recipe in card.recipes.values():
        assert set(recipe.model_hparams()) <= parameters(card.task), recipe
        assert set(recipe.data_args) | set(card.datamodule_args) <= parameters(data_cls), recipe
    data = build_datamodule(card.datamodule, **card.datamodule_args)
    shape = tuple(getattr(data, "input_shape", ()))
    if shape:
        assert shapes_fit(card.input_shape, shape), (card.input_shape, shape)
