"""The binary-classification tutorials: pass from hours studied, diabetes from 8 measurements."""

import torch
from torch import Tensor, nn

from zoo.inputs import Numbers
from zoo.inputs.bounds import SCALED_FEATURE
from zoo.recipes import TUTORIAL_THREE_POINTS, Recipe
from zoo.registry import register_model
from zoo.tasks import BinaryTask


@register_model(
    "logistic_regression",
    task=BinaryTask,
    output_shape=(1,),
    num_params=2,
    datamodule="hours_pass",
    inputs=Numbers(1, examples=("2.5",)),
    tutorial="002",
    section="logistic regression, lines 196-250",
    tutorial_result="curve crosses 0.5 near 2.5 h",
    recipes={
        "tutorial": TUTORIAL_THREE_POINTS.but(
            note="002 lines 225-233: BCELoss(size_average=False), SGD lr 0.01, 100 full-batch steps",
            notes="notes/small-models.md#binary-models",
        ),
        "default": TUTORIAL_THREE_POINTS.but(
            lr=1.0, note="lr 1.0: the crossing settles at 2.46 h whatever the init",
            notes="notes/small-models.md#binary-models",
        ),
    },
)
class LogisticRegressionModel(nn.Module):
    """P(pass) = sigmoid(w·hours + b). Tutorial 002, logistic regression (lines 196-250)."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.linear(x))  # N x 1 -> N x 1, a probability


@register_model(
    "diabetes_mlp",
    task=BinaryTask,
    output_shape=(1,),
    num_params=87,
    datamodule="diabetes",
    # the example: diabetes.csv, row 8, rounded
    inputs=Numbers(8, allowed=SCALED_FEATURE, examples=("0.176,0.156,0,0,0,0.052,-0.952,-0.733",)),
    tutorial="002",
    section="multi-dimensional input: the diabetes data, lines 255-415",
    tutorial_result="none given",
    recipes={
        "tutorial": Recipe(
            optimizer="sgd",
            lr=0.1,
            batch_size=32,
            max_epochs=100,
            note="002 lines 287-288: BCELoss(size_average=True), SGD lr 0.1, batch 32, 100 epochs",
            notes="notes/small-models.md#binary-models",
        ),
        "default": Recipe(
            optimizer="sgd",
            lr=0.1,
            momentum=0.9,
            batch_size=32,
            max_epochs=100,
        ),
    },
)
class DiabetesModel(nn.Module):
    """8-6-4-1 with a sigmoid after every layer. Tutorial 002, lines 255-415."""

    def __init__(self) -> None:
        super().__init__()
        self.linear1 = nn.Linear(8, 6)
        self.linear2 = nn.Linear(6, 4)
        self.linear3 = nn.Linear(4, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        x = self.sigmoid(self.linear1(x))  # N x 8 -> N x 6
        x = self.sigmoid(self.linear2(x))  # N x 4
        return self.sigmoid(self.linear3(x))  # N x 1, a probability
