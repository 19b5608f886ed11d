"""Datasets held as tensors and served as whole batches by indexing, never item by item."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import lightning.pytorch as pl
import torch
from torch import Tensor

from zoo import checks
from zoo.errors import ZooError
from zoo.inputs import Inputs

DATA_DIR_ENV = "ZOO_DATA_DIR"
BatchTransform = Callable[[Tensor, torch.Generator], Tensor]


def default_data_dir() -> Path:
    """`$ZOO_DATA_DIR`, else the user's cache folder; never the working directory."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "zoo"


def lacks_split(datamodule: object, split: str) -> bool:
    """True when a zoo datamodule holds no rows in `split` ('val' after `val_split=0`, 'test' for
    a recipe that trains on every row); a datamodule of another kind is taken to hold it."""
    split_sizes = getattr(datamodule, "split_sizes", None)
    return callable(split_sizes) and not split_sizes()[split]


def rows_seen(seen: tuple[Tensor, ...], rows: tuple[Tensor, ...]) -> int:
    """How many of a split's `rows` (input tensors, then targets) have inputs equal to a row of the
    split `seen`: figures on rows a model trained on measure its fit, not what it learned. Each
    input is compared without its trailing zero bytes, since splits pad sequences to their own
    longest (with id 0) and fixed-size rows lose nothing by it."""

    def keys(split: tuple[Tensor, ...]) -> list[tuple[bytes, ...]]:
        inputs = [tensor.reshape(len(tensor), -1).cpu().contiguous().numpy() for tensor in split[:-1]]
        return [tuple(array[i].tobytes().rstrip(b"\0") for array in inputs) for i in range(len(split[-1]))]

    known = set(keys(seen))
    return sum(key in known for key in keys(rows))


