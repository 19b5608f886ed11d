"""Base tasks: loss, metrics, optimiser and logging live here once; models only add layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lightning.pytorch as pl
import torch
import torchmetrics
from torch import Tensor, nn

from zoo.errors import ZooError
from zoo.registry import MODELS

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}
SCHEDULERS = ("onecycle", "cosine")
EVAL_STAGES = ("val", "test")


def shapes_fit(expected: tuple[int | None, ...], actual: tuple[int | None, ...]) -> bool:
    """Equal shapes, where None on either side matches any size (variable-length sequences)."""
    return len(expected) == len(actual) and all(
        e is None or a is None or e == a for e, a in zip(expected, actual, strict=True)
    )


def check_compatible(model: pl.LightningModule, datamodule: pl.LightningDataModule | None) -> None:
    """Refuse a model and datamodule whose shapes differ, before anything is trained or written."""
    name = getattr(model, "zoo_name", None)
    data_shape = getattr(datamodule, "input_shape", None)
    if not name or data_shape is None:
        return
    card = MODELS.get(name)
    if not shapes_fit(card.input_shape, tuple(data_shape)):
        data_name = getattr(datamodule, "zoo_name", type(datamodule).__name__)
        raise ZooError(
            f"model {name!r} expects inputs of shape {fmt_shape(card.input_shape)} but datamodule "
            f"{data_name!r} gives {fmt_shape(tuple(data_shape))}; use --data {card.datamodule} "
            "or a model made for this data"
        )


def check_same_labels(model: pl.LightningModule, name: str) -> None:
    """Refuse data whose label list `name` (countries, a vocabulary) differs from the model's."""
    datamodule = getattr(model.trainer, "datamodule", None) if model._trainer else None
    data_labels = getattr(datamodule, name, None)
    model_labels = model.hparams[name]
    if data_labels is None or list(data_labels) == list(model_labels):
        return
    raise ZooError(
        f"the data's {name} ({len(data_labels)}: {short(data_labels)}) differ from the model's "
        f"({len(model_labels)}: {short(model_labels)}); build the model with --model.{name} "
        "set to the data's, or use the data the model was made for"
    )


def short(labels: Sequence[str], shown: int = 5) -> str:
    items = [repr(label) for label in labels[:shown]]
    return ", ".join(items) + (", ..." if len(labels) > shown else "")


def fmt_shape(shape: tuple[int | None, ...]) -> str:
    return "x".join("N" if s is None else str(s) for s in shape)


class Task(pl.LightningModule):
    """Shared training logic. Subclasses choose the loss, the metrics and what predict returns."""

    zoo_name: str = ""
    num_inputs: int = 1

    def __init__(
        self,
        optimizer: str = "adam",
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        scheduler: str | None = None,
    ) -> None:
        super().__init__()
        if optimizer not in OPTIMIZERS:
            raise ZooError(
                f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}"
            )
        if scheduler is not None and scheduler not in SCHEDULERS:
            raise ZooError(
                f"unknown scheduler {scheduler!r}; choose one of: {', '.join(SCHEDULERS)} or none"
            )
        if lr <= 0:
            raise ZooError(f"lr must be positive, got {lr}; pass e.g. --model.lr 0.01")
        self.save_hyperparameters()
        self.metrics = nn.ModuleDict(
            {
                stage: torchmetrics.MetricCollection(self.make_metrics(), prefix=f"{stage}/")
                for stage in EVAL_STAGES
            }
        )

    def make_metrics(self) -> dict[str, torchmetrics.Metric]:
        raise NotImplementedError

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def prediction(self, output: Tensor) -> Tensor:
        """What predict_step returns for a batch of raw outputs."""
        return output

    def metric_pair(self, output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """The (prediction, target) pair the metrics compare."""
        return output, target

    def example_batch(self, batch_size: int = 2) -> tuple[Tensor, ...]:
        """A tiny synthetic batch of the right shapes and dtypes, for tests and dry runs."""
        raise NotImplementedError

    def split(self, batch: tuple[Tensor, ...] | list[Tensor]) -> tuple[tuple[Tensor, ...], Tensor]:
        return tuple(batch[: self.num_inputs]), batch[self.num_inputs]

    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        inputs, target = self.split(batch)
        loss = self.loss(self(*inputs), target)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def _evaluate(self, batch: tuple[Tensor, ...], stage: str) -> Tensor:
        inputs, target = self.split(batch)
        output = self(*inputs)
        loss = self.loss(output, target)
        metrics = self.metrics[stage]
        metrics.update(*self.metric_pair(output, target))
        batch_size = len(target)
        self.log(f"{stage}/loss", loss, prog_bar=True, batch_size=batch_size)
        self.log_dict(metrics, prog_bar=True, batch_size=batch_size)
        return loss

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        return self._evaluate(batch, "val")

    def test_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        return self._evaluate(batch, "test")

    def predict_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        inputs = tuple(batch[: self.num_inputs])
        return self.prediction(self(*inputs))

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer else None
        check_compatible(self, datamodule)

    def configure_optimizers(self) -> Any:
        h = self.hparams
        kwargs: dict[str, Any] = {"lr": h.lr, "weight_decay": h.weight_decay}
        if h.optimizer == "sgd":
            kwargs["momentum"] = h.momentum
        optimizer = OPTIMIZERS[h.optimizer](self.parameters(), **kwargs)
        if h.scheduler is None:
            return optimizer
        steps = int(self.trainer.estimated_stepping_batches)
        scheduler: torch.optim.lr_scheduler.LRScheduler
        if h.scheduler == "onecycle":
            scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=h.lr, total_steps=steps)
        else:
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["zoo_model"] = self.zoo_name


class ClassificationTask(Task):
    """Cross-entropy over class logits; accuracy; predict returns class probabilities.

    Outputs may carry extra leading dimensions (one prediction per sequence position): logits
    of shape (..., C) are scored against targets of shape (...). Subclasses set `num_classes`,
    as a class attribute or in `__init__` before calling `super().__init__`.
    """

    num_classes: int = 10

    def make_metrics(self) -> dict[str, torchmetrics.Metric]:
        return {"acc": torchmetrics.classification.MulticlassAccuracy(self.num_classes, average="micro")}

    def metric_pair(self, output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        return output.reshape(-1, output.shape[-1]), target.reshape(-1)

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        return nn.functional.cross_entropy(*self.metric_pair(output, target))

    def prediction(self, output: Tensor) -> Tensor:
        return output.softmax(dim=-1)

    def example_batch(self, batch_size: int = 2) -> tuple[Tensor, ...]:
        shape = MODELS.get(self.zoo_name).input_shape
        x = torch.randn(batch_size, *(s or 5 for s in shape))
        return x, torch.randint(0, self.num_classes, (batch_size,))
