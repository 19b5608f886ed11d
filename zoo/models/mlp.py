"""The fully connected MNIST classifier of the multi-class tutorial (002 lines 500-640)."""

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from zoo.recipes import DEFAULT_MNIST, TUTORIAL_MNIST
from zoo.registry import register_model
from zoo.tasks import ClassificationTask


@register_model(
    "mlp_mnist",
    input_shape=(1, 28, 28),
    output_shape=(10,),
    num_params=575_050,
    datamodule="mnist",
    tutorial="002 lines 500-640: 784-512-256-128-64-10, ReLU",
    tutorial_result="98.33 % (20 epochs, full MNIST)",
    recipes={"tutorial": TUTORIAL_MNIST, "default": DEFAULT_MNIST},
)
class MLPMNIST(ClassificationTask):
    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.l1 = nn.Linear(784, 512)
        self.l2 = nn.Linear(512, 256)
        self.l3 = nn.Linear(256, 128)
        self.l4 = nn.Linear(128, 64)
        self.l5 = nn.Linear(64, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = x.view(-1, 784)
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        x = F.relu(self.l3(x))
        x = F.relu(self.l4(x))
        return self.l5(x)
