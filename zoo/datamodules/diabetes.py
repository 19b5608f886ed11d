"""Diabetes: 759 patients, 8 measurements scaled to [-1, 1], and whether they got diabetes."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from zoo.datamodules.base import TensorDataModule, seeded_split
from zoo.datamodules.public_files import MD5 as PUBLIC_MD5
from zoo.datamodules.public_files import public_file
from zoo.datamodules.tables import read_numbers
from zoo.errors import ZooError
from zoo.inputs import Numbers
from zoo.inputs.bounds import SCALED_FEATURE, Allowed
from zoo.registry import register_datamodule

FILENAME = "diabetes.csv.gz"
MD5 = PUBLIC_MD5[FILENAME]
NUM_FEATURES = 8
TEST_SEED = 0


@register_datamodule(
    "diabetes",
    description="8 scaled measurements -> diabetes 0/1 (759 rows, 65 % ones), shape (8,); "
    "seeded 20 % test, 15 % of the rest for validation",
    source=f"{FILENAME} in data_dir, else downloaded (md5-checked) from PyTorchZeroToAll",
)
class DiabetesDataModule(TensorDataModule):
    """The tutorials' `diabetes.csv.gz`: a gzip CSV without header, 8 features then the label.

    The file is read from `data_dir`, or downloaded there with its md5 checked. A file in
    `data_dir` must match `md5` too; pass `md5=None` to use a file of your own as it is.
    `test_split` of the rows (always the same rows, whatever `seed`) are the test set;
    `val_split` of the others, chosen by `seed`, are the validation set.
    """

    input_shape = (NUM_FEATURES,)
    raw_inputs = Numbers(NUM_FEATURES, allowed=SCALED_FEATURE)

    def __init__(
        self,
        data_dir: str | None = None,
        batch_size: int = 32,
        eval_batch_size: int = 1000,
        val_split: float = 0.15,
        test_split: float = 0.2,
        seed: int = 42,
        md5: str | None = MD5,
    ) -> None:
        if not 0.0 < test_split < 1.0:
            raise ZooError(f"test_split must be in (0, 1), got {test_split}; pass e.g. 0.2")
        super().__init__(data_dir, batch_size, eval_batch_size, val_split, seed)
        self.test_split = test_split
        self.md5 = md5

    @property
    def path(self) -> Path:
        return self.data_dir / FILENAME

    def prepare_data(self) -> None:
        public_file(self.data_dir, FILENAME)

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        self.prepare_data()
        from torchvision.datasets.utils import check_integrity

        if not check_integrity(str(self.path), self.md5):
            raise ZooError(
                f"{self.path} does not have md5 {self.md5} (corrupt or a different file); "
                "delete it to download it again, or pass --data.md5 null to use it as it is"
            )
        features, labels = read_table(self.path)
        rest, test = seeded_split(
            (features, labels), (1 - self.test_split, self.test_split), TEST_SEED
        )
        train, val = seeded_split(rest, (1 - self.val_split, self.val_split), self.seed)
        return {"train": train, "val": val, "test": test}


FEATURE = SCALED_FEATURE
LABEL = Allowed(0.0, 1.0, "the label is 0 or 1", whole=True)


def read_table(path: Path) -> tuple[Tensor, Tensor]:
    """Features (N, 8) and labels (N, 1) as float32, from a CSV (gzipped or not) with no header;
    every cell is checked (`zoo.datamodules.tables`) before it becomes a tensor."""
    data = torch.from_numpy(
        read_numbers(path, [FEATURE] * NUM_FEATURES + [LABEL], header=False,
                     fix=f"replace it with the original {FILENAME}")
    )
    return data[:, :-1].contiguous(), data[:, -1:].contiguous()