def writable_dir(folder: Path) -> Path:
    """Create the folder a download goes to; a clear error when it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ZooError(
            f"data_dir {str(folder)!r} cannot be created ({err.strerror}); "
            f"pass --data.data_dir with a writable folder or set {DATA_DIR_ENV}"
        ) from err
    if not os.access(folder, os.W_OK):
        raise ZooError(
            f"data_dir {str(folder)!r} is not writable; "
            f"pass --data.data_dir with a writable folder or set {DATA_DIR_ENV}"
        )
    return folder


class TensorBatches:
    """An epoch of batches cut from in-memory tensors with one index operation each.

    Shuffles with a seeded generator that advances every epoch, shards across processes when
    torch.distributed is running (every rank gets the same number of batches), and applies an
    optional batched transform (augmentation) to the first tensor. With `sample_weights`, an
    epoch draws as many samples as there are, with replacement, each in proportion to its weight.
    """

    def __init__(
        self,
        tensors: Sequence[Tensor],
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
        transform: BatchTransform | None = None,
        sample_weights: Tensor | None = None,
    ) -> None:
        self.tensors = tuple(tensors)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.transform = transform
        self.sample_weights = sample_weights
        self.generator = torch.Generator().manual_seed(seed)

    def _order(self, n: int) -> Tensor:
        if self.sample_weights is not None:
            return torch.multinomial(self.sample_weights.cpu(), n, replacement=True, generator=self.generator)
        return torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)

    def _rank_and_world(self) -> tuple[int, int]:
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    def _num_samples(self) -> int:
        world = self._rank_and_world()[1]
        return len(self.tensors[0]) // world

    def __len__(self) -> int:
        n = self._num_samples()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.tensors[0])
        rank, world = self._rank_and_world()
        order = self._order(n)
        if world > 1:
            order = order[: n // world * world][rank::world]
        order = order.to(self.tensors[0].device)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = [t[idx] for t in self.tensors]
            if self.transform is not None:
                batch[0] = self.transform(batch[0], self.generator)
            yield tuple(batch)

    def to(self, device: torch.device) -> TensorBatches:
        self.tensors = tuple(t.to(device) for t in self.tensors)
        return self


class TensorDataModule(pl.LightningDataModule):
    """Base for every zoo datamodule: subclasses fill `self.splits` in `load()`.

    Holds train/val/test tensors, moves them to the accelerator once when training on a GPU,
    evaluates at a large batch, and exposes `input_shape` so models can be checked against it.
    There is no `num_workers`: a batch is one index operation in the main process, and worker
    processes would only add inter-process copies.
    """

    zoo_name: str = ""
    input_shape: tuple[int | None, ...] = ()
    raw_inputs: Inputs | None = None
    """What raw inputs a network trained on this data answers (see `zoo.inputs`), where the data
    says: a checkpoint of a network that was never registered reads them from its datamodule."""

    def __init__(
        self,
        data_dir: str | None = None,
        batch_size: int = 64,
        eval_batch_size: int = 1000,
        val_split: float = 0.1,
        seed: int = 42,
    ) -> None:
        super().__init__()
        if batch_size < 1 or eval_batch_size < 1:
            raise ZooError(f"batch sizes must be at least 1, got {batch_size}/{eval_batch_size}; pass e.g. 64")
        if not 0.0 <= val_split < 1.0:
            raise ZooError(f"val_split must be in [0, 1), got {val_split}; pass e.g. 0.1")
        checks.seed(seed, "the data seed (--data.seed)")
        self.data_dir = Path(data_dir).expanduser() if data_dir else default_data_dir()
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.val_split = val_split
        self.seed = seed
        self.splits: dict[str, tuple[Tensor, ...]] = {}
        self.train_batches: TensorBatches | None = None
        self._train_generator_state: Tensor | None = None

    def state_dict(self) -> dict[str, Tensor]:
        """The training data order's generator state, which Lightning keeps in every checkpoint,
        so a resumed run shuffles and augments its next epochs as the uninterrupted run does."""
        if self.train_batches is not None:
            return {"train_generator": self.train_batches.generator.get_state()}
        if self._train_generator_state is not None:
            return {"train_generator": self._train_generator_state}
        return {}

    def load_state_dict(self, state_dict: dict[str, Tensor]) -> None:
        """Restore the data order from a checkpoint (before or after the train batches exist)."""
        state = state_dict.get("train_generator")
        if state is None:
            return
        self._train_generator_state = state
        if self.train_batches is not None:
            self.train_batches.generator.set_state(state)

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        """Return {'train': tensors, 'val': ..., 'test': ...}, each (inputs..., target)."""
        raise NotImplementedError

    def split_off_val(
        self, train: tuple[Tensor, ...], test: tuple[Tensor, ...]
    ) -> dict[str, tuple[Tensor, ...]]:
        """The splits of a dataset that ships train and test sets: `val_split` of train is val."""
        train_part, val_part = seeded_split(train, (1 - self.val_split, self.val_split), self.seed)
        return {"train": train_part, "val": val_part, "test": test}

    def train_transform(self) -> BatchTransform | None:
        """Batched augmentation for training; none by default."""
        return None

    def train_sample_weights(self) -> Tensor | None:
        """How often each training sample is drawn, relative to the others; None shuffles."""
        return None

    def test_label_conflicts(self) -> Tensor | None:
        """Which test rows (bool, in test order) have an input the training data labels, but never
        with the row's label: a model that answers as it was taught misses them, so they cap each
        class's recall. None where the data cannot tell (inputs that do not repeat)."""
        return None

    def setup(self, stage: str | None = None) -> None:
        """Load the splits once (zoo's commands do it before a run folder is claimed, so bad data
        leaves nothing behind) and move them to the Trainer's device once it has one."""
        if not self.splits:
            self.splits = self.load()
            self.check_train_left()
        device = self._device()
        if self.splits["train"][-1].device != device:
            self.splits = {k: tuple(t.to(device) for t in v) for k, v in self.splits.items()}

    def check_train_left(self) -> None:
        """Refuse splits that leave nothing to train on (`val_split` 0.9999 of 4,000 rows)."""
        sizes = {k: len(v[-1]) for k, v in self.splits.items()}
        if sizes.get("train", 1):
            return
        test_split = getattr(self, "test_split", None)
        tested = test_split is not None
        raise ZooError(
            f"{self.zoo_name or 'the data'} holds {sum(sizes.values())} samples, too few to leave any for training "
            f"after val_split {self.val_split}{f' and test_split {test_split}' if tested else ''}; add data, or "
            f"lower --data.val_split{' and --data.test_split' if tested else ''}"
        )

    def _device(self) -> torch.device:
        trainer = self.trainer
        return trainer.strategy.root_device if trainer is not None else torch.device("cpu")

    def split_sizes(self) -> dict[str, int]:
        self.setup()
        return {k: len(v[-1]) for k, v in self.splits.items()}

    def _batches(self, split: str, train: bool = False) -> TensorBatches:
        self.setup()
        return TensorBatches(
            self.splits[split],
            self.batch_size if train else self.eval_batch_size,
            shuffle=train,
            seed=self.seed,
            transform=self.train_transform() if train else None,
            sample_weights=self.train_sample_weights() if train else None,
        )

    def train_dataloader(self) -> TensorBatches:
        self.train_batches = self._batches("train", train=True)
        if self._train_generator_state is not None:
            self.train_batches.generator.set_state(self._train_generator_state)
            self._train_generator_state = None
        return self.train_batches

    def val_dataloader(self) -> TensorBatches:
        return self._batches("val")

    def test_dataloader(self) -> TensorBatches:
        return self._batches("test")

    def predict_dataloader(self) -> TensorBatches:
        """The test split's inputs without their targets: what a model predicts from."""
        self.setup()
        return TensorBatches(self.splits["test"][:-1], self.eval_batch_size)


def seeded_split(
    tensors: tuple[Tensor, ...], fractions: Sequence[float], seed: int
) -> list[tuple[Tensor, ...]]:
    """Split aligned tensors into parts of the given fractions (the last takes the rest)."""
    n = len(tensors[0])
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    sizes = [round(f * n) for f in fractions[:-1]]
    sizes.append(n - sum(sizes))
    parts = []
    start = 0
    for size in sizes:
        idx = order[start : start + size]
        parts.append(tuple(t[idx] for t in tensors))
        start += size
    return parts
