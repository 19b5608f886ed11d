"""Tutorial 002's "hello" -> "ohlol" networks: each reads a word and writes one logit vector
per character (lines 1150-1390)."""

import torch
from torch import Tensor, nn

from zoo.inputs import Characters
from zoo.recipes import Recipe
from zoo.registry import register_model
from zoo.tasks import ClassificationTask
from zoo.text import HELLO_INPUT, HELLO_VOCAB

VOCAB_SIZE = len(HELLO_VOCAB)
LABELS = tuple(HELLO_VOCAB.chars)


def hello_recipe(lr: float, note: str, epochs: int = 15) -> Recipe:
    """The tutorials' loop: Adam, one step per epoch on the single sequence (15 epochs)."""
    return Recipe(optimizer="adam", lr=lr, batch_size=1, max_epochs=epochs, note=note)


ONE_HOT_DEFAULT = hello_recipe(
    0.1, "AdamW, weight decay 1.0: 'ohlol' from 40 of 40 seeded inits, where Adam leaves some stuck", epochs=30
).but(optimizer="adamw", weight_decay=1.0, notes="notes/hello.md")


@register_model(
    "rnncell_hello",
    task=ClassificationTask,
    output_shape=(None, VOCAB_SIZE),
    num_params=40,
    datamodule="hello",
    inputs=Characters(HELLO_VOCAB.chars, one_hot=True, examples=(HELLO_INPUT,)),
    datamodule_args={"one_hot": True},
    tutorial="002",
    section="RNN: RNNCell over 'hello', lines 1150-1245",
    tutorial_result='predicts "ohlol"',
    labels=LABELS,
    recipes={"tutorial": hello_recipe(0.1, "002 lines 1230-1245"), "default": ONE_HOT_DEFAULT},
)
class RNNCellModel(nn.Module):
    """RNNCell(4,4) stepped by hand over one-hot characters; each hidden state is the output.

    Tutorial 002, lines 1150-1245. The tutorial calls the cell once per character from its
    training loop and sums the per-character losses; here `forward` runs that loop over the
    whole word so the task scores every character at once (it averages the losses: Adam's
    steps do not depend on that scale).
    """

    def __init__(self, input_size: int = VOCAB_SIZE, hidden_size: int = VOCAB_SIZE) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.rnncell = nn.RNNCell(input_size=input_size, hidden_size=hidden_size)

    def forward(self, inputs: Tensor) -> Tensor:
        hidden = inputs.new_zeros(inputs.shape[0], self.hidden_size)  # N x 4
        outputs = []
        for x in inputs.unbind(dim=1):  # each N x 4, one character
            hidden = self.rnncell(x, hidden)  # N x 4
            outputs.append(hidden)
        return torch.stack(outputs, dim=1)  # N x L x 4


@register_model(
    "rnn_hello",
    task=ClassificationTask,
    output_shape=(None, VOCAB_SIZE),
    num_params=40,
    datamodule="hello",
    inputs=Characters(HELLO_VOCAB.chars, one_hot=True, examples=(HELLO_INPUT,)),
    datamodule_args={"one_hot": True},
    tutorial="002",
    section="RNN: nn.RNN over 'hello', lines 1250-1290",
    tutorial_result='predicts "ohlol"',
    labels=LABELS,
    recipes={"tutorial": hello_recipe(0.05, "002 lines 1275-1290"), "default": ONE_HOT_DEFAULT},
)
class RNNModel(nn.Module):
    """RNN(4,4, 1 layer) over one-hot characters; its outputs are the logits.

    Tutorial 002, lines 1250-1290 (batch first here, where the tutorial puts time first).
    """

    def __init__(self, input_size: int = VOCAB_SIZE, hidden_size: int = VOCAB_SIZE, num_layers: int = 1) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, batch_first=True)

    def forward(self, inputs: Tensor) -> Tensor:
        out, _ = self.rnn(inputs)  # N x L x 4 -> N x L x 4
        return out


