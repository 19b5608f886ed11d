"""The tutorials' toy data sets: a few points, generated or typed in, held as tensors.

There is nothing to generalise to in three points or ten noisy ones: the tutorials fit the
points and look at the fitted line. So every split (train, val and test) is the same set of
points, and val/test numbers say how well the points are fitted, not how well the model
generalises. Batches are the whole set unless `batch_size` is smaller, as in the tutorials.
"""

from __future__ import annotations

import torch
from torch import Tensor

from zoo.datamodules.base import TensorDataModule
from zoo.registry import register_datamodule


class PointsDataModule(TensorDataModule):
    """Base for the toy sets: subclasses return (x, y) from `points()`; all splits share them."""

    def __init__(self, batch_size: int = 64, seed: int = 0) -> None:
        super().__init__(None, batch_size=batch_size, val_split=0.0, seed=seed)

    def points(self) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        data = self.points()
        return {split: data for split in ("train", "val", "test")}


@register_datamodule(
    "linear_toy",
    description="x = 1, 2, 3 and y = 2x, shape (1,); the same 3 points in every split",
    source="typed in (002 lines 98-170)",
)
class LinearToyDataModule(PointsDataModule):
    """The linear-regression tutorial's data: y = 2x at x = 1, 2, 3 (predict y at x = 4)."""

    input_shape = (1,)

    def points(self) -> tuple[Tensor, Tensor]:
        x = torch.tensor([[1.0], [2.0], [3.0]])
        return x, 2 * x


@register_datamodule(
    "hours_pass",
    description="hours studied 1, 2, 3 -> passed 0, 0, 1, shape (1,); "
    "the same 3 points in every split",
    source="typed in (002 lines 196-250)",
)
class HoursPassDataModule(PointsDataModule):
    """The logistic-regression tutorial's data: who passed after studying 1, 2 or 3 hours."""

    input_shape = (1,)

    def points(self) -> tuple[Tensor, Tensor]:
        return torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[0.0], [0.0], [1.0]])


@register_datamodule(
    "house_prices",
    description="10 houses: area x = randint(10, 40), price y = 5x + N(0, 1), shape (1,); "
    "the same 10 points in every split",
    source="generated with torch seed 1 (003 lines 248-258)",
)
class HousePricesDataModule(PointsDataModule):
    """The back-propagation tutorial's prices, proportional to area plus unit noise.

    With the default `seed=1` these are exactly the tutorial's ten points (drawn as it draws
    them after `torch.manual_seed(1)`); areas are returned as floats.
    """

    input_shape = (1,)

    def __init__(self, batch_size: int = 64, seed: int = 1) -> None:
        super().__init__(batch_size, seed)

    def points(self) -> tuple[Tensor, Tensor]:
        generator = torch.Generator().manual_seed(self.seed)
        area = torch.randint(10, 40, (10, 1), generator=generator)
        price = 5 * area + torch.randn(10, 1, generator=generator)
        return area.float(), price


@register_datamodule(
    "random_regression",
    description="64 random inputs of size 1000 with random targets of size 10 (to be memorised); "
    "the same 64 samples in every split",
    source="generated with torch seed `seed` (001, two-layer network)",
)
class RandomRegressionDataModule(PointsDataModule):
    """The two-layer-network tutorial's data: x ~ N(0, 1)^1000, y ~ N(0, 1)^10, unrelated.

    The tutorial draws them unseeded; here `seed` fixes them, so a run can be repeated.
    """

    input_shape = (1000,)

    def points(self) -> tuple[Tensor, Tensor]:
        generator = torch.Generator().manual_seed(self.seed)
        x = torch.randn(64, 1000, generator=generator)
        return x, torch.randn(64, 10, generator=generator)
