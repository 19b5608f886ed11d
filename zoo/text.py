"""Characters <-> ids for the sequence models: a fixed vocabulary, and ASCII codes for names."""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from zoo.errors import ZooError

PAD_ID = 0
"""ASCII NUL pads names to a common length; no name character is ever mapped to it."""
SUBSTITUTE_ID = 0x1A
"""ASCII SUB ("substitute character") stands for any character with no ASCII form."""
ASCII_SIZE = 128
MAX_NAME_LENGTH = 32
"""Longer names are clipped to their first 32 characters (the longest in the tutorial's file has 19)."""


class CharVocab:
    """A fixed, ordered set of characters; a character's id is its position."""

    def __init__(self, chars: str) -> None:
        if len(set(chars)) != len(chars):
            raise ZooError(f"vocabulary {chars!r} repeats a character; give each one once")
        self.chars = chars
        self.ids = {c: i for i, c in enumerate(chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str, what: str = "text") -> Tensor:
        """Ids of `text` as a 1-D long tensor; unknown characters are named in a ZooError."""
        unknown = sorted(set(text) - set(self.ids))
        if unknown:
            raise ZooError(
                f"the {what} has characters outside the vocabulary: "
                + " ".join(repr(c) for c in unknown)
                + f"; use only these {len(self)}: {self.chars!r}"
            )
        return torch.tensor([self.ids[c] for c in text], dtype=torch.long)

    def decode(self, ids: Iterable[int] | Tensor) -> str:
        values = ids.tolist() if isinstance(ids, Tensor) else ids
        return "".join(self.chars[i] for i in values)


def ascii_codes(name: str, max_len: int) -> list[int]:
    """A name as ASCII codes: NFKD-folded, non-ASCII -> SUB, clipped to `max_len`.

    "Müller" becomes "Muller" (the accent is a combining mark NFKD splits off and we drop);
    a character with no ASCII decomposition ("ß", "Ø", "田") becomes SUB, one id per character,
    so the length of the name is kept. Surrounding whitespace is dropped; the result is empty
    only for an empty (or all-space) name.
    """
    folded = unicodedata.normalize("NFKD", name.strip())
    codes = [ord(c) for c in folded if not unicodedata.combining(c)]
    return [c if 0 < c < ASCII_SIZE else SUBSTITUTE_ID for c in codes][:max_len]


NAME_CHARACTERS = frozenset(string.ascii_letters + " ',")
"""Every character of the tutorial's surnames once accents are folded (`ascii_codes`): letters,
space, apostrophe and comma. A name model has never seen anything else."""


def check_name_characters(name: str) -> None:
    """Refuse a name with a character a name model never read (an emoji, a CJK character, a
    digit, 'ß'), naming it: the model would give such a name a confident but meaningless answer."""
    for char in name.strip():
        folded = [c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)]
        if not folded or not set(folded) <= NAME_CHARACTERS:
            raise ZooError(
                f"surname {name!r} has {char!r}, which the name model never saw; it reads letters A-Z "
                "(accents dropped: 'ü' reads as 'u'), spaces, apostrophes and commas: write the name with those"
            )


def encode_names(names: Sequence[str], max_len: int) -> tuple[Tensor, Tensor]:
    """Names -> (ids padded with PAD_ID to the longest, lengths); an empty name is refused."""
    if not names:
        raise ZooError("no names given; pass at least one name")
    codes = [ascii_codes(name, max_len) for name in names]
    empty = [i for i, c in enumerate(codes) if not c]
    if empty:
        raise ZooError(
            f"name number {empty[0] + 1} ({names[empty[0]]!r}) is empty; "
            "give every name at least one character"
        )
    lengths = torch.tensor([len(c) for c in codes], dtype=torch.long)
    ids = torch.full((len(codes), int(lengths.max())), PAD_ID, dtype=torch.long)
    for row, c in zip(ids, codes, strict=True):
        row[: len(c)] = torch.tensor(c)
    return ids, lengths


HELLO_VOCAB = CharVocab("ehlo")
"""The hello tutorial's four characters, in the tutorial's order (`idx2char`)."""
HELLO_INPUT = "hello"
HELLO_TARGET = "ohlol"
