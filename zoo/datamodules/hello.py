"""The RNN tutorial's toy task: read "hello", write "ohlol" (002 lines 1150-1370)."""

from __future__ import annotations

from torch import Tensor

from zoo.datamodules.base import TensorDataModule
from zoo.inputs import Characters
from zoo.registry import register_datamodule
from zoo.text import HELLO_INPUT, HELLO_TARGET, HELLO_VOCAB


@register_datamodule(
    "hello",
    description="the single sequence 'hello' -> 'ohlol' over e,h,l,o; train, val and test "
    "are that same sequence (the tutorial fits and checks it on itself)",
    source="built in (002 lines 1150-1370)",
)
class HelloDataModule(TensorDataModule):
    """One training sequence, so one optimiser step per epoch as in the tutorial's loop.

    Validation and test are the very same sequence: they show the fit, not generalisation.
    `one_hot=True` gives (1, 5, 4) float inputs for the RNNCell/RNN models, `False` gives
    (1, 5) character ids for the embedding models; targets are ids (1, 5) either way.
    """

    def __init__(self, one_hot: bool = False, batch_size: int = 1) -> None:
        super().__init__(batch_size=batch_size, eval_batch_size=1, val_split=0.0)
        self.one_hot = one_hot
        self.input_shape = (None, len(HELLO_VOCAB)) if one_hot else (None,)

    def load(self) -> dict[str, tuple[Tensor, ...]]:
        target = HELLO_VOCAB.encode(HELLO_TARGET).unsqueeze(0)
        (inputs,) = Characters(HELLO_VOCAB.chars, self.one_hot).tensors([HELLO_INPUT])
        pair = (inputs, target)
        return {split: pair for split in ("train", "val", "test")}
