"""A surname classifier over character n-grams: fastText's bag of hashed n-grams, one linear head.

Not a network of the tutorial: the best surname classifier measured on CPU beside its surname GRU
(docs/notes/surnames.md#a-model-that-reaches-for-the-ceiling).
"""

import torch
from torch import Tensor, nn

from zoo.inputs import Surnames
from zoo.models.names import NAMES_COUNTRIES, TUTORIAL_NAMES
from zoo.recipes import Recipe
from zoo.registry import register_model
from zoo.tasks import ClassificationTask
from zoo.text import ASCII_SIZE

BUCKETS = 2**15
EMBED_SIZE = 48
MAX_N = 4
BEGIN, END = ASCII_SIZE + 1, ASCII_SIZE + 2
"""Marks around a name (its ids shifted by one, so 0 stays the padding): "^ng" and "en$" are n-grams of their own."""
BASE = ASCII_SIZE + 3
PRIME = 2_147_483_629
"""A prime below 2^31: hashes stay inside int64 while they are multiplied by BASE."""
MAX_CODES = 1024
"""The longest marked name the hashes are defined for (names are clipped to 32 characters)."""


def marked(ids: Tensor, lengths: Tensor) -> Tensor:
    """(N, L) padded ids -> (N, L + 2): each name between BEGIN and END, 0 after it."""
    n, width = ids.shape
    positions = torch.arange(width + 2, device=ids.device)
    out = torch.zeros(n, width + 2, dtype=torch.long, device=ids.device)
    out[:, 1:-1] = torch.where(positions[None, :width] < lengths[:, None], ids + 1, 0)
    out[:, 0] = BEGIN
    out.scatter_(1, (lengths + 1)[:, None], END)
    return out


def base_powers(count: int) -> Tensor:
    """BASE^i mod PRIME for i < count: a hash is a sum of codes times these, computed without a
    loop over the name, so the network exports to ONNX for names of any length."""
    powers = [1]
    for _ in range(count - 1):
        powers.append(powers[-1] * BASE % PRIME)
    return torch.tensor(powers, dtype=torch.long)


def ngram_hashes(codes: Tensor, max_n: int, buckets: int, powers: Tensor) -> Tensor:
    """Every n-gram (n = 1..max_n) of the marked names, and the whole name, hashed into
    1..buckets-1; 0 for windows that run into the padding. (N, K).

    An n-gram's hash is the base-BASE number "n, c1, ..., cn" mod PRIME; the whole name's is
    "max_n + 1, its marked codes". Codes stay below 2^8 and powers below 2^31, so the sums fit
    in int64 for names of up to `len(powers) - 1` codes.
    """
    hashes = []
    for n in range(1, max_n + 1):
        windows = [codes[:, k:k - (n - 1) or None] for k in range(n)]  # n x (N, L - n + 1)
        value = n * powers[n] + sum(window * powers[n - 1 - k] for k, window in enumerate(windows))
        inside = torch.stack(windows).ne(0).all(dim=0)
        hashes.append(torch.where(inside, value % PRIME % (buckets - 1) + 1, 0))
    count = codes.ne(0).sum(dim=1, keepdim=True)  # N x 1: the marked name's length
    exponent = (count - 1 - torch.arange(codes.shape[1], device=codes.device)).clamp(min=0)
    whole = (max_n + 1) * powers[count] + (codes * powers[exponent]).sum(dim=1, keepdim=True)
    hashes.append(whole % PRIME % (buckets - 1) + 1)
    return torch.cat(hashes, dim=1)


CLASS_WEIGHT = 0.5
DEFAULT_NGRAM = Recipe(
    optimizer="adamw", lr=0.03, weight_decay=0.3, scheduler="cosine", batch_size=256, max_epochs=10,
    task_args={"label_smoothing": 0.1, "class_weight": CLASS_WEIGHT},
    note=f"AdamW 0.03, weight decay 0.3, cosine schedule, label smoothing, loss weighted by count^-{CLASS_WEIGHT}",
    notes="notes/surnames.md#a-model-that-reaches-for-the-ceiling",
)
PRETRAINED_NGRAM = DEFAULT_NGRAM.but(
    data_args={"val_split": 0.0, "test_split": 0.0},
    estimate_with={"test_split": 0.1},
    note="for the shipped weights: the default recipe on every row; a twin holding 10 % out is tested",
    notes="notes/surnames.md#a-model-that-reaches-for-the-ceiling",
)


@register_model(
    "ngram_names",
    task=ClassificationTask,
    output_shape=(len(NAMES_COUNTRIES),),
    num_params=1_573_746,
    datamodule="names",
    inputs=Surnames(examples=("Nguyen", "Macdonald", "Ferreira")),
    tutorial="002",
    section="not a network of the tutorial: its surnames (lines 1392-1640) read as character n-grams",
    tutorial_result="none (the tutorial has no such network)",
    labels=NAMES_COUNTRIES,
    recipes={"tutorial": TUTORIAL_NAMES, "default": DEFAULT_NGRAM, "pretrained": PRETRAINED_NGRAM},
)
class NgramClassifier(nn.Module):
    """Hashed character 1-4-grams of the name (with begin and end marks) and the whole name ->
    Embedding(2^15, 48), averaged over the name's n-grams -> Linear(48, 18).

    fastText's classifier (Joulin et al. 2017) on characters: a name is the mean of its n-grams'
    vectors, so "Ngu", "yen$" and the name itself each vote for a country.
    """

    powers: Tensor

    def __init__(
        self,
        buckets: int = BUCKETS,
        embed_size: int = EMBED_SIZE,
        num_classes: int = len(NAMES_COUNTRIES),
        max_n: int = MAX_N,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.buckets = buckets
        self.max_n = max_n
        self.register_buffer("powers", base_powers(MAX_CODES), persistent=False)
        self.embedding = nn.Embedding(buckets, embed_size, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(embed_size, num_classes)

    def forward(self, inputs: Tensor, seq_lengths: Tensor) -> Tensor:
        grams = ngram_hashes(marked(inputs, seq_lengths), self.max_n, self.buckets, self.powers)  # N x K
        present = grams.ne(0).unsqueeze(-1)  # N x K x 1: the padding's windows count for nothing
        mean = (self.embedding(grams) * present).sum(dim=1) / present.sum(dim=1)  # N x 48
        return self.fc(self.dropout(mean))  # N x 18
