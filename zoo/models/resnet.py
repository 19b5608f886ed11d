"""The residual MNIST network of the advanced CNN tutorial (002 lines 997-1045)."""

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from zoo.recipes import CONV_MNIST_RECIPES
from zoo.registry import register_model
from zoo.tasks import ClassificationTask


class ResidualBlock(nn.Module):
    """relu(x + conv(relu(conv(x)))): two 3x3 convolutions that keep channels and size."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.conv1(x))
        y = self.conv2(y)
        return F.relu(x + y)


@register_model(
    "resnet_mnist",
    input_shape=(1, 28, 28),
    output_shape=(10,),
    num_params=41_514,
    datamodule="mnist",
    tutorial="002 lines 997-1045: Conv(1,16,5) -> RB(16) -> Conv(16,32,5) -> RB(32) -> Linear(512,10)",
    tutorial_result="99.2 % (full MNIST)",
    recipes=CONV_MNIST_RECIPES,
)
class ResNetMNIST(ClassificationTask):
    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5)
        self.rblock1 = ResidualBlock(16)
        self.rblock2 = ResidualBlock(32)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(512, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.mp(self.conv1(x)))
        x = self.rblock1(x)
        x = F.relu(self.mp(self.conv2(x)))
        x = self.rblock2(x)
        return self.fc(x.flatten(1))
