"""Tiny Shakespeare as next-character chunks, for the text-writing network (002 lines 1650-1660)."""

from __future__ import annotations

import gzip
from pathlib import Path

from torch import Tensor

from zoo.datamodules.base import TensorDataModule
from zoo.datamodules.public_files import public_file
from zoo.errors import ZooError
from zoo.registry import register_datamodule
from zoo.text import CharVocab

TEXT_FILE = "shakespeare.txt.gz"


def read_text(path: Path) -> str:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return f.read()
    except (OSError, EOFError, UnicodeDecodeError) as err:
        raise ZooError(
            f"cannot read {path} ({err}); it must be gzip-compressed UTF-8 text"
        ) from err


def chunks(ids: Tensor, seq_len: int, part: str) -> tuple[Tensor, Tensor]:
    """Non-overlapping (inputs, next characters) pairs, each (N, seq_len); the tail is dropped."""
    n = (len(ids) - 1) // seq_len
    if n < 1:
        raise ZooError(
            f"the {part} part has {len(ids)} characters, too few for one chunk of seq_len "
            f"{seq_len}; use a longer text, a smaller --data.seq_len or larger split fractions"
        )
    return ids[: n * seq_len].view(n, seq_len), ids[1 : n * seq_len + 1].view(n, seq_len)


@register_datamodule(
    "shakespeare",
    description="Tiny Shakespeare (1,115,394 characters, 65 symbols) as next-character "
    "chunks; contiguous 90/5/5 train/val/test split",
    source="data_dir, else the PyTorchZeroToAll data folder on GitHub (md5-checked download)",
)
class ShakespeareDataModule(TensorDataModule):
    """The text cut into three contiguous parts, then into non-overlapping chunks of `seq_len`.

    The parts are contiguous (train first, test last) so that no validation or test chunk
    overlaps a training one. `vocab` is the sorted set of characters in the whole text: the
    classes, in order, that the model is built with.
    """

    def __init__(
        self,
        data_dir: str | None = None,
        seq_len: int = 128,
        batch_size: int = 64,
        eval_batch_size: int = 512,
        val_split: float = 0.05,
        test_split: float = 0.05,
        seed: int = 42,
    ) -> None:
        super().__init__(data_dir, batch_size, eval_batch_size, val_split, seed)
        if val_split <= 0.0 or test_split <= 0.0 or val_split + test_split >= 1.0:
            raise ZooError(
                f"val_split and test_split must be positive and leave text to train on, got "
                f"{val_split} and {test_split}; pass e.g. --data.val_split 0.05"
            )
        if seq_len < 1:
            raise ZooError(f"seq_len must be at least 1, got {seq_len}")
        self.seq_len = seq_len
        self.test_split = test_split
        self.input_shape = (None,)
        self.vocab = ""

    @property
    def labels(self) -> list[str] | None:
        """The classes once the text is read: its characters, sorted."""
        return list(self.vocab) or None

    def prepare_data(self) -> None:
        public_file(self.data_dir, TEXT_FILE)

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        text = read_text(public_file(self.data_dir, TEXT_FILE))
        self.vocab = "".join(sorted(set(text)))
        ids = CharVocab(self.vocab).encode(text)
        val_start = round(len(ids) * (1 - self.val_split - self.test_split))
        test_start = round(len(ids) * (1 - self.test_split))
        parts = {
            "train": ids[:val_start],
            "val": ids[val_start:test_start],
            "test": ids[test_start:],
        }
        return {k: chunks(v, self.seq_len, k) for k, v in parts.items()}
