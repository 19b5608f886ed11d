"""Callbacks `zoo fit` adds: a progress bar that stays off the training step, the tutorials'
habit of looking at the data in TensorBoard (004), no validation loop without validation data,
and a classifier's confusion matrix, and each class's recall against its ceiling, after testing."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar, TQDMProgressBar
from lightning.pytorch.loggers import TensorBoardLogger

from zoo.datamodules.base import TensorDataModule, lacks_split
from zoo.files import atomic_write
from zoo.metrics import class_metrics
from zoo.notice import notice
from zoo.tasks import ClassificationTask, LanguageModelTask


class TimedProgressBar(TQDMProgressBar):
    """Lightning's tqdm bar, redrawn during training at most four times a second instead of
    every N steps; each step only moves its count, and the epoch's end draws its last state.

    A redraw costs about a millisecond: at every step of a 2 ms MNIST step that is half the
    step again, and every 10 steps it was most of zoo's cost over a bare Trainer (see the
    benchmark's `overhead` section)."""

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__()
        self.interval = interval
        self.drawn_at = 0.0

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        bar = self.train_progress_bar
        bar.n = batch_idx + 1
        clock = time.monotonic()
        if clock - self.drawn_at < self.interval or (bar.total is not None and bar.n >= bar.total):
            return
        self.drawn_at = clock
        bar.set_postfix(self.get_metrics(trainer, pl_module))


    def get_metrics(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule
    ) -> dict[str, int | str | float | dict[str, float]]:
        """The bar's metrics without Lightning's `v_num`: zoo names the run folder itself."""
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics


class EpochLines(ProgressBar):
    """Progress for a file rather than a terminal (CI, nohup, a scheduler's log): one plain line
    per epoch with its metrics and seconds, no redrawn frames and no escape codes."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True
        self.started = 0.0

    def disable(self) -> None:
        self.enabled = False

    def enable(self) -> None:
        self.enabled = True

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.started = time.monotonic()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not (self.enabled and trainer.is_global_zero):
            return
        metrics = self.get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        epochs = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else None
        print(epoch_line(trainer.current_epoch + 1, epochs, metrics, time.monotonic() - self.started),
              file=sys.stderr, flush=True)


def epoch_line(epoch: int, epochs: int | None, metrics: Mapping[str, object], seconds: float) -> str:
    """Four significant digits with trailing zeros kept, so one column's figures line up epoch
    after epoch (0.9600 above 0.9625, not 0.96)."""
    shown = "  ".join(f"{k} {v:#.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in sorted(metrics.items()))
    return f"epoch {epoch}{f'/{epochs}' if epochs else ''}  {shown}  {seconds:.1f} s"


class EpochMetrics(pl.Callback):
    """Each epoch's metrics, kept in `rows` for a record of the run (`zoo weights build` writes
    them beside the weights): the mean training loss over the epoch's batches, then whatever
    validation logged. It only reads what training computed, so the run is the same without it."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, float]] = []
        """One per epoch: 'epoch' (from 1), 'train/loss', then any 'val/...' metrics."""
        self.losses: list[float] = []

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.losses = []

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self.losses.append(float(loss))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        row = {"epoch": trainer.current_epoch + 1, "train/loss": sum(self.losses) / max(len(self.losses), 1)}
        row |= {k: float(v) for k, v in sorted(trainer.callback_metrics.items()) if k.startswith("val/")}
        self.rows.append(row)


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


class LastCheckpoint(ModelCheckpoint):
    """`last.ckpt` at the end of every epoch, improved or not: what a run resumes from.

    Lightning 2.6's `save_last` writes it only in epochs that saved a best checkpoint (with
    "link", pointing at an older best otherwise), so a run stopped after epochs without
    improvement would resume from the old best and train them again. It saves in the folder
    of the run's other checkpoint callback."""

    def __init__(self) -> None:
        super().__init__(filename="last", monitor=None, save_top_k=1, enable_version_counter=False,
                         save_on_train_epoch_end=True)
        self.fixed_state_key = super().state_key

    @property
    def state_key(self) -> str:
        """ModelCheckpoint's key, made once: nothing it is made of changes after `__init__`, and
        Lightning makes it again (1.3 microseconds) at each of the six hook calls of every step."""
        return self.fixed_state_key

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        others = [c for c in trainer.checkpoint_callbacks if c is not self and isinstance(c, ModelCheckpoint)]
        if self.dirpath is None and others and others[0].dirpath:
            self.dirpath = others[0].dirpath
        super().setup(trainer, pl_module, stage)

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        """Nothing: `last.ckpt` is saved at epochs' ends only, and ModelCheckpoint's check whether
        a step is due for a checkpoint cost about 20 microseconds at every training step."""


