"""The fully connected MNIST classifier of tutorial 002's multi-class section."""

import torch.nn.functional as F
from torch import Tensor, nn

from zoo.inputs import mnist_digits
from zoo.recipes import DEFAULT_MNIST, PRETRAINED_MNIST, TUTORIAL_MNIST
from zoo.registry import register_model
from zoo.tasks import ClassificationTask


@register_model(
    "mlp_mnist",
    task=ClassificationTask,
    output_shape=(10,),
    num_params=575_050,
    datamodule="mnist",
    inputs=mnist_digits(),
    tutorial="002",
    section="multi-class classification of MNIST, lines 500-640",
    tutorial_result="98.33 % (20 epochs, full MNIST)",
    recipes={"tutorial": TUTORIAL_MNIST, "default": DEFAULT_MNIST, "pretrained": PRETRAINED_MNIST},
)
class MLP(nn.Module):
    """784-512-256-128-64-10 with ReLU between the layers; the image is read as 784 numbers.

    Tutorial 002, multi-class classification of MNIST (lines 500-640).
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.l1 = nn.Linear(784, 512)
        self.l2 = nn.Linear(512, 256)
        self.l3 = nn.Linear(256, 128)
        self.l4 = nn.Linear(128, 64)
        self.l5 = nn.Linear(64, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = x.view(-1, 784)  # N x 1 x 28 x 28 -> N x 784
        x = F.relu(self.l1(x))  # N x 512
        x = F.relu(self.l2(x))  # N x 256
        x = F.relu(self.l3(x))  # N x 128
        x = F.relu(self.l4(x))  # N x 64
        return self.l5(x)  # N x num_classes
