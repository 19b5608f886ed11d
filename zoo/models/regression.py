"""The regression tutorials: a line through three points, house prices, a two-layer network."""

import torch
from torch import Tensor, nn

from zoo.inputs import Numbers
from zoo.recipes import TUTORIAL_THREE_POINTS, Recipe
from zoo.registry import register_model
from zoo.tasks import RegressionTask


@register_model(
    "linear_regression",
    task=RegressionTask,
    output_shape=(1,),
    num_params=2,
    datamodule="linear_toy",
    inputs=Numbers(1, examples=("4",)),
    tutorial="002",
    section="linear regression, lines 98-170",
    tutorial_result="w≈2, y(4)≈8",
    recipes={
        "tutorial": TUTORIAL_THREE_POINTS.but(
            note="002 lines 114-125: MSELoss(size_average=False), SGD lr 0.01, 100 full-batch "
            "steps",
        ),
        "default": TUTORIAL_THREE_POINTS.but(
            lr=0.05,
            max_epochs=200,
            note="lr 0.05 and 200 steps: w reaches 2.000, which the tutorial's 100 steps miss",
            notes="notes/small-models.md#regressions",
        ),
    },
)
class LinearModel(nn.Module):
    """y = w·x + b. Tutorial 002, linear regression (lines 98-170): x = 1, 2, 3, y = 2x."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x)  # N x 1 -> N x 1


@register_model(
    "house_price_regression",
    task=RegressionTask,
    output_shape=(1,),
    num_params=2,
    datamodule="house_prices",
    inputs=Numbers(1, examples=("2.5",)),
    tutorial="003",
    section="linear regression by hand, lines 244-297",
    tutorial_result="w≈5.88, b≈0.13 after 6 steps",
    recipes={
        "tutorial": Recipe(
            optimizer="sgd",
            lr=5e-5,
            momentum=1.0,
            batch_size=10,
            max_epochs=5000,
            task_args={"stop_below": 2.0},
            note="the tutorial's exact steps: gradients never zeroed (SGD with momentum 1), stop at MSE < 2",
            notes="notes/small-models.md#regressions",
        ),
        "default": Recipe(
            optimizer="sgd",
            lr=1e-3,
            momentum=0.9,
            batch_size=10,
            max_epochs=300,
            note="plain descent with zeroed gradients and momentum 0.9",
            notes="notes/small-models.md#regressions",
        ),
    },
)
class HousePriceModel(nn.Module):
    """Price = w·area + b, starting from the tutorial's w = 2, b = 0.

    Tutorial 003, linear regression by hand (lines 244-297): the tutorial keeps w and b as
    bare tensors with gradients; here they are the module's two parameters.
    """

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor([2.0]))
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor) -> Tensor:
        return self.w * x + self.b  # N x 1 -> N x 1


TWO_LAYER_TUTORIAL = Recipe(
    optimizer="adam",
    lr=1e-4,
    batch_size=64,
    max_epochs=500,
    task_args={"reduction": "sum"},
    note="001: MSELoss(reduction='sum'), Adam lr 1e-4, 500 full-batch steps",
)


@register_model(
    "two_layer_net",
    task=RegressionTask,
    output_shape=(10,),
    num_params=101_110,
    datamodule="random_regression",
    inputs=Numbers(1000),
    ships_weights=False,  # its data are random numbers: the tutorial shows the loss falling, not a model worth keeping
    tutorial="001",
    section="the two-layer network with nn.Sequential",
    tutorial_result="loss falls over 500 steps",
    recipes={
        "tutorial": TWO_LAYER_TUTORIAL,
        "default": TWO_LAYER_TUTORIAL.but(
            lr=1e-3,
            max_epochs=200,
            note="memorises the 64 samples as the tutorial does, in 200 steps instead of 500",
            notes="notes/small-models.md#regressions",
        ),
    },
)
class TwoLayerNet(nn.Module):
    """Linear(1000,100) -> Linear(100,10) with nothing between them.

    Tutorial 001, the two-layer network: this is its `nn.Sequential` version, with biases
    (its class version drops them), fitted to 64 random samples.
    """

    def __init__(self) -> None:
        super().__init__()
        self.linear1 = nn.Linear(1000, 100)
        self.linear2 = nn.Linear(100, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear2(self.linear1(x))  # N x 1000 -> N x 100 -> N x 10
