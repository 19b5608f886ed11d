"""Name -> class registries for models and datamodules, with the metadata shown by `zoo list`.

A model is a plain network class registered with the task that trains it; the registry only
holds both classes, so it imports neither Lightning nor torch.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import os
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from zoo import checks
from zoo.errors import ZooError
from zoo.pretrained import cards, headline
from zoo.recipes import Recipe
from zoo.tutorials import TUTORIALS, cite

if TYPE_CHECKING:

    from zoo.inputs import Inputs

T = TypeVar("T")
PLUGINS_ENV = "ZOO_PLUGINS"


@dataclass(frozen=True)
class ModelCard:
    """What a user needs to know about a model before building it."""

    name: str
    net: type
    task: type
    input_shape: tuple[int | None, ...]
    output_shape: tuple[int | None, ...]
    num_params: int
    datamodule: str
    tutorial: str
    section: str
    tutorial_result: str
    recipes: dict[str, Recipe] = field(default_factory=dict)
    datamodule_args: dict[str, Any] = field(default_factory=dict)
    labels: tuple[str, ...] | None = None
    inputs: Inputs | None = None
    ships_weights: bool = True

    @property
    def reference(self) -> str:
        return cite(self.tutorial, self.section) if self.tutorial else self.section

    def summary(self) -> dict[str, Any]:
        """Plain data for `zoo list --json` and the model index."""
        return {
            "name": self.name,
            "net": class_path(self.net),
            "task": class_path(self.task),
            "params": self.num_params,
            "input": list(self.input_shape),
            "inputs": self.inputs.describe() if self.inputs else "",
            "examples": list(self.inputs.examples) if self.inputs else [],
            "answers": str(getattr(self.task, "answers", "")),
            "output": list(self.output_shape),
            "datamodule": self.datamodule,
            "datamodule_args": self.datamodule_args,
            "tutorial": self.reference,
            "tutorial_result": self.tutorial_result,
            "pretrained": headline(shipped) if (shipped := cards().get(self.name)) else "",
            "recipes": {k: r.as_dict() for k, r in self.recipes.items()},
        }


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@dataclass(frozen=True)
class DataCard:
    """What a datamodule holds and where its files come from."""

    name: str
    cls: type
    description: str
    source: str

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "class": class_path(self.cls),
            "description": self.description,
            "source": self.source,
        }


def natural_key(name: str) -> list[Any]:
    """Sort key that puts 2 before 10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


class Registry(Generic[T]):
    """A dict of cards that refuses duplicates and suggests close names for typos."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._cards: dict[str, T] = {}

    def add(self, name: str, card: T) -> None:
        checks.text(name, f"a {self.kind} name", "register it under a name")
        if name in self._cards:
            card = self._cards[name]
            owner = getattr(card, "net", None) or getattr(card, "cls", None)
            by = f" by {class_path(owner)}" if isinstance(owner, type) else ""
            raise ZooError(f"{self.kind} name {name!r} is already registered{by}; register yours under another name")
        self._cards[name] = card

    def get(self, name: str) -> T:
        listing = "zoo list --data" if self.kind == "datamodule" else "zoo list"
        checks.text(name, f"a {self.kind} name", f"pass one listed by '{listing}'")
        discover()
        if name not in self._cards:
            raise ZooError(unknown_name_message(self.kind, name, list(self._cards)))
        return self._cards[name]

    def names(self, pattern: str = "*") -> list[str]:
        checks.text(pattern, f"a {self.kind} name pattern", "pass e.g. '*mnist*'")
        discover()
        return sorted(fnmatch.filter(self._cards, pattern), key=natural_key)

    def __contains__(self, name: object) -> bool:
        discover()
        return name in self._cards


def unknown_name_message(
    kind: str, name: str, known: list[str], listing: str = "zoo list", cutoff: float = 0.75
) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=cutoff)
    close = close or sorted(k for k in known if name and name in k)[:3]
    if close:
        hint = "did you mean " + " or ".join(repr(c) for c in close) + "?"
    else:
        hint = f"run '{listing}' to see them all"
    return f"unknown {kind} {name!r}; {hint}"


MODELS: Registry[ModelCard] = Registry("model")
DATAMODULES: Registry[DataCard] = Registry("datamodule")

_discovered = False


def discover() -> None:
    """Import every built-in model and datamodule module, then the user's plugin modules."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for package in ("zoo.datamodules", "zoo.models"):
        pkg = importlib.import_module(package)
        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{package}.{info.name}")
    for module in plugin_modules(os.environ.get(PLUGINS_ENV, "")):
        import_plugin(module)


def plugin_modules(setting: str) -> list[str]:
    """The module names in a ZOO_PLUGINS value; empty entries (',mymod', 'a,,b', 'a, ') are skipped."""
    return [module for module in (entry.strip() for entry in setting.split(",")) if module]


