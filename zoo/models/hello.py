"""The RNN tutorial's "hello" -> "ohlol" networks (002 lines 1150-1390): logits per character."""

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from zoo.datamodules.hello import HELLO_INPUT, HELLO_VOCAB, hello_inputs
from zoo.recipes import Recipe
from zoo.registry import register_model
from zoo.tasks import ClassificationTask

VOCAB_SIZE = len(HELLO_VOCAB)


def hello_recipe(lr: float, note: str, epochs: int = 15) -> Recipe:
    """The tutorials' loop: Adam, one step per epoch on the single sequence (15 epochs)."""
    return Recipe(optimizer="adam", lr=lr, batch_size=1, max_epochs=epochs, note=note)


ONE_HOT_DEFAULT = hello_recipe(
    0.1, "reaches 'ohlol' from 30 of 40 seeded inits (tutorial recipes: 28/40 at lr 0.1, 25/40 "
    "at 0.05); the other inits stay stuck even after 150 epochs", epochs=30
)


class HelloTagger(ClassificationTask):
    """Reads characters of e,h,l,o; gives logits (B, L, 4) per character, scored against (B, L)."""

    num_classes = VOCAB_SIZE
    one_hot = False
    """Whether the inputs are one-hot floats (B, L, 4) rather than character ids (B, L)."""

    def transduce(self, text: str = HELLO_INPUT) -> str:
        """The string the network writes for `text`, e.g. "ohlol" for "hello" once trained."""
        inputs = hello_inputs(text, self.one_hot).to(self.device)
        with torch.no_grad():
            logits = self(inputs)
        return HELLO_VOCAB.decode(logits.argmax(dim=-1)[0])

    def example_batch(self, batch_size: int = 2) -> tuple[Tensor, ...]:
        ids = torch.randint(0, VOCAB_SIZE, (batch_size, len(HELLO_INPUT)))
        inputs = nn.functional.one_hot(ids, VOCAB_SIZE).float() if self.one_hot else ids
        return inputs, torch.randint(0, VOCAB_SIZE, (batch_size, len(HELLO_INPUT)))


@register_model(
    "rnncell_hello",
    input_shape=(None, VOCAB_SIZE),
    output_shape=(None, VOCAB_SIZE),
    num_params=40,
    datamodule="hello",
    datamodule_args={"one_hot": True},
    tutorial="002 lines 1150-1245: RNNCell(4,4) stepped by hand over one-hot characters; "
    "the hidden state is the output (the tutorial sums the per-character losses, zoo averages "
    "them: Adam's steps do not depend on that scale)",
    tutorial_result='predicts "ohlol"',
    recipes={"tutorial": hello_recipe(0.1, "002 lines 1230-1245"), "default": ONE_HOT_DEFAULT},
)
class RNNCellHello(HelloTagger):
    one_hot = True

    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.rnncell = nn.RNNCell(input_size=VOCAB_SIZE, hidden_size=VOCAB_SIZE)

    def forward(self, x: Tensor) -> Tensor:
        hidden = x.new_zeros(x.shape[0], VOCAB_SIZE)
        outputs = []
        for step in x.unbind(dim=1):
            hidden = self.rnncell(step, hidden)
            outputs.append(hidden)
        return torch.stack(outputs, dim=1)


@register_model(
    "rnn_hello",
    input_shape=(None, VOCAB_SIZE),
    output_shape=(None, VOCAB_SIZE),
    num_params=40,
    datamodule="hello",
    datamodule_args={"one_hot": True},
    tutorial="002 lines 1250-1290: RNN(4,4, 1 layer) over one-hot characters; its outputs "
    "are the logits",
    tutorial_result='predicts "ohlol"',
    recipes={"tutorial": hello_recipe(0.05, "002 lines 1275-1290"), "default": ONE_HOT_DEFAULT},
)
class RNNHello(HelloTagger):
    one_hot = True

    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.rnn = nn.RNN(VOCAB_SIZE, hidden_size=VOCAB_SIZE, num_layers=1, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return out


@register_model(
    "embedding_rnn_hello",
    input_shape=(None,),
    output_shape=(None, VOCAB_SIZE),
    num_params=380,
    datamodule="hello",
    tutorial="002 lines 1300-1370: Embedding(4,10) -> RNN(10,8, 2 layers, batch_first) -> "
    "Linear(8,4) over character ids",
    tutorial_result='predicts "ohlol"',
    recipes={
        "tutorial": hello_recipe(0.05, "002 lines 1355-1370"),
        "default": hello_recipe(0.05, "the tutorial's: 'ohlol' from 40 of 40 seeded inits"),
    },
)
class EmbeddingRNNHello(HelloTagger):
    """Embedding(4,10) -> 2-layer recurrent net of width 8 -> Linear(8,4); `cell` picks the net."""

    cell: Callable[..., nn.RNNBase] = nn.RNN

    def __init__(self, **task: Any) -> None:
        super().__init__(**task)
        self.emb = nn.Embedding(VOCAB_SIZE, 10)
        self.rnn = self.cell(input_size=10, hidden_size=8, num_layers=2, batch_first=True)
        self.fc = nn.Linear(8, VOCAB_SIZE)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(self.emb(x))
        return self.fc(out)


BETTER_RNN_NOTE = (
    "002 lines 1375-1390 name {net} only as a better RNN, without code; built here in the "
    "embedding_rnn_hello style: Embedding(4,10) -> {net}(10,8, 2 layers, batch_first) -> "
    "Linear(8,4)"
)
BETTER_RNN_TUTORIAL = hello_recipe(
    0.05, "embedding_rnn_hello's loop (002 lines 1355-1370); the tutorial gives none for this net"
)
BETTER_RNN_DEFAULT = hello_recipe(0.1, "'ohlol' from 40 of 40 seeded inits", epochs=30)


@register_model(
    "lstm_hello",
    input_shape=(None,),
    output_shape=(None, VOCAB_SIZE),
    num_params=1_292,
    datamodule="hello",
    tutorial=BETTER_RNN_NOTE.format(net="LSTM"),
    tutorial_result="none (no code in the tutorial)",
    recipes={"tutorial": BETTER_RNN_TUTORIAL, "default": BETTER_RNN_DEFAULT},
)
class LSTMHello(EmbeddingRNNHello):
    cell = nn.LSTM


@register_model(
    "gru_hello",
    input_shape=(None,),
    output_shape=(None, VOCAB_SIZE),
    num_params=988,
    datamodule="hello",
    tutorial=BETTER_RNN_NOTE.format(net="GRU"),
    tutorial_result="none (no code in the tutorial)",
    recipes={"tutorial": BETTER_RNN_TUTORIAL, "default": BETTER_RNN_DEFAULT},
)
class GRUHello(EmbeddingRNNHello):
    cell = nn.GRU
