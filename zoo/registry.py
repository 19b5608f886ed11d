"""Name -> class registries for models and datamodules, with the metadata shown by `zoo list`.

A model is a plain network class registered with the task that trains it; the registry only
holds both classes, so it imports neither Lightning nor torch.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect
import os
import pkgutil
import re
import types
import typing
from collections import abc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from zoo import checks
from zoo.errors import ZooError
from zoo.pretrained import cards, headline, load_state
from zoo.recipes import Recipe
from zoo.tutorials import TUTORIALS, cite

if TYPE_CHECKING:
    import lightning.pytorch as pl
    from torch import nn

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
            raise ValueError(f"{self.kind} name {name!r} is already registered")
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
    for module in filter(None, os.environ.get(PLUGINS_ENV, "").split(",")):
        try:
            importlib.import_module(module.strip())
        except ImportError as err:
            raise ZooError(
                f"cannot import plugin module {module!r} named in {PLUGINS_ENV} ({err}); "
                "fix the name or put its folder on PYTHONPATH"
            ) from err


def register_model(
    name: str,
    *,
    task: type,
    input_shape: tuple[int | None, ...],
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
    ships_weights: bool = True,
) -> Callable[[type[T]], type[T]]:
    """Class decorator on a plain network: build it by name everywhere in zoo, trained by `task`.

    `tutorial` is a key of `zoo.tutorials.TUTORIALS` (empty for a user's own model) and
    `section` says where in it the network is; `labels` names a classifier's classes; `inputs`
    (see `zoo.inputs`) says what raw inputs it answers and how they become tensors;
    `ships_weights=False` leaves it out of the weights `zoo weights build` makes by default.
    """
    if tutorial and tutorial not in TUTORIALS:
        raise ValueError(f"model {name!r} cites tutorial {tutorial!r}; known: {', '.join(TUTORIALS)}")

    def wrap(cls: type[T]) -> type[T]:
        card = ModelCard(
            name=name,
            net=cls,
            task=task,
            input_shape=tuple(input_shape),
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


def build_net(name: str, pretrained: bool = False, **net_args: Any) -> nn.Module:
    """The plain network of model `name`, as its tutorial writes it: no Lightning attached.

    `pretrained=True` loads the weights shipped with zoo (see `zoo.pretrained`)."""
    cls = MODELS.get(name).net
    accepted = set(inspect.signature(cls).parameters)
    unknown = sorted(set(net_args) - accepted)
    if unknown:
        takes = ", ".join(sorted(accepted)) or "no arguments"
        raise ZooError(f"network of {name!r} does not take {', '.join(unknown)}; it takes: {takes}")
    check_values(cls, net_args, f"network of {name!r}")
    net: nn.Module = cls(**net_args)
    if pretrained:
        load_pretrained(net, name)
    return net


def load_pretrained(net: nn.Module, name: str) -> None:
    """Put model `name`'s shipped weights into `net`; a network built differently is refused."""
    try:
        net.load_state_dict(load_state(name))
    except RuntimeError as err:
        raise ZooError(
            f"the pretrained weights of {name!r} do not fit this network (it was built with other "
            "arguments); build it with its defaults to load them"
        ) from err


def init_arguments(cls: type) -> list[str]:
    """The keyword arguments a class takes: its own and, where it passes the rest on (`**task`),
    those of the classes it extends."""
    return list(init_hints(cls))


def init_hints(cls: type) -> dict[str, Any]:
    """`init_arguments` with each one's type annotation (`Any` where it has none or it cannot be
    resolved)."""
    hints: dict[str, Any] = {}
    for klass in cls.__mro__:
        if "__init__" not in klass.__dict__:
            continue
        init = klass.__dict__["__init__"]
        try:
            resolved = typing.get_type_hints(init)
        except (NameError, TypeError):  # annotations naming what only a type checker imports
            resolved = {}
        params = list(inspect.signature(init).parameters.values())[1:]
        for p in params:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                hints.setdefault(p.name, resolved.get(p.name, Any))
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return hints


def fits(value: Any, hint: Any) -> bool:
    """Whether `value` has the annotated type, for the plain types zoo's constructors take
    (bool, int, float, str, None, unions, Literal, sequences and dicts); other types pass."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if hint in (int, float):  # a bool is no number; an int is a float
        return isinstance(value, (int, float) if hint is float else int) and not isinstance(value, bool)
    if origin in (list, tuple, abc.Sequence):
        return isinstance(value, (list, tuple)) and all(fits(v, args[0]) for v in value if args)
    if origin in (dict, abc.Mapping):
        return isinstance(value, dict)
    if hint is None or hint is type(None):
        return value is None
    if hint is str:  # a path for a folder or file name is fine
        return isinstance(value, (str, os.PathLike))
    return isinstance(value, bool) if hint is bool else True


def hint_name(hint: Any) -> str:
    """An annotation as a reader writes it: 'int', 'float or None', "Literal['auto', 'full']"."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(hint_name(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "None"
    if typing.get_origin(hint) is None and hasattr(hint, "__name__"):
        return str(hint.__name__)
    return str(hint).replace("typing.", "").replace("collections.abc.", "")


def check_values(cls: type, given: Mapping[str, Any], what: str) -> None:
    """Refuse a keyword argument of the wrong type (a str for a number, None for a name), naming
    it and the type it takes: what the command line's parser checks, for the Python API."""
    hints = init_hints(cls)
    for name, value in given.items():
        hint = hints.get(name, Any)
        if value is not None and not fits(value, hint):
            raise ZooError(f"{what} argument {name} must be {hint_name(hint)}, got {checks.type_name(value)}; "
                           "pass a value of that type")


def check_arguments(cls: type, given: Iterable[str], what: str, ignored: tuple[str, ...] = ()) -> None:
    """Refuse a keyword argument `cls` does not take, naming it, the closest one and all of them."""
    accepted = [name for name in init_arguments(cls) if name not in ignored]
    unknown = sorted(set(given) - set(accepted))
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], accepted, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ZooError(f"{what} takes no argument {unknown[0]!r}; {hint}it takes: {', '.join(sorted(accepted))}")


