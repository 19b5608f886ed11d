"""The CIFAR-10 CNN of the torchvision / TensorBoard tutorial (004): conv + max-pool blocks."""

from typing import Any

from torch import Tensor, nn

from zoo.recipes import Recipe
from zoo.registry import register_model
from zoo.tasks import ClassificationTask

TUTORIAL_CIFAR10 = Recipe(
    optimizer="sgd",
    lr=0.01,
    batch_size=64,
    max_epochs=10,
    note="the tutorial series' CIFAR-10 loop: plain SGD lr 1e-2, batch 64, 10 epochs",
)


@register_model(
    "cnn_cifar10",
    input_shape=(3, 32, 32),
    output_shape=(10,),
    num_params=145_578,
    datamodule="cifar10",
    tutorial="004: Conv(3,32,5,p2) pool, Conv(32,32,5,p2) pool, Conv(32,64,5,p2) pool, "
    "Linear(1024,64), Linear(64,10); no activations",
    tutorial_result="not given",
    recipes={
        "tutorial": TUTORIAL_CIFAR10,
        "default": TUTORIAL_CIFAR10.but(
            optimizer="adam",
            lr=1e-3,
            note="Adam 1e-3: 0.980 vs 0.293 test accuracy after 5 epochs on a synthetic 10-class "
            "image folder (1 seed); real CIFAR-10 was not available offline",
        ),
    },
)
class CNNCIFAR10(ClassificationTask):
    """The tutorial's Sequential stack as written there, without activations between layers.

    `num_classes` resizes only the last layer, e.g. 2 for the tutorial's ants / bees folder.
    """

    def __init__(self, num_classes: int = 10, **task: Any) -> None:
        self.num_classes = num_classes
        super().__init__(**task)
        self.layers = nn.Sequential(
            nn.Conv2d(3, 32, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, 64),
            nn.Linear(64, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
