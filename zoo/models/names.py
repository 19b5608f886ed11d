"""Tutorial 002's surname -> country RNNClassifier (lines 1392-1640)."""

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from zoo.inputs import Surnames
from zoo.recipes import Recipe
from zoo.registry import register_model
from zoo.tasks import ClassificationTask
from zoo.text import ASCII_SIZE

NAMES_COUNTRIES = (
    "Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish",
    "Italian", "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish",
    "Vietnamese",
)
"""The 18 countries of names_train.csv.gz, sorted as the tutorial's `country_list`."""
HIDDEN_SIZE = 100
N_LAYER = 2

TUTORIAL_NAMES = Recipe(
    optimizer="adam", lr=1e-3, batch_size=256, max_epochs=100,
    note="002 lines 1410-1620: Adam 1e-3, batch 256, 100 epochs",
)
CLASS_WEIGHT = 0.3
DEFAULT_NAMES = Recipe(
    optimizer="adamw", lr=3e-3, weight_decay=0.05, scheduler="cosine", batch_size=256, max_epochs=10,
    task_args={"label_smoothing": 0.1, "class_weight": CLASS_WEIGHT},
    note=f"AdamW, cosine schedule, label smoothing, each country's loss weighted by count^-{CLASS_WEIGHT}",
    notes="notes/surnames.md#the-choice",
)
PRETRAINED_NAMES = DEFAULT_NAMES.but(
    data_args={"val_split": 0.0, "test_split": 0.0},
    estimate_with={"test_split": 0.1},
    note="for the shipped weights: the default recipe on every row; a twin holding 10 % out is tested",
    notes="notes/names.md#training-on-every-row",
)


@register_model(
    "gru_names",
    task=ClassificationTask,
    output_shape=(len(NAMES_COUNTRIES),),
    num_params=318_818,
    datamodule="names",
    inputs=Surnames(examples=("Nguyen", "Schmidt", "Dubois")),
    tutorial="002",
    section="advanced RNN: classifying surnames by country, lines 1392-1640",
    tutorial_result="not given (100 epochs, accuracy per epoch plotted)",
    labels=NAMES_COUNTRIES,
    recipes={"tutorial": TUTORIAL_NAMES, "default": DEFAULT_NAMES, "pretrained": PRETRAINED_NAMES},
)
class RNNClassifier(nn.Module):
    """Embedding(128,100) -> bidirectional GRU(100,100, 2 layers) over packed padded ASCII ids
    -> Linear(200,18) on the last layer's two final states.

    Tutorial 002, lines 1392-1640. Batch first here (the tutorial transposes to time first),
    and names need not come sorted by length (`enforce_sorted=False`).
    """

    def __init__(
        self,
        input_size: int = ASCII_SIZE,
        hidden_size: int = HIDDEN_SIZE,
        num_classes: int = len(NAMES_COUNTRIES),
        n_layers: int = N_LAYER,
        bidirectional: bool = True,
    ) -> None:
        super().__init__()
        self.n_directions = 2 if bidirectional else 1
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, n_layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(hidden_size * self.n_directions, num_classes)

    def forward(self, inputs: Tensor, seq_lengths: Tensor) -> Tensor:
        embedding = self.embedding(inputs)  # N x L -> N x L x 100
        gru_input = pack_padded_sequence(embedding, seq_lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, hidden = self.gru(gru_input)  # hidden: (2 layers x 2 directions) x N x 100
        if self.n_directions == 2:
            hidden_cat = torch.cat([hidden[-1], hidden[-2]], dim=1)  # N x 200
        else:
            hidden_cat = hidden[-1]  # N x 100
        return self.fc(hidden_cat)  # N x 18
