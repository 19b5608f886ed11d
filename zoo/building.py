"""Building by name: a registered model's network, its task with a recipe, a datamodule, the
shipped weights put into a network. The registry (`zoo.registry`) holds the cards; this module
makes things from them."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from zoo.errors import ZooError
from zoo.pretrained import load_state
from zoo.registry import DATAMODULES, MODELS, recipe_for
from zoo.signatures import check_arguments, check_values

if TYPE_CHECKING:
    import lightning.pytorch as pl
    from torch import nn


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
    if name not in COUNTED and builds_as_registered(cls, net_args):
        check_num_params(net, name)
    if pretrained:
        load_pretrained(net, name)
    return net


COUNTED: set[str] = set()
"""Models whose network has been counted against its card's `num_params` in this process."""


def builds_as_registered(cls: type, net_args: dict[str, Any]) -> bool:
    """True when every argument is the network's default: the network its card describes."""
    defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    return all(k in defaults and defaults[k] == v for k, v in net_args.items())


def check_num_params(net: nn.Module, name: str) -> None:
    """Refuse a network whose parameter count is not its card's (a plugin's card can be wrong;
    the tests hold zoo's own to theirs), the first time model `name` is built as registered."""
    declared = MODELS.get(name).num_params
    counted = sum(p.numel() for p in net.parameters())
    if counted != declared:
        raise ZooError(f"model {name!r} declares num_params={declared:,} but its network {type(net).__name__} "
                       f"has {counted:,} parameters; pass num_params={counted} to register_model, or fix the network")
    COUNTED.add(name)


def load_pretrained(net: nn.Module, name: str) -> None:
    """Put model `name`'s shipped weights into `net`; a network built differently is refused."""
    try:
        net.load_state_dict(load_state(name))
    except RuntimeError as err:
        raise ZooError(
            f"the pretrained weights of {name!r} do not fit this network (it was built with other "
            "arguments); build it with its defaults to load them"
        ) from err


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
