"""The surname -> country RNNClassifier of the advanced RNN tutorial (002 lines 1392-1640)."""

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from zoo.datamodules.names import MAX_NAME_LENGTH
from zoo.errors import ZooError
from zoo.recipes import Recipe
from zoo.registry import register_model
from zoo.tasks import ClassificationTask, check_same_labels
from zoo.text import ASCII_SIZE, encode_names

NAMES_COUNTRIES = (
    "Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish",
    "Italian", "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish",
    "Vietnamese",
)
"""The 18 countries of names_train.csv.gz, sorted as the tutorial's `country_list`."""
HIDDEN_SIZE = 100
N_LAYERS = 2


@register_model(
    "gru_names",
    input_shape=(None,),
    output_shape=(len(NAMES_COUNTRIES),),
    num_params=318_818,
    datamodule="names",
    tutorial="002 lines 1392-1640: Embedding(128,100) -> bidirectional GRU(100,100, 2 layers) "
    "over packed padded ASCII ids -> Linear(200,18) on the last layer's two final states",
    tutorial_result="not given (100 epochs, accuracy per epoch plotted)",
    recipes={
        "tutorial": Recipe(optimizer="adam", lr=1e-3, batch_size=256, max_epochs=100,
                           note="002 lines 1410-1620: Adam 1e-3, batch 256, 100 epochs"),
        "default": Recipe(
            optimizer="adam", lr=1e-3, batch_size=256, max_epochs=10,
            note="the tutorial's settings for 10 epochs: validation loss is lowest near epoch 6 "
            "and accuracy flat at ~76 % from epoch 10 on; later epochs only overfit the loss "
            "(1 seed; a few seconds per epoch on 2 idle CPU cores)",
        ),
    },
)
class GRUNames(ClassificationTask):
    """Reads a name's ASCII ids (padded, with their lengths) and scores each country.

    `countries` is the class order, kept in the checkpoint's hparams so that a checkpoint alone
    can name its predictions; the default is the 18 countries of the tutorial's file.
    """

    num_inputs = 2

    def __init__(self, countries: Sequence[str] = NAMES_COUNTRIES, **task: Any) -> None:
        self.num_classes = len(countries)
        super().__init__(**task)
        self.embedding = nn.Embedding(ASCII_SIZE, HIDDEN_SIZE)
        self.gru = nn.GRU(HIDDEN_SIZE, HIDDEN_SIZE, N_LAYERS, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(HIDDEN_SIZE * 2, self.num_classes)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        embedded = self.embedding(ids)
        packed = pack_padded_sequence(
            embedded, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, hidden = self.gru(packed)
        return self.fc(torch.cat([hidden[-1], hidden[-2]], dim=1))

    def setup(self, stage: str) -> None:
        super().setup(stage)
        check_same_labels(self, "countries")

    def top_countries(self, names: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """For each name, its `k` likeliest countries with their probabilities, best first.

        Names are read as in training (`zoo.text.ascii_codes`): accents folded away ("Müller" ->
        "Muller"), any other non-ASCII character -> the reserved id 26, clipped to 32 characters.
        An empty name is a ZooError.
        """
        countries = self.hparams["countries"]
        if not 1 <= k <= len(countries):
            raise ZooError(f"k must be between 1 and {len(countries)}, got {k}")
        ids, lengths = encode_names(names, MAX_NAME_LENGTH)
        with torch.no_grad():
            probs = self(ids.to(self.device), lengths).softmax(dim=-1)
        top = probs.topk(k, dim=-1)
        return [
            [(countries[i], p) for i, p in zip(row_ids.tolist(), row_probs.tolist(), strict=True)]
            for row_ids, row_probs in zip(top.indices, top.values, strict=True)
        ]

    def example_batch(self, batch_size: int = 2) -> tuple[Tensor, ...]:
        lengths = torch.randint(1, 8, (batch_size,))
        ids = torch.randint(1, ASCII_SIZE, (batch_size, int(lengths.max())))
        ids[torch.arange(ids.shape[1]) >= lengths[:, None]] = 0
        return ids, lengths, torch.randint(0, self.num_classes, (batch_size,))
