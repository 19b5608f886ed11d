"""Metrics the base tasks do not have."""

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
