"""Surnames and their country of origin (002 lines 1392-1640), as padded ASCII ids with lengths."""

from __future__ import annotations

import csv
import gzip
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from zoo.datamodules.base import TensorDataModule, seeded_split
from zoo.datamodules.public_files import public_file
from zoo.datamodules.tables import check_utf8
from zoo.errors import ZooError
from zoo.inputs import Surnames
from zoo.notice import notice
from zoo.registry import register_datamodule
from zoo.text import MAX_NAME_LENGTH, ascii_codes, encode_names

TRAIN_FILE = "names_train.csv.gz"
TEST_FILE = "names_test.csv.gz"

Row = tuple[str, str]


def read_rows(path: Path) -> list[Row]:
    """(name, country) rows of a gzip CSV without a header; a malformed row is a ZooError."""
    rows = []
    check_utf8(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            for line, row in enumerate(csv.reader(f), 1):
                if not row:
                    continue
                if len(row) != 2:
                    raise ZooError(
                        f"{path} line {line} has {len(row)} fields ({row!r}); "
                        "every row must be name,country"
                    )
                if not row[1].strip():  # (a row with an empty name is skipped, with a notice)
                    raise ZooError(
                        f"{path} line {line}: the country is empty ({row!r}); every row must be name,country"
                    )
                rows.append((row[0], row[1].strip()))
    except (EOFError, zlib.error) as err:  # gzip's errors for a cut-short or damaged stream
        raise ZooError(
            f"{path} is cut short or damaged ({err}); replace it with a complete copy, or "
            f"delete it ({TRAIN_FILE} then downloads again)"
        ) from err
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ZooError(
            f"cannot read {path} ({err}); it must be a gzip CSV of name,country rows"
        ) from err
    if not rows:
        raise ZooError(f"{path} has no rows; it must be a gzip CSV of name,country rows")
    return rows


def split_by_name(
    rows: list[Row], fractions: Sequence[float], seed: int, max_len: int, stratify: bool = False
) -> list[list[Row]]:
    """Seeded split in which every row of one (encoded) name lands in the same part.

    The file repeats names (13,374 rows, 11,816 distinct names); a row-wise split would put
    copies of a training name in validation and test and overstate accuracy. With `stratify`,
    each country's names are split alone (a name of several countries counts for its most
    frequent one), so a country of 48 rows has its share of validation and test names too.
    """
    country_of = name_countries(rows, max_len)
    strata = sorted(set(country_of.values())) if stratify else [None]
    groups = [sorted(k for k, c in country_of.items() if stratum in (None, c)) for stratum in strata]
    part_of: dict[tuple[int, ...], int] = {}
    for keys in groups:
        parts = seeded_split((torch.arange(len(keys)),), fractions, seed)
        part_of |= {keys[i]: k for k, (members,) in enumerate(parts) for i in members.tolist()}
    split: list[list[Row]] = [[] for _ in fractions]
    for row in rows:
        split[part_of[tuple(ascii_codes(row[0], max_len))]].append(row)
    return split


def name_countries(rows: list[Row], max_len: int) -> dict[tuple[int, ...], str]:
    """Each distinct (encoded) name's most frequent country, ties to the first in sorted order."""
    counts = Counter((tuple(ascii_codes(name, max_len)), country) for name, country in rows)
    best: dict[tuple[int, ...], str] = {}
    for (key, country), n in sorted(counts.items()):
        if key not in best or n > counts[key, best[key]]:
            best[key] = country
    return best


def label_conflicts(known: list[Row], rows: list[Row], max_len: int) -> Tensor:
    """Which `rows` name an (encoded) name that `known` labels, but never with the row's country.

    The tutorial's test file holds 273 such rows (all 34 of its Scottish names are English in
    names_train.csv.gz): a model that follows its training labels answers them wrong, so they
    are each country's recall ceiling (docs/notes/surnames.md#ceilings).
    """
    labels: dict[tuple[int, ...], set[str]] = {}
    for name, country in known:
        labels.setdefault(tuple(ascii_codes(name, max_len)), set()).add(country)
    keys = [tuple(ascii_codes(name, max_len)) for name, _ in rows]
    conflicts = [key in labels and country not in labels[key] for key, (_, country) in zip(keys, rows, strict=True)]
    return torch.tensor(conflicts, dtype=torch.bool)


def unique_rows(rows: list[Row]) -> list[Row]:
    """One row per (name, country), in first-seen order: the file holds Arabic as 1,333 rows of
    108 names, and each copy would count again in every epoch."""
    return list(dict.fromkeys(rows))


def name_tensors(rows: list[Row], countries: Sequence[str], max_len: int) -> tuple[Tensor, ...]:
    """(ids (N, longest), lengths (N,), country index (N,)); padded once, here."""
    index = {country: i for i, country in enumerate(countries)}
    targets = torch.tensor([index[country] for _, country in rows], dtype=torch.long)
    if not rows:
        return torch.zeros(0, 1, dtype=torch.long), torch.zeros(0, dtype=torch.long), targets
    ids, lengths = encode_names([name for name, _ in rows], max_len)
    return ids, lengths, targets


@register_datamodule(
    "names",
    description="13,374 surnames -> 18 countries (names_train.csv.gz) as padded ASCII ids + "
    "lengths; seeded val/test holdout by name, stratified by country, or names_test.csv.gz as test when present",
    source="data_dir, else the PyTorchZeroToAll data folder on GitHub (md5-checked download)",
)
class NamesDataModule(TensorDataModule):
    """The surname classification data, held as (ids, lengths, country) tensors.

    Names become ASCII codes as in the tutorial (see `zoo.text.ascii_codes`): NFKD-folded,
    anything still beyond ASCII mapped to the reserved SUB id 26, clipped to `max_len`; rows
    with an empty name are skipped with a notice. `countries` is the sorted list of countries
    in the training file, the class order the model is trained with.

    Without `names_test.csv.gz` in data_dir, `val_split` and `test_split` of the distinct
    names in the training file are held out (seeded); with it, that file is the test split and
    only `val_split` is held out. `fetch_test_file=True` downloads that file (md5-checked) when
    data_dir lacks it: the tutorial's own held-out names, on which it reports its accuracy.
    `stratify` (on by default) holds out each country's share of names, so the rarest countries
    are judged too; `dedupe` trains on one row per (name, country), validation and test unchanged;
    `class_sampling` q draws each training row with weight count^-q of its country (1: every
    country as often as any other), with replacement, instead of shuffling.
    """

    def __init__(
        self,
        data_dir: str | None = None,
        batch_size: int = 256,
        eval_batch_size: int = 2048,
        val_split: float = 0.1,
        test_split: float = 0.1,
        max_len: int = MAX_NAME_LENGTH,
        seed: int = 42,
        fetch_test_file: bool = False,
        stratify: bool = True,
        dedupe: bool = False,
        class_sampling: float = 0.0,
    ) -> None:
        super().__init__(data_dir, batch_size, eval_batch_size, val_split, seed)
        if not 0.0 <= test_split < 1.0 or val_split + test_split >= 1.0:
            raise ZooError(
                f"val_split + test_split must leave names to train on, got {val_split} + "
                f"{test_split}; pass e.g. --data.test_split 0.1"
            )
        if max_len < 1:
            raise ZooError(f"max_len must be at least 1, got {max_len}")
        if class_sampling < 0:
            raise ZooError(f"class_sampling must be 0 or more, got {class_sampling}; pass e.g. 0.5, or 0 to shuffle")
        self.test_split = test_split
        self.max_len = max_len
        self.fetch_test_file = fetch_test_file
        self.stratify = stratify
        self.dedupe = dedupe
        self.class_sampling = class_sampling
        self.input_shape = (None,)
        self.raw_inputs = Surnames(max_length=max_len)
        self.countries: list[str] = []
        self.conflicts: Tensor | None = None

    @property
    def labels(self) -> list[str] | None:
        """The classes once the file is read: its countries, sorted."""
        return self.countries or None

    def train_sample_weights(self) -> Tensor | None:
        if not self.class_sampling:
            return None
        target = self.splits["train"][-1].cpu()
        counts = torch.bincount(target, minlength=len(self.countries)).double()
        return (counts ** -self.class_sampling)[target]

    def test_label_conflicts(self) -> Tensor | None:
        """The test rows whose name the training file's train and validation rows label only with
        other countries: 273 of names_test.csv.gz's rows, none of a split held out by name."""
        self.setup()
        return self.conflicts

    def prepare_data(self) -> None:
        public_file(self.data_dir, TRAIN_FILE)
        if self.fetch_test_file:
            public_file(self.data_dir, TEST_FILE)

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        rows = self._usable(read_rows(public_file(self.data_dir, TRAIN_FILE)), TRAIN_FILE)
        self.countries = sorted({country for _, country in rows})
        test_path = public_file(self.data_dir, TEST_FILE) if self.fetch_test_file else self.data_dir / TEST_FILE
        if test_path.is_file():
            notice(f"using {test_path} as the test split")
            fractions: tuple[float, ...] = (1 - self.val_split, self.val_split)
            train, val = split_by_name(rows, fractions, self.seed, self.max_len, self.stratify)
            test = self._known_countries(self._usable(read_rows(test_path), TEST_FILE))
        else:
            fractions = (1 - self.val_split - self.test_split, self.val_split, self.test_split)
            train, val, test = split_by_name(rows, fractions, self.seed, self.max_len, self.stratify)
        self.conflicts = label_conflicts(train + val, test, self.max_len)
        parts = {"train": unique_rows(train) if self.dedupe else train, "val": val, "test": test}
        return {k: name_tensors(v, self.countries, self.max_len) for k, v in parts.items()}

    def _usable(self, rows: list[Row], source: str) -> list[Row]:
        """The rows whose name is not empty; the others are skipped with a notice."""
        kept = [row for row in rows if ascii_codes(row[0], self.max_len)]
        if len(kept) < len(rows):
            notice(f"skipped {len(rows) - len(kept)} row(s) of {source} with an empty name")
        return kept

    def _known_countries(self, rows: list[Row]) -> list[Row]:
        unknown = sorted({country for _, country in rows} - set(self.countries))
        if unknown:
            raise ZooError(
                f"{TEST_FILE} has countries the training file lacks: {', '.join(unknown)}; "
                "use a test file with the training file's countries"
            )
        return rows
