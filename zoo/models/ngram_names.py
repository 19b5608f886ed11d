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


def marked(ids: Tensor, lengths: Tensor) -> Tensor:
    """(N, L) padded ids -> (N, L + 2): each name between BEGIN and END, 0 after it."""
    n, width = ids.shape
    positions = torch.arange(width + 2, device=ids.device)
    out = torch.zeros(n, width + 2, dtype=torch.long, device=ids.device)
    out[:, 1:-1] = torch.where(positions[None, :width] < lengths[:, None], ids + 1, 0)
    out[:, 0] = BEGIN
    out.scatter_(1, (lengths + 1)[:, None], END)
    return out


def ngram_hashes(codes: Tensor, max_n: int, buckets: int) -> Tensor:
    """Every n-gram (n = 1..max_n) of the marked names, and the whole name, hashed into
    1..buckets-1; 0 for windows that run into the padding. (N, K)."""
    hashes = []
    rolling = torch.zeros_like(codes)
    for n in range(1, max_n + 1):
        windows = codes.unfold(1, n, 1) if codes.shape[1] >= n else codes[:, :0, None].expand(-1, -1, n)
        rolling = torch.zeros(windows.shape[:2], dtype=torch.long, device=codes.device) + n
        for k in range(n):
            rolling = (rolling * BASE + windows[..., k]) % PRIME
        hashes.append(torch.where((windows != 0).all(dim=-1), rolling % (buckets - 1) + 1, 0))
    whole = torch.full(codes.shape[:1], max_n + 1, dtype=torch.long, device=codes.device)
    for k in range(codes.shape[1]):
        whole = torch.where(codes[:, k] != 0, (whole * BASE + codes[:, k]) % PRIME, whole)
    hashes.append((whole % (buckets - 1) + 1)[:, None])
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
    input_shape=(None,),
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
    EmbeddingBag(2^15, 48, mean) -> Linear(48, 18).

    fastText's classifier (Joulin et al. 2017) on characters: a name is the mean of its n-grams'
    vectors, so "Ngu", "yen$" and the name itself each vote for a country.
    """

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
        self.embedding = nn.EmbeddingBag(buckets, embed_size, mode="mean", padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(embed_size, num_classes)

    def forward(self, inputs: Tensor, seq_lengths: Tensor) -> Tensor:
        grams = ngram_hashes(marked(inputs, seq_lengths), self.max_n, self.buckets)  # N x K
        return self.fc(self.dropout(self.embedding(grams)))  # N x 18