def import_plugin(module: str) -> None:
    """Import a plugin module, whose registrations run as it is imported; a module that cannot be
    imported or does not compile is one line naming it."""
    try:
        importlib.import_module(module)
    except SyntaxError as err:
        where = f"{err.filename}, line {err.lineno}" if err.filename else f"line {err.lineno}"
        raise ZooError(
            f"plugin module {module!r} named in {PLUGINS_ENV} is not valid Python ({err.msg}, {where}); fix it"
        ) from None
    except ImportError as err:
        raise ZooError(
            f"cannot import plugin module {module!r} named in {PLUGINS_ENV} ({err}); "
            "fix the name or put its folder on PYTHONPATH"
        ) from err


def card_input_shape(
    name: str, inputs: Inputs | None, input_shape: tuple[int | None, ...] | None
) -> tuple[int | None, ...]:
    """A card's input shape, from one source: its inputs when it has them, else `input_shape`."""
    if inputs is not None and input_shape is not None:
        raise ZooError(f"model {name!r} gives both inputs= and input_shape=; leave out input_shape=: its inputs "
                       f"give the shape, {inputs.sample_shape()}")
    if inputs is not None:
        return inputs.sample_shape()
    if input_shape is None:
        raise ZooError(f"model {name!r} gives neither inputs= nor input_shape=; pass inputs= (see zoo.inputs), "
                       "or input_shape=, one sample's shape such as (1, 28, 28)")
    return tuple(input_shape)


def register_model(
    name: str,
    *,
    task: type,
    output_shape: tuple[int | None, ...],
    num_params: int,
    datamodule: str,
    tutorial: str = "",
    section: str = "",
    tutorial_result: str = "",
    recipes: dict[str, Recipe] | None = None,
    datamodule_args: dict[str, Any] | None = None,
    labels: tuple[str, ...] | None = None,
    inputs: Inputs | None = None,
    input_shape: tuple[int | None, ...] | None = None,
    ships_weights: bool = True,
) -> Callable[[type[T]], type[T]]:
    """Class decorator on a plain network: build it by name everywhere in zoo, trained by `task`.

    `tutorial` is a key of `zoo.tutorials.TUTORIALS` (empty for a user's own model) and
    `section` says where in it the network is; `labels` names a classifier's classes; `inputs`
    (see `zoo.inputs`) says what raw inputs it answers and how they become tensors, and so the
    shape of one sample (`input_shape`, None where it varies), which a model without `inputs`
    gives itself; `ships_weights=False` leaves it out of the weights `zoo weights build` makes
    by default.
    """
    if tutorial and tutorial not in TUTORIALS:
        raise ZooError(f"model {name!r} cites tutorial {tutorial!r}, which zoo does not know; cite one of: "
                       f"{', '.join(TUTORIALS)}, or none (tutorial='')")

    shape = card_input_shape(name, inputs, input_shape)

    def wrap(cls: type[T]) -> type[T]:
        card = ModelCard(
            name=name,
            net=cls,
            task=task,
            input_shape=shape,
            output_shape=tuple(output_shape),
            num_params=num_params,
            datamodule=datamodule,
            tutorial=tutorial,
            section=section,
            tutorial_result=tutorial_result,
            recipes={"default": Recipe()} | dict(recipes or {}),
            datamodule_args=dict(datamodule_args or {}),
            labels=tuple(labels) if labels is not None else None,
            inputs=inputs,
            ships_weights=ships_weights,
        )
        MODELS.add(name, card)
        return cls

    return wrap


def register_datamodule(
    name: str, *, description: str, source: str = ""
) -> Callable[[type[T]], type[T]]:
    """Class decorator: make a LightningDataModule usable by name everywhere in zoo."""

    def wrap(cls: type[T]) -> type[T]:
        DATAMODULES.add(name, DataCard(name, cls, description, source))
        cls.zoo_name = name  # type: ignore[attr-defined]
        return cls

    return wrap


def model_card(name: str) -> ModelCard:
    return MODELS.get(name)


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style pattern, naturally sorted."""
    return MODELS.names(pattern)


def list_datamodules(pattern: str = "*") -> list[str]:
    return DATAMODULES.names(pattern)


def recipe_for(name: str, recipe: str = "default") -> Recipe:
    card = MODELS.get(name)
    if recipe not in card.recipes:
        raise ZooError(
            f"unknown recipe {recipe!r} for model {name!r}; choose one of: "
            + ", ".join(sorted(card.recipes))
        )
    return card.recipes[recipe]


def index() -> dict[str, Any]:
    """Every card as plain data: what `zoo list` shows and `model_index.json` saves."""
    return {
        "models": [MODELS.get(n).summary() for n in MODELS.names()],
        "datamodules": [DATAMODULES.get(n).summary() for n in DATAMODULES.names()],
    }

