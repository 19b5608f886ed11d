"""The GoogLeNet-style MNIST network of the advanced CNN tutorial (002 lines 900-995)."""

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo.recipes import CONV_MNIST_RECIPES
from zoo.registry import register_model
from zoo.tasks import ClassificationTask


class InceptionA(nn.Module):
    """Four parallel branches concatenated: 16 + 24 + 24 + 24 = 88 channels, same height/width."""

    out_channels = 88

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch1x1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_2 = nn.Conv2d(16, 24, kernel_size=5, padding=2)
        self.branch3x3_1 = nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch3x3_2 = nn.Conv2d(16, 24, kernel_size=3, padding=1)
        self.branch3x3_3 = nn.Conv2d(24, 24, kernel_size=3, padding=1)
        self.branch_pool = nn.Conv2d(in_channels, 24, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3 = self.branch3x3_3(self.branch3x3_2(self.branch3x3_1(x)))
        branch_pool = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([branch1x1, branch5x5, branch3x3, branch_pool], dim=1)


@register_model(
    "inception_mnist",
    input_shape=(1, 28, 28),
    output_shape=(10,),
    num_params=97_298,
    datamodule="mnist",
    tutorial="002 lines 900-995: Conv(1,10,5) -> InceptionA(10) -> Conv(88,20,5) -> InceptionA(20) -> Linear(1408,10)",
    tutorial_result="98.9 % (full MNIST)",
    recipes=CONV_MNIST_RECIPES,
)
class InceptionMNIST(ClassificationTask):
    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(88, 20, kernel_size=5)
        self.incep1 = InceptionA(in_channels=10)
        self.incep2 = InceptionA(in_channels=20)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(1408, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.mp(self.conv1(x)))
        x = self.incep1(x)
        x = F.relu(self.mp(self.conv2(x)))
        x = self.incep2(x)
        return self.fc(x.flatten(1))