class SizedToTheRun(pl.Callback):
    """Trainer settings that depend on the run's data, set once it is known.

    With an empty validation split (`val_split=0`: trained on train + validation), fitting runs
    no validation loop and keeps `last.ckpt` only (`LastCheckpoint`), said in one line, instead of
    Lightning warning that the loader is empty and that the monitored `val/loss` is missing.

    Unless the user gave `log_every_n_steps`, training metrics are logged often enough that a
    short run's step curve is a curve: every `total steps // 100` steps, at most every 50
    (Lightning's default) and at least every `SHORTEST_INTERVAL` (20). A logged step costs about
    a millisecond more than another (Lightning's bookkeeping of `self.log` and the logger's write;
    cProfile in the benchmark's `overhead` section): logged at every step, short runs paid 1.25 ms
    a step over a bare Trainer. Every 20 steps that is about 0.05 ms a step, and a 3-epoch run on
    the embedded digits (171 steps) still draws 8 points of its training loss where Lightning's 50
    gives 3. The interval is 1 until training starts, so Lightning's sizing of the data never
    warns about an interval longer than a short epoch.

    One callback for both: Lightning calls each callback's six step hooks at every training
    step, about 2.5 microseconds each on a 2-core machine, whether it overrides them or not."""

    SHORTEST_INTERVAL = 20
    LONGEST_INTERVAL = 50

    def __init__(self, paces_logging: bool) -> None:
        super().__init__()
        self.paces_logging = paces_logging

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.paces_logging:
            trainer.log_every_n_steps = 1  # type: ignore[attr-defined]
        if stage != "fit" or not lacks_split(trainer.datamodule, "val"):  # type: ignore[attr-defined]
            return
        trainer.limit_val_batches = 0
        monitored = [c for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint) and c.monitor]
        for callback in monitored:
            callback.save_top_k = 0
        kept = " and the final weights are kept as last.ckpt" if monitored else ""
        notice(f"no validation split: validation is off{kept}")

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.paces_logging:
            return
        steps = trainer.estimated_stepping_batches
        interval = self.LONGEST_INTERVAL if not math.isfinite(steps) else int(steps) // 100
        trainer.log_every_n_steps = min(max(interval, self.SHORTEST_INTERVAL), self.LONGEST_INTERVAL)  # type: ignore[attr-defined]


class ConfusionMatrixCallback(pl.Callback):
    """After testing a classifier, its confusion matrix over the test split: a PNG in the run's
    log folder (`confusion_matrix.png`) and an image in TensorBoard (`test/confusion_matrix`).

    Rows are the true labels, columns the predicted ones (torchmetrics' MulticlassConfusionMatrix,
    counts summed over every test batch and process); each row's label carries its recall, so a
    class the model never answers shows at a glance. `normalize=True` writes each row as fractions
    of its true samples, readable when the classes differ in size. A no-op for tasks other than
    classification and for networks with one output per sequence position. The counts come from
    the test step's outputs: the network runs once per batch.
    """

    FILE = "confusion_matrix.png"

    def __init__(self, normalize: bool = False) -> None:
        self.normalize = normalize
        self.matrix: Any = None
        self.path: Path | None = None

    def on_test_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.matrix = None
        if isinstance(pl_module, ClassificationTask) and not isinstance(pl_module, LanguageModelTask):
            from torchmetrics.classification import MulticlassConfusionMatrix

            self.matrix = MulticlassConfusionMatrix(pl_module.num_classes).to(pl_module.device)

    def on_test_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.matrix is None:
            return
        output = outputs["output"]
        if output.dim() != 2:  # one prediction per sequence position: no matrix for them
            self.matrix = None
            return
        self.matrix.update(output.argmax(dim=-1), outputs["target"])

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.matrix is None:
            return
        counts = self.matrix.compute().cpu()
        self.matrix = None
        # trainer.log_dir broadcasts across processes: every rank must ask, not rank 0 alone.
        folder = Path(trainer.log_dir or trainer.default_root_dir)
        if not trainer.is_global_zero:
            return
        labels = list(pl_module.labels)  # type: ignore[arg-type]
        figure = confusion_figure(counts, labels, self.normalize)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / self.FILE
        with atomic_write(self.path) as temporary:
            figure.savefig(temporary, dpi=100, bbox_inches="tight")
        logger = trainer.logger
        if isinstance(logger, TensorBoardLogger):
            logger.experiment.add_figure("test/confusion_matrix", figure, global_step=trainer.global_step)
        import matplotlib.pyplot as plt

        plt.close(figure)


