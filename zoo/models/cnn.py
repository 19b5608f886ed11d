"""The two small MNIST CNNs of tutorial 002's convolution section."""

import torch.nn.functional as F
from torch import Tensor, nn

from zoo.inputs import mnist_digits
from zoo.recipes import CONV_MNIST_RECIPES
from zoo.registry import register_model
from zoo.tasks import ClassificationTask


@register_model(
    "cnn_mnist",
    task=ClassificationTask,
    output_shape=(10,),
    num_params=8_490,
    datamodule="mnist",
    inputs=mnist_digits(),
    tutorial="002",
    section="the basic CNN, lines 833-860",
    tutorial_result="not given",
    recipes=CONV_MNIST_RECIPES,
)
class ConvNet(nn.Module):
    """Conv(1,10,5) pool relu, Conv(10,20,5) pool relu, Linear(320,10).

    Tutorial 002, the basic CNN (lines 833-860); see `zoo.tutorials` for its URL.
    Two 5x5 convolutions without padding and two 2x2 poolings take 28x28 to 4x4, so the
    linear layer reads 20 channels x 4 x 4 = 320 numbers.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.pooling(self.conv1(x)))  # N x 1 x 28 x 28 -> N x 10 x 12 x 12
        x = F.relu(self.pooling(self.conv2(x)))  # N x 20 x 4 x 4
        x = x.flatten(1)  # N x 320 (the tutorial's x.view(batch_size, -1))
        return self.fc(x)  # N x num_classes


@register_model(
    "cnn_deep_mnist",
    task=ClassificationTask,
    output_shape=(10,),
    num_params=104_554,
    datamodule="mnist",
    inputs=mnist_digits(),
    tutorial="002",
    section="the basic CNN with three linear layers, lines 873-895",
    tutorial_result="99.11 % (30 epochs, full MNIST)",
    recipes=CONV_MNIST_RECIPES,
)
class DeepConvNet(nn.Module):
    """The same two convolutions as `ConvNet`, then three linear layers 320-256-64-10.

    Tutorial 002, the basic CNN (lines 873-895): the variant the tutorial trains for
    30 epochs to 99.11 % on the full MNIST test set.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = nn.MaxPool2d(2)
        self.l1 = nn.Linear(320, 256)
        self.l2 = nn.Linear(256, 64)
        self.l3 = nn.Linear(64, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.pooling(self.conv1(x)))  # N x 1 x 28 x 28 -> N x 10 x 12 x 12
        x = F.relu(self.pooling(self.conv2(x)))  # N x 20 x 4 x 4
        x = x.flatten(1)  # N x 320 (the tutorial's x.view(batch_size, -1))
        x = F.relu(self.l1(x))  # N x 256
        x = F.relu(self.l2(x))  # N x 64
        return self.l3(x)  # N x num_classes
