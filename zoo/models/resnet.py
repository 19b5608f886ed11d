"""The residual MNIST network of tutorial 002's deep residual learning section."""

import torch.nn.functional as F
from torch import Tensor, nn

from zoo.inputs import mnist_digits
from zoo.recipes import CONV_MNIST_RECIPES
from zoo.registry import register_model
from zoo.tasks import ClassificationTask


class ResidualBlock(nn.Module):
    """relu(x + conv(relu(conv(x)))): two 3x3 convolutions that keep channels and size."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.conv1(x))  # N x C x H x W
        y = self.conv2(y)  # N x C x H x W
        return F.relu(x + y)  # N x C x H x W


@register_model(
    "resnet_mnist",
    task=ClassificationTask,
    output_shape=(10,),
    num_params=41_514,
    datamodule="mnist",
    inputs=mnist_digits(),
    tutorial="002",
    section="deep residual learning, lines 997-1045",
    tutorial_result="99.2 % (full MNIST)",
    recipes=CONV_MNIST_RECIPES,
)
class ResNet(nn.Module):
    """Conv(1,16,5) -> ResidualBlock(16) -> Conv(16,32,5) -> ResidualBlock(32) -> Linear(512,10).

    Tutorial 002, deep residual learning (lines 997-1045). The last block leaves 32 channels
    x 4 x 4 = 512 numbers per digit.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=5)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=5)
        self.rblock1 = ResidualBlock(16)
        self.rblock2 = ResidualBlock(32)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.mp(self.conv1(x)))  # N x 1 x 28 x 28 -> N x 16 x 12 x 12
        x = self.rblock1(x)  # N x 16 x 12 x 12
        x = F.relu(self.mp(self.conv2(x)))  # N x 32 x 4 x 4
        x = self.rblock2(x)  # N x 32 x 4 x 4
        x = x.flatten(1)  # N x 512 (the tutorial's x.view(in_size, -1))
        return self.fc(x)  # N x num_classes