class RecallCeilingCallback(pl.Callback):
    """After testing a classifier on data that can tell which test rows its training data labels
    otherwise (`TensorDataModule.test_label_conflicts`; the surnames): each class's recall beside
    its ceiling, the recall a model that follows its training labels can reach, and the scores
    on the rows without such a conflict. `lines` holds the table for the command to print.

    Rows are matched to the test outputs by their order, so it needs one process; on several
    it stays silent. A no-op for other data and tasks.
    """

    def __init__(self) -> None:
        self.conflicts: torch.Tensor | None = None
        self.predictions: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []
        self.lines: list[str] = []

    def on_test_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.conflicts, self.predictions, self.targets, self.lines = None, [], [], []
        data = trainer.datamodule  # type: ignore[attr-defined]
        classifier = isinstance(pl_module, ClassificationTask) and not isinstance(pl_module, LanguageModelTask)
        if classifier and isinstance(data, TensorDataModule) and trainer.world_size == 1:
            self.conflicts = data.test_label_conflicts()

    def on_test_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.conflicts is not None:
            self.predictions.append(outputs["output"].argmax(dim=-1).cpu())
            self.targets.append(outputs["target"].cpu())

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.conflicts is None or not self.targets:
            return
        labels = list(pl_module.labels)  # type: ignore[arg-type]
        self.lines = ceiling_table(torch.cat(self.predictions), torch.cat(self.targets), self.conflicts.cpu(), labels)
        self.predictions, self.targets = [], []


def ceiling_table(
    predicted: torch.Tensor, target: torch.Tensor, conflicts: torch.Tensor, labels: list[str]
) -> list[str]:
    """Per class: test rows, recall, ceiling (the share of its rows the training data does not
    label otherwise) and recall as a share of it; then the ceilings of accuracy and balanced
    accuracy, and the three scores on the conflict-free rows."""
    from torchmetrics.functional import confusion_matrix

    n = len(labels)
    rows = torch.bincount(target, minlength=n).double()
    capped = torch.bincount(target[conflicts], minlength=n).double()
    recall = class_recall(confusion_matrix(predicted, target, "multiclass", num_classes=n))
    ceiling = 1 - capped / rows
    width = max(map(len, labels))
    lines = [f"{int(conflicts.sum())} of {len(target)} test rows are labelled otherwise in the training data; "
             "each class's recall against its ceiling:",
             f"{'class':<{width}}  {'rows':>5}  recall  ceiling  share"]
    for label, count, r, c in zip(labels, rows.tolist(), recall.tolist(), ceiling.tolist(), strict=True):
        if count:
            lines.append(f"{label:<{width}}  {int(count):>5}  {r:6.3f}  {c:7.3f}  {percent(r / c) if c else '-':>5}")
    lines.append(f"ceiling: accuracy {1 - float(conflicts.double().mean()):.4f}, "
                 f"balanced accuracy {float(ceiling.nanmean()):.4f}")
    kept = ~conflicts
    scores = {name: float(metric(predicted[kept], target[kept])) for name, metric in class_metrics(n).items()}
    lines.append(f"on the {int(kept.sum())} conflict-free rows: accuracy {scores['acc']:.4f}, "
                 f"balanced accuracy {scores['bal_acc']:.4f}, macro F1 {scores['macro_f1']:.4f}")
    return lines


def class_recall(counts: torch.Tensor) -> torch.Tensor:
    """Each true class's recall from a confusion matrix (rows true): NaN for a class without samples."""
    counts = counts.double()
    return counts.diagonal() / counts.sum(dim=1)


def confusion_figure(counts: torch.Tensor, labels: list[str], normalize: bool = False) -> Any:
    """A matplotlib figure of a confusion matrix, each true label with its recall beside it, and
    its counts (or, with `normalize`, each row's fractions) written in the cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(labels)
    recall = class_recall(counts)
    shown = counts.double() / counts.sum(dim=1, keepdim=True).clamp(min=1) if normalize else counts
    size = min(max(4.0, 0.5 * n + 2), 14.0)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(shown.numpy(), cmap="Blues")
    axes.set_xticks(range(n), labels, rotation=90 if max(map(len, labels)) > 2 else 0)
    axes.set_yticks(range(n), [f"{label} ({percent(r)})" for label, r in zip(labels, recall.tolist(), strict=True)])
    axes.set_xlabel("predicted")
    axes.set_ylabel("true (recall)")
    balanced = recall.nanmean().item()
    axes.set_title(
        f"confusion matrix{', rows normalised' if normalize else ''} ({int(counts.sum())} test samples; "
        f"balanced accuracy {balanced:.3f})"
    )
    if n <= 30:
        top = float(shown.max()) or 1.0
        for (row, col), value in zip(torch.cartesian_prod(torch.arange(n), torch.arange(n)).tolist(),
                                     shown.flatten().tolist(), strict=True):
            axes.text(col, row, f"{value:.2f}" if normalize else str(int(value)), ha="center", va="center",
                      fontsize=8, color="white" if value > top / 2 else "black")
    return figure


def percent(fraction: float) -> str:
    return "-" if math.isnan(fraction) else f"{fraction:.0%}"
