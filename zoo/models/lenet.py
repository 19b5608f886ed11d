"""LeNet-5 of tutorial 000: a 1x32x32 input, so MNIST is padded to 32."""

import torch.nn.functional as F
from torch import Tensor, nn

from zoo.inputs import mnist_digits
from zoo.recipes import CONV_MNIST_RECIPES
from zoo.registry import register_model
from zoo.tasks import ClassificationTask


@register_model(
    "lenet_mnist",
    task=ClassificationTask,
    output_shape=(10,),
    num_params=61_706,
    datamodule="mnist",
    inputs=mnist_digits(32),
    datamodule_args={"pad_to": 32},
    tutorial="000",
    section="神经网络 (neural networks): the LeNet `Net` class",
    tutorial_result="not given",
    recipes=CONV_MNIST_RECIPES,
)
class LeNet(nn.Module):
    """Conv(1,6,5) relu pool2, Conv(6,16,5) relu pool2, then 400-120-84-10.

    Tutorial 000, its LeNet `Net`. Two 5x5 convolutions and two 2x2 poolings take 32x32 to
    5x5, so fc1 reads 16 channels x 5 x 5 = 400 numbers.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))  # N x 1 x 32 x 32 -> N x 6 x 14 x 14
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # N x 16 x 5 x 5
        x = x.flatten(1)  # N x 400 (the tutorial's x.view(x.size()[0], -1))
        x = F.relu(self.fc1(x))  # N x 120
        x = F.relu(self.fc2(x))  # N x 84
        return self.fc3(x)  # N x num_classes
