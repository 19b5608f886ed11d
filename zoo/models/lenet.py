"""LeNet-5 of the PyTorch basics tutorial (000): a 1x32x32 input, so MNIST is padded to 32."""

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from zoo.recipes import CONV_MNIST_RECIPES
from zoo.registry import register_model
from zoo.tasks import ClassificationTask


@register_model(
    "lenet_mnist",
    input_shape=(1, 32, 32),
    output_shape=(10,),
    num_params=61_706,
    datamodule="mnist",
    datamodule_args={"pad_to": 32},
    tutorial="000: Conv(1,6,5) relu pool2, Conv(6,16,5) relu pool2, 400-120-84-10",
    tutorial_result="not given",
    recipes=CONV_MNIST_RECIPES,
)
class LeNetMNIST(ClassificationTask):
    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
