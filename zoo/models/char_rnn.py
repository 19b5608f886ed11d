"""The text-writing network tutorial 002 describes (lines 1650-1660), as a character model."""

from torch import Tensor, nn

from zoo.inputs import Prompt
from zoo.recipes import Recipe
from zoo.registry import register_model
from zoo.tasks import LanguageModelTask

SHAKESPEARE_VOCAB = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
"""The 65 characters of shakespeare.txt.gz, sorted: the classes in the order the data gives them."""
EMBEDDING_SIZE = 64
HIDDEN_SIZE = 256
NUM_LAYERS = 1


@register_model(
    "char_rnn_shakespeare",
    task=LanguageModelTask,
    output_shape=(None, len(SHAKESPEARE_VOCAB)),
    num_params=268_161,
    datamodule="shakespeare",
    inputs=Prompt(SHAKESPEARE_VOCAB, examples=("ROMEO:",)),
    tutorial="002",
    section="the poem-writing network, described without code at lines 1650-1660",
    tutorial_result="none (no code or figures in the tutorial)",
    labels=tuple(SHAKESPEARE_VOCAB),
    recipes={
        "tutorial": Recipe(
            optimizer="adam", lr=1e-3, batch_size=256, max_epochs=10,
            note="our reading: the names tutorial's Adam 1e-3 and batch 256 (no recipe is given)",
            notes="notes/shakespeare.md",
        ),
        "default": Recipe(
            optimizer="adam", lr=6e-3, scheduler="cosine", batch_size=64, max_epochs=10,
            note="the best of 5 runs of 10 epochs: validation 2.12 bits per character",
            notes="notes/shakespeare.md",
        ),
    },
)
class CharRNN(nn.Module):
    """Embedding(65,64) -> GRU(64,256) -> Linear(256,65): each character in, the next one out.

    Tutorial 002 (lines 1650-1660) describes a network that writes a poem from its first
    character, feeding each output back in; it gives no code. `num_classes` is the vocabulary
    size, which is both what comes in and what comes out.
    """

    def __init__(self, num_classes: int = len(SHAKESPEARE_VOCAB)) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_classes, EMBEDDING_SIZE)
        self.rnn = nn.GRU(EMBEDDING_SIZE, HIDDEN_SIZE, NUM_LAYERS, batch_first=True)
        self.fc = nn.Linear(HIDDEN_SIZE, num_classes)

    def step(self, ids: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Logits for every position of `ids` and the state to carry on from (for writing)."""
        out, hidden = self.rnn(self.embedding(ids), hidden)  # N x L x 256
        return self.fc(out), hidden  # N x L x 65

    def forward(self, ids: Tensor) -> Tensor:
        return self.step(ids)[0]  # N x L -> N x L x 65