def build(name: str, recipe: str = "default", pretrained: bool = False, **hparams: Any) -> pl.LightningModule:
    """A ready model: the network wrapped by its task with the recipe's optimiser settings,
    overridden by any hparam that is not None; `pretrained=True` loads zoo's shipped weights."""
    card = MODELS.get(name)
    check_arguments(card.task, hparams, f"model {name!r}", ignored=("net",))
    check_values(card.task, hparams, f"model {name!r}")
    params = recipe_for(name, recipe).model_hparams()
    params.update({k: v for k, v in hparams.items() if v is not None})
    model: pl.LightningModule = card.task(net=name, **params)
    if pretrained:
        load_pretrained(model.get_submodule("net"), name)
    return model


def build_datamodule(name: str, **kwargs: Any) -> pl.LightningDataModule:
    card = DATAMODULES.get(name)
    check_arguments(card.cls, kwargs, f"datamodule {name!r}")
    check_values(card.cls, kwargs, f"datamodule {name!r}")
    data: pl.LightningDataModule = card.cls(**{k: v for k, v in kwargs.items() if v is not None})
    return data


def default_datamodule(model: str, **kwargs: Any) -> pl.LightningDataModule:
    """The datamodule a model is meant for, with its arguments (e.g. LeNet's 32x32 padding)."""
    card = MODELS.get(model)
    return build_datamodule(card.datamodule, **(card.datamodule_args | kwargs))


def index() -> dict[str, Any]:
    """Every card as plain data: what `zoo list` shows and `model_index.json` saves."""
    return {
        "models": [MODELS.get(n).summary() for n in MODELS.names()],
        "datamodules": [DATAMODULES.get(n).summary() for n in DATAMODULES.names()],
    }
