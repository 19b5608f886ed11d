"""The two small MNIST CNNs of the convolution tutorial (002 lines 833-895)."""

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from zoo.recipes import CONV_MNIST_RECIPES
from zoo.registry import register_model
from zoo.tasks import ClassificationTask


class TwoConvs(ClassificationTask):
    """The convolution stack both tutorial CNNs share; subclasses add their linear head."""

    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = nn.MaxPool2d(2)

    def features(self, x: Tensor) -> Tensor:
        x = F.relu(self.pooling(self.conv1(x)))
        x = F.relu(self.pooling(self.conv2(x)))
        return x.flatten(1)


@register_model(
    "cnn_mnist",
    input_shape=(1, 28, 28),
    output_shape=(10,),
    num_params=8_490,
    datamodule="mnist",
    tutorial="002 lines 833-860: Conv(1,10,5) pool relu, Conv(10,20,5) pool relu, Linear(320,10)",
    tutorial_result="not given",
    recipes=CONV_MNIST_RECIPES,
)
class CNNMNIST(TwoConvs):
    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.fc = nn.Linear(320, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


@register_model(
    "cnn_deep_mnist",
    input_shape=(1, 28, 28),
    output_shape=(10,),
    num_params=104_554,
    datamodule="mnist",
    tutorial="002 lines 873-895: the same convolutions, then 320-256-64-10",
    tutorial_result="99.11 % (30 epochs, full MNIST)",
    recipes=CONV_MNIST_RECIPES,
)
class CNNDeepMNIST(TwoConvs):
    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.l1 = nn.Linear(320, 256)
        self.l2 = nn.Linear(256, 64)
        self.l3 = nn.Linear(64, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.relu(self.l1(self.features(x)))
        x = F.relu(self.l2(x))
        return self.l3(x)
