"""The CIFAR-10 CNN of tutorial 004: conv + max-pool blocks in one nn.Sequential."""

from torch import Tensor, nn

from zoo.inputs import Images
from zoo.inputs.images import CIFAR10_MEAN, CIFAR10_STD
from zoo.recipes import Recipe
from zoo.registry import register_model
from zoo.tasks import ClassificationTask

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
TUTORIAL_CIFAR10 = Recipe(
    optimizer="sgd",
    lr=0.01,
    batch_size=64,
    max_epochs=10,
    note="the tutorial series' CIFAR-10 loop: plain SGD lr 1e-2, batch 64, 10 epochs",
)


@register_model(
    "cnn_cifar10",
    task=ClassificationTask,
    output_shape=(10,),
    num_params=145_578,
    datamodule="cifar10",
    inputs=Images((3, 32, 32), CIFAR10_MEAN, CIFAR10_STD),
    ships_weights=False,  # CIFAR-10 is downloaded, not held by zoo
    tutorial="004",
    section="nn.Sequential on CIFAR-10, with TensorBoard",
    tutorial_result="not given",
    labels=CIFAR10_CLASSES,
    recipes={
        "tutorial": TUTORIAL_CIFAR10,
        "default": TUTORIAL_CIFAR10.but(
            optimizer="adam",
            lr=1e-3,
            note="Adam 1e-3, chosen on a synthetic image folder (no CIFAR-10 here offline)",
            notes="notes/small-models.md#cifar-10",
        ),
    },
)
class CIFAR10Net(nn.Module):
    """The tutorial's Sequential stack as written there, without activations between layers.

    Tutorial 004, nn.Sequential on CIFAR-10. Three 5x5 convolutions padded by 2 keep the size;
    three 2x2 poolings take 32x32 to 4x4, so the first linear layer reads 64 x 4 x 4 = 1024.
    `num_classes` resizes only the last layer, e.g. 2 for the tutorial's ants / bees folder.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.model1 = nn.Sequential(
            nn.Conv2d(3, 32, 5, padding=2),  # N x 32 x 32 x 32
            nn.MaxPool2d(2),  # N x 32 x 16 x 16
            nn.Conv2d(32, 32, 5, padding=2),  # N x 32 x 16 x 16
            nn.MaxPool2d(2),  # N x 32 x 8 x 8
            nn.Conv2d(32, 64, 5, padding=2),  # N x 64 x 8 x 8
            nn.MaxPool2d(2),  # N x 64 x 4 x 4
            nn.Flatten(),  # N x 1024
            nn.Linear(64 * 4 * 4, 64),  # N x 64
            nn.Linear(64, num_classes),  # N x num_classes
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.model1(x)  # N x 3 x 32 x 32 -> N x num_classes
