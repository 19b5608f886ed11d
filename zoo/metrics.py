"""Metrics the base tasks do not have, and the per-class figures every classifier reports."""

from __future__ import annotations

import math

import torch
import torchmetrics
from torch import Tensor
from torch.nn import functional as F


class BitsPerCharacter(torchmetrics.Metric):
    """Mean cross-entropy over every predicted character, in bits (nats / ln 2).

    Summed over characters rather than averaged per batch, so an epoch's value is exact
    whatever the batch sizes.
    """

    full_state_update = False
    higher_is_better = False
    bits: Tensor
    count: Tensor

    def __init__(self) -> None:
        super().__init__()
        self.add_state("bits", default=torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, logits: Tensor, target: Tensor) -> None:
        """`logits` (N, C) against class ids `target` (N,)."""
        nats = F.cross_entropy(logits.float(), target, reduction="sum")
        self.bits += nats.double() / math.log(2)
        self.count += target.numel()

    def compute(self) -> Tensor:
        return (self.bits / self.count).float()


def class_metrics(num_classes: int, per_class: bool = True) -> dict[str, torchmetrics.Metric]:
    """Accuracy, and with `per_class` the figures that show who a classifier serves: balanced
    accuracy (the mean of the per-class recalls) and macro F1. Accuracy alone lets a model that
    never answers a rare class look good; these weigh every class alike. Classes absent from both
    targets and predictions are left out of the means (torchmetrics' macro average)."""
    metrics: dict[str, torchmetrics.Metric] = {
        "acc": torchmetrics.classification.MulticlassAccuracy(num_classes, average="micro")
    }
    if per_class:
        metrics["bal_acc"] = torchmetrics.classification.MulticlassAccuracy(num_classes, average="macro")
        metrics["macro_f1"] = torchmetrics.classification.MulticlassF1Score(num_classes, average="macro")
    return metrics
