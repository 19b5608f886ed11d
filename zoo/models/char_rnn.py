"""The tutorial's text-writing network (002 lines 1650-1660) as a character model of Shakespeare."""

from typing import Any

import torch
from torch import Tensor, nn

from zoo.errors import ZooError
from zoo.metrics import BitsPerCharacter
from zoo.recipes import Recipe
from zoo.registry import register_model
from zoo.tasks import ClassificationTask, check_same_labels
from zoo.text import CharVocab

SHAKESPEARE_VOCAB = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
"""The 65 characters of shakespeare.txt.gz, sorted: the classes in the order the data gives them."""
EMBEDDING_SIZE = 64
HIDDEN_SIZE = 256
NUM_LAYERS = 1


@register_model(
    "char_rnn_shakespeare",
    input_shape=(None,),
    output_shape=(None, len(SHAKESPEARE_VOCAB)),
    num_params=268_161,
    datamodule="shakespeare",
    tutorial="002 lines 1650-1660 describe, without code, a network that writes a poem from "
    "its first character: each character in, the next one out, fed back in until done. Here: "
    "Embedding(65,64) -> GRU(64,256) -> Linear(256,65) over Tiny Shakespeare",
    tutorial_result="none (no code or figures in the tutorial)",
    recipes={
        "tutorial": Recipe(
            optimizer="adam", lr=1e-3, batch_size=256, max_epochs=10,
            note="our reading: the names tutorial's Adam 1e-3 and batch 256 (no recipe is given)",
        ),
        "default": Recipe(
            optimizer="adam", lr=6e-3, scheduler="cosine", batch_size=64, max_epochs=10,
            note="best of 5 runs of 10 epochs (1 seed): val 2.12 bpc; constant lr 3e-3 2.14, "
            "6e-3 2.17; a GRU of width 384 2.12 in 45 % more time. ~2.5 min on 2 idle cores",
        ),
    },
)
class CharRNNShakespeare(ClassificationTask):
    """Next-character logits (B, L, V) for ids (B, L); `vocab` is kept in the checkpoint.

    Validation and test also report bits per character (`val/bpc`, `test/bpc`).
    """

    def __init__(self, vocab: str = SHAKESPEARE_VOCAB, **task: Any) -> None:
        self.num_classes = len(CharVocab(vocab))
        super().__init__(**task)
        self.embedding = nn.Embedding(self.num_classes, EMBEDDING_SIZE)
        self.rnn = nn.GRU(EMBEDDING_SIZE, HIDDEN_SIZE, NUM_LAYERS, batch_first=True)
        self.fc = nn.Linear(HIDDEN_SIZE, self.num_classes)

    def step(self, ids: Tensor, hidden: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Logits for every position of `ids` and the state to carry on from."""
        out, hidden = self.rnn(self.embedding(ids), hidden)
        return self.fc(out), hidden

    def forward(self, ids: Tensor) -> Tensor:
        return self.step(ids)[0]

    def make_metrics(self) -> dict[str, Any]:
        return {**super().make_metrics(), "bpc": BitsPerCharacter()}

    def setup(self, stage: str) -> None:
        super().setup(stage)
        check_same_labels(self, "vocab")

    def sample(
        self,
        prompt: str = "\n",
        length: int = 300,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> str:
        """`length` characters written after `prompt`, each drawn from softmax(logits / T).

        Lower temperatures write more probable, more repetitive text. The same seed gives the same
        text; no seed draws a fresh one.
        """
        if not prompt:
            raise ZooError("the prompt is empty; give at least one character, e.g. 'ROMEO:'")
        if length < 0:
            raise ZooError(f"length must be 0 or more, got {length}")
        if temperature <= 0:
            raise ZooError(f"temperature must be positive, got {temperature}; try 0.8")
        vocab = CharVocab(self.hparams["vocab"])
        ids = vocab.encode(prompt, what="prompt").to(self.device)
        generator = torch.Generator(device=self.device)
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        written: list[int] = []
        with torch.no_grad():
            logits, hidden = self.step(ids.unsqueeze(0))
            for _ in range(length):
                probs = (logits[0, -1] / temperature).softmax(dim=-1)
                next_id = torch.multinomial(probs, 1, generator=generator)
                written.append(int(next_id))
                logits, hidden = self.step(next_id.view(1, 1), hidden)
        return vocab.decode(written)

    def example_batch(self, batch_size: int = 2) -> tuple[Tensor, ...]:
        ids = torch.randint(0, self.num_classes, (batch_size, 6))
        return ids[:, :-1], ids[:, 1:]
