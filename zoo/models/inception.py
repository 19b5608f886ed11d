"""The GoogLeNet-style MNIST network of tutorial 002's advanced CNN section."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo.inputs import mnist_digits
from zoo.recipes import CONV_MNIST_RECIPES
from zoo.registry import register_model
from zoo.tasks import ClassificationTask


class InceptionA(nn.Module):
    """Four parallel branches concatenated: 16 + 24 + 24 + 24 = 88 channels, same height/width."""

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
        branch1x1 = self.branch1x1(x)  # N x 16 x H x W

        branch5x5 = self.branch5x5_1(x)  # N x 16 x H x W
        branch5x5 = self.branch5x5_2(branch5x5)  # N x 24 x H x W

        branch3x3 = self.branch3x3_1(x)  # N x 16 x H x W
        branch3x3 = self.branch3x3_2(branch3x3)  # N x 24 x H x W
        branch3x3 = self.branch3x3_3(branch3x3)  # N x 24 x H x W

        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)  # N x C x H x W
        branch_pool = self.branch_pool(branch_pool)  # N x 24 x H x W

        outputs = [branch1x1, branch5x5, branch3x3, branch_pool]
        return torch.cat(outputs, dim=1)  # N x 88 x H x W


@register_model(
    "inception_mnist",
    task=ClassificationTask,
    output_shape=(10,),
    num_params=97_298,
    datamodule="mnist",
    inputs=mnist_digits(),
    tutorial="002",
    section="advanced CNN: GoogLeNet's Inception module, lines 900-995",
    tutorial_result="98.9 % (full MNIST)",
    recipes=CONV_MNIST_RECIPES,
)
class InceptionNet(nn.Module):
    """Conv(1,10,5) -> InceptionA(10) -> Conv(88,20,5) -> InceptionA(20) -> Linear(1408,10).

    Tutorial 002, advanced CNN (lines 900-995). After the second Inception block each digit
    is 88 channels x 4 x 4 = 1408 numbers, the width of the linear layer.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(88, 20, kernel_size=5)
        self.incep1 = InceptionA(in_channels=10)
        self.incep2 = InceptionA(in_channels=20)

        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(1408, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.mp(self.conv1(x)))  # N x 1 x 28 x 28 -> N x 10 x 12 x 12
        x = self.incep1(x)  # N x 88 x 12 x 12
        x = F.relu(self.mp(self.conv2(x)))  # N x 20 x 4 x 4
        x = self.incep2(x)  # N x 88 x 4 x 4
        x = x.flatten(1)  # N x 1408 (the tutorial's x.view(in_size, -1))
        return self.fc(x)  # N x num_classes
