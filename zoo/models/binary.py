"""The binary-classification tutorials: pass from hours studied, diabetes from 8 measurements."""

from typing import Any

import torch
from torch import Tensor, nn

from zoo.recipes import TUTORIAL_THREE_POINTS, Recipe
from zoo.registry import register_model
from zoo.tasks import BinaryTask


@register_model(
    "logistic_regression",
    input_shape=(1,),
    output_shape=(1,),
    num_params=2,
    datamodule="hours_pass",
    tutorial="002 lines 196-250: Linear(1,1) + sigmoid, BCE (sum), SGD lr 0.01; hours 1,2,3 -> "
    "pass 0,0,1; plot P(pass) over 0..10 h",
    tutorial_result="curve crosses 0.5 near 2.5 h",
    recipes={
        "tutorial": TUTORIAL_THREE_POINTS.but(
            note="002 lines 225-233: BCELoss(size_average=False), SGD lr 0.01, 100 full-batch "
            "steps (too few for the curve to settle; its crossing still depends on the init)",
        ),
        "default": TUTORIAL_THREE_POINTS.but(
            lr=1.0, note="lr 1.0: the crossing settles at 2.46 h whatever the init"
        ),
    },
)
class LogisticRegression(BinaryTask):
    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.linear = nn.Linear(1, 1)

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.linear(x))


@register_model(
    "diabetes_mlp",
    input_shape=(8,),
    output_shape=(1,),
    num_params=87,
    datamodule="diabetes",
    tutorial="002 lines 255-415: 8-6-4-1, sigmoid after every layer, BCE (mean), SGD lr 0.1, "
    "batch 32",
    tutorial_result="none given",
    recipes={
        "tutorial": Recipe(
            optimizer="sgd",
            lr=0.1,
            batch_size=32,
            max_epochs=100,
            note="002 lines 287-288: BCELoss(size_average=True), SGD lr 0.1 (its full listing "
            "uses 0.01), batch 32, 100 epochs",
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
class DiabetesMLP(BinaryTask):
    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.linear1 = nn.Linear(8, 6)
        self.linear2 = nn.Linear(6, 4)
        self.linear3 = nn.Linear(4, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        x = self.sigmoid(self.linear1(x))
        x = self.sigmoid(self.linear2(x))
        return self.sigmoid(self.linear3(x))
