"""Training recipes: the optimiser, schedule, batch size and epochs a model is trained with."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """Everything needed to reproduce a training run apart from the model and the data."""

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    scheduler: str | None = None
    batch_size: int = 64
    max_epochs: int = 10
    note: str = ""
    """One short line saying what the recipe is."""
    notes: str = ""
    """Where the reasoning and figures behind it are: a page of the documentation site with its
    anchor, relative to docs/, e.g. "notes/mnist.md#the-default-recipe"."""
    task_args: dict[str, Any] = field(default_factory=dict)
    """Other task hyperparameters the recipe fixes, e.g. {"reduction": "sum"}."""
    data_args: dict[str, Any] = field(default_factory=dict)
    """Arguments of the model's own datamodule the recipe fixes, e.g. {"augment": True}."""
    estimate_with: dict[str, Any] = field(default_factory=dict)
    """For a recipe that trains on every row (no test split left): the datamodule arguments of a
    twin run, trained alike but holding a test split out, whose test metrics `zoo weights build`
    records as the estimate for the weights trained on everything."""

    def model_hparams(self) -> dict[str, Any]:
        """The model's hyperparameters this recipe sets: the optimiser's, then `task_args`."""
        return {
            "optimizer": self.optimizer,
            "lr": self.lr,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "scheduler": self.scheduler,
        } | self.task_args

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def but(self, **changes: Any) -> Recipe:
        return replace(self, **changes)

    def describe(self) -> str:
        """A short human label, e.g. 'sgd lr=0.01 m=0.5 bs=64 x10'."""
        parts = [self.optimizer, f"lr={self.lr:g}"]
        if self.momentum:
            parts.append(f"m={self.momentum:g}")
        if self.weight_decay:
            parts.append(f"wd={self.weight_decay:g}")
        if self.scheduler:
            parts.append(self.scheduler)
        parts += [f"{key}={value}" for key, value in (self.task_args | self.data_args).items()]
        parts.append(f"bs={self.batch_size}")
        parts.append(f"x{self.max_epochs}")
        return " ".join(parts)


TUTORIAL_MNIST = Recipe(
    optimizer="sgd",
    lr=0.01,
    momentum=0.5,
    batch_size=64,
    max_epochs=10,
    note="the MNIST tutorials' loop (002 lines 471-640)",
)


TUTORIAL_THREE_POINTS = Recipe(
    optimizer="sgd",
    lr=0.01,
    batch_size=3,
    max_epochs=100,
    task_args={"reduction": "sum"},
    note="the linear and logistic tutorials' loop: summed loss, SGD lr 0.01, 100 full-batch steps",
)

DEFAULT_MNIST = Recipe(
    optimizer="adam",
    lr=3e-3,
    scheduler="onecycle",
    batch_size=64,
    max_epochs=3,
    note="chosen by time to accuracy: the tutorial recipe's 10-epoch accuracy in 2 of 3 epochs",
    notes="notes/mnist.md#the-default-recipe",
)

ACCURATE_MNIST = DEFAULT_MNIST.but(
    max_epochs=20,
    data_args={"augment": True},
    note="for accuracy over speed: 20 epochs, each training digit shifted by up to 2 pixels",
    notes="notes/mnist.md#the-accurate-recipe",
)

PRETRAINED_MNIST = DEFAULT_MNIST.but(
    max_epochs=60,
    data_args={"augment": "elastic", "val_split": 0.0},
    note="for the shipped weights: 60 epochs of elastic warps on train + validation (no val split)",
    notes="notes/mnist.md#the-pretrained-recipe-the-shipped-weights",
)
"""The recipe for zoo's pretrained MNIST weights, every MNIST model's (the MLP's too)."""

CONV_MNIST_RECIPES = {
    "tutorial": TUTORIAL_MNIST,
    "default": DEFAULT_MNIST,
    "accurate": ACCURATE_MNIST,
    "pretrained": PRETRAINED_MNIST,
}
"""The convolutional MNIST models' recipes (a shift of a few pixels does not help the MLP)."""
