"""Callbacks `zoo fit` adds: the tutorials' habit of looking at the data in TensorBoard (004)."""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.loggers import TensorBoardLogger


class LogSampleImages(pl.Callback):
    """Write a grid of the first validation images to TensorBoard once, when fitting starts.

    Skipped without a TensorBoard logger, without images (1 or 3 channels) in the validation
    split, or when that split is empty: a small folder can leave it so, and it is no error.
    """

    def __init__(self, count: int = 32) -> None:
        self.count = count

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        logger = trainer.logger
        splits = getattr(trainer.datamodule, "splits", {})  # type: ignore[attr-defined]
        if not isinstance(logger, TensorBoardLogger) or "val" not in splits:
            return
        images = splits["val"][0][: self.count]
        if images.ndim != 4 or images.shape[1] not in (1, 3) or len(images) == 0:
            return
        from torchvision.utils import make_grid

        grid = make_grid(images.float().cpu(), nrow=8, normalize=True)
        logger.experiment.add_image("val/samples", grid, global_step=0)