@register_model(
    "embedding_rnn_hello",
    task=ClassificationTask,
    output_shape=(None, VOCAB_SIZE),
    num_params=380,
    datamodule="hello",
    inputs=Characters(HELLO_VOCAB.chars, examples=(HELLO_INPUT,)),
    tutorial="002",
    section="RNN with an embedding layer, lines 1300-1370",
    tutorial_result='predicts "ohlol"',
    labels=LABELS,
    recipes={
        "tutorial": hello_recipe(0.05, "002 lines 1355-1370"),
        "default": hello_recipe(0.05, "the tutorial's: 'ohlol' from 40 of 40 seeded inits").but(
            notes="notes/small-models.md#the-hello-rnns"),
    },
)
class EmbeddingRNNModel(nn.Module):
    """Embedding(4,10) -> RNN(10,8, 2 layers, batch_first) -> Linear(8,4) over character ids.

    Tutorial 002, lines 1300-1370.
    """

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(VOCAB_SIZE, 10)
        self.rnn = nn.RNN(input_size=10, hidden_size=8, num_layers=2, batch_first=True)
        self.fc = nn.Linear(8, VOCAB_SIZE)

    def forward(self, x: Tensor) -> Tensor:
        x = self.emb(x)  # N x L -> N x L x 10
        x, _ = self.rnn(x)  # N x L x 8
        return self.fc(x)  # N x L x 4


BETTER_RNN_TUTORIAL = hello_recipe(
    0.05, "embedding_rnn_hello's loop (002 lines 1355-1370); the tutorial gives none for this net"
)
BETTER_RNN_DEFAULT = hello_recipe(0.1, "'ohlol' from 40 of 40 seeded inits", epochs=30).but(
    notes="notes/small-models.md#the-hello-rnns")


@register_model(
    "lstm_hello",
    task=ClassificationTask,
    output_shape=(None, VOCAB_SIZE),
    num_params=1_292,
    datamodule="hello",
    inputs=Characters(HELLO_VOCAB.chars, examples=(HELLO_INPUT,)),
    tutorial="002",
    section="better RNNs: LSTM, named at lines 1375-1390 without code",
    tutorial_result="none (no code in the tutorial)",
    labels=LABELS,
    recipes={"tutorial": BETTER_RNN_TUTORIAL, "default": BETTER_RNN_DEFAULT},
)
class EmbeddingLSTMModel(nn.Module):
    """Embedding(4,10) -> LSTM(10,8, 2 layers, batch_first) -> Linear(8,4).

    Tutorial 002 names the LSTM as a better RNN (lines 1375-1390) without code; this is the
    embedding model of lines 1300-1370 with its RNN swapped for an LSTM.
    """

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(VOCAB_SIZE, 10)
        self.lstm = nn.LSTM(input_size=10, hidden_size=8, num_layers=2, batch_first=True)
        self.fc = nn.Linear(8, VOCAB_SIZE)

    def forward(self, x: Tensor) -> Tensor:
        x = self.emb(x)  # N x L -> N x L x 10
        x, _ = self.lstm(x)  # N x L x 8
        return self.fc(x)  # N x L x 4


@register_model(
    "gru_hello",
    task=ClassificationTask,
    output_shape=(None, VOCAB_SIZE),
    num_params=988,
    datamodule="hello",
    inputs=Characters(HELLO_VOCAB.chars, examples=(HELLO_INPUT,)),
    tutorial="002",
    section="better RNNs: GRU, named at lines 1375-1390 without code",
    tutorial_result="none (no code in the tutorial)",
    labels=LABELS,
    recipes={"tutorial": BETTER_RNN_TUTORIAL, "default": BETTER_RNN_DEFAULT},
)
class EmbeddingGRUModel(nn.Module):
    """Embedding(4,10) -> GRU(10,8, 2 layers, batch_first) -> Linear(8,4).

    Tutorial 002 names the GRU as a better RNN (lines 1375-1390) without code; this is the
    embedding model of lines 1300-1370 with its RNN swapped for a GRU.
    """

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(VOCAB_SIZE, 10)
        self.gru = nn.GRU(input_size=10, hidden_size=8, num_layers=2, batch_first=True)
        self.fc = nn.Linear(8, VOCAB_SIZE)

    def forward(self, x: Tensor) -> Tensor:
        x = self.emb(x)  # N x L -> N x L x 10
        x, _ = self.gru(x)  # N x L x 8
        return self.fc(x)  # N x L x 4
