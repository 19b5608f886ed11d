"""The documentation site's pictures (`python -m tools.docs` calls these): confusion matrices by
zoo's own callback, example inputs of each dataset (a grid of images, points, histograms,
tables and passages of text), and the benchmark's CSVs as plots."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

DPI = 72
CHARACTER_WIDTH = 0.0135
"""About one character's width at font size 9, as a fraction of an 8-inch-wide table."""
SIDES = {"tutorial loop": "tab:orange", "tutorial": "tab:orange", "zoo": "tab:blue"}


def save(figure: Any, path: Path) -> None:
    figure.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)


def confusion_matrix(model: Any, datamodule: Any, path: Path) -> None:
    """Test `model` as `zoo test` does and keep the PNG its ConfusionMatrixCallback draws."""
    import lightning.pytorch as pl

    from zoo.callbacks import ConfusionMatrixCallback

    callback = ConfusionMatrixCallback()
    with tempfile.TemporaryDirectory() as folder:
        trainer = pl.Trainer(callbacks=[callback], logger=False, default_root_dir=folder, accelerator="cpu",
                             enable_progress_bar=False, enable_model_summary=False)
        trainer.test(model, datamodule=datamodule, verbose=False)
        assert callback.path is not None, "the callback drew no matrix"
        shutil.copyfile(callback.path, path)


def grid(datamodule: Any, path: Path, count: int = 32) -> None:
    """The first `count` test inputs of an image datamodule, each titled with its label."""
    datamodule.setup("test")
    inputs, labels = next(iter(datamodule.test_dataloader()))
    columns = 8
    figure, axes = plt.subplots(count // columns, columns, figsize=(columns, count // columns + 0.4))
    for axis, image, label in zip(axes.flat, inputs[:count], labels[:count].tolist(), strict=True):
        axis.imshow(image.permute(1, 2, 0).squeeze(-1).cpu().numpy(), cmap="gray")
        axis.set_title(str(label), fontsize=9)
        axis.axis("off")
    save(figure, path)


def points(x: Any, y: Any, axes_names: tuple[str, str], title: str, path: Path) -> None:
    """A toy set's points, each marked."""
    figure, axis = plt.subplots(figsize=(4, 3))
    axis.scatter(x.flatten().tolist(), y.flatten().tolist(), color="tab:blue")
    axis.set_xlabel(axes_names[0])
    axis.set_ylabel(axes_names[1])
    axis.set_title(title, fontsize=10)
    axis.grid(alpha=0.3)
    save(figure, path)


def feature_histograms(features: Any, labels: Any, title: str, path: Path) -> None:
    """Each feature's values, one histogram per label, in a panel per feature."""
    columns = 4
    count = features.shape[1]
    figure, axes = plt.subplots(-(-count // columns), columns, figsize=(9, 4.2), squeeze=False)
    for index, axis in enumerate(axes.flat[:count]):
        for value, color in ((0, "tab:blue"), (1, "tab:orange")):
            axis.hist(features[labels[:, 0] == value, index].tolist(), bins=20, range=(-1, 1), alpha=0.6,
                      color=color, label=f"label {value}")
        axis.set_title(f"feature {index + 1}", fontsize=9)
        axis.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    save(figure, path)


def text_table(header: list[str], rows: list[list[str]], title: str, path: Path) -> None:
    """Rows of text drawn as a table."""
    figure, axis = plt.subplots(figsize=(8, 0.22 * (len(rows) + 1)))
    axis.axis("off")
    widths = [CHARACTER_WIDTH * (2 + max(len(text) for text in column)) for column in zip(header, *rows, strict=True)]
    drawn = axis.table(cellText=rows, colLabels=header, colWidths=widths, loc="upper left", cellLoc="left")
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(9)
    for cell in drawn.get_celld().values():
        cell.PAD = CHARACTER_WIDTH / cell.get_width()  # one character's space before the text
    axis.set_title(title, fontsize=10, loc="left")
    save(figure, path)


def text_block(text: str, title: str, path: Path) -> None:
    """A passage of text as it is, in a fixed-width font."""
    lines = text.splitlines()
    figure, axis = plt.subplots(figsize=(7, 0.2 * len(lines) + 0.6))
    axis.axis("off")
    axis.text(0, 1, text, family="monospace", fontsize=9, va="top", transform=axis.transAxes)
    axis.set_title(title, fontsize=10, loc="left")
    save(figure, path)


def accuracies(row: dict[str, str]) -> list[float]:
    return [float(a) for a in row["acc_per_epoch"].split()]


def label(row: dict[str, str]) -> str:
    return f"{row['side']}, {row['recipe'].split(':')[0]}" if "side" in row else row["recipe"].split(":")[0]


def curves(rows: Iterable[dict[str, str]], title: str, path: Path) -> None:
    """Test accuracy after every epoch of each benchmark run."""
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for row in rows:
        values = accuracies(row)
        axis.plot(range(1, len(values) + 1), values, marker=".", label=label(row),
                  color=SIDES.get(row.get("side", "zoo")), linestyle="-" if "default" in row["recipe"] else "--")
    axis.set_xlabel("epoch")
    axis.set_ylabel("test accuracy")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    save(figure, path)


def training_curve(epochs: list[dict[str, float]], title: str, path: Path) -> None:
    """A training run's losses after every epoch (log scale) and, beside them, any other
    validation metric."""
    losses = [k for k in epochs[0] if k.endswith("/loss")]
    others = [k for k in epochs[0] if k != "epoch" and k not in losses]
    figure, axes = plt.subplots(1, 2 if others else 1, figsize=(9 if others else 5, 3.2), squeeze=False)
    x = [row["epoch"] for row in epochs]
    for axis, keys in zip(axes.flat, (losses, others), strict=False):
        for key in keys:
            axis.plot(x, [row[key] for row in epochs], marker="." if len(x) <= 60 else None, label=key)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    axes.flat[0].set_yscale("log")
    axes.flat[0].set_ylabel("loss")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    save(figure, path)


def epoch_times(rows: list[dict[str, str]], condition: str, path: Path) -> None:
    """Seconds per epoch (training and test) of the tutorial's loop and of zoo, per model."""
    models = sorted({r["model"] for r in rows})
    figure, axis = plt.subplots(figsize=(6, 3.5))
    width = 0.4
    for offset, side in enumerate(("tutorial", "zoo")):
        seconds = [float(next(r for r in rows if r["model"] == m and r["side"] == side)["total_s"]) for m in models]
        axis.bar([i + (offset - 0.5) * width for i in range(len(models))], seconds, width, label=side,
                 color=SIDES[side])
    axis.set_xticks(range(len(models)), models, rotation=30, ha="right")
    axis.set_ylabel("seconds per epoch")
    axis.set_title(f"one epoch, same recipe ({condition})")
    axis.legend()
    save(figure, path)


def time_to_accuracy(rows: list[dict[str, str]], condition: str, path: Path) -> None:
    """Test accuracy against seconds into the run, epochs spread evenly over the run's seconds,
    with the tutorial's final accuracy (the goal) as a line."""
    timed = [r for r in rows if r["acc_per_epoch"] and r["total_s"]]
    models = sorted({r["model"] for r in timed})
    columns = 3
    figure, axes = plt.subplots(-(-len(models) // columns), columns, figsize=(9, 5), squeeze=False)
    for axis, model in zip(axes.flat, models, strict=False):
        for row in (r for r in timed if r["model"] == model):
            values = accuracies(row)
            step = float(row["total_s"]) / len(values)
            axis.plot([step * (i + 1) for i in range(len(values))], values, marker=".", label=label(row),
                      color=SIDES[row["side"]], linestyle="-" if "default" in row["recipe"] else "--")
        axis.axhline(float(next(r for r in timed if r["model"] == model)["goal_acc"]), color="grey", lw=0.8)
        axis.set_title(model, fontsize=9)
        axis.set_ylim(0.8, 1.0)
        axis.grid(alpha=0.3)
    for axis in axes.flat[len(models):]:
        axis.axis("off")
    axes.flat[0].legend(fontsize=7)
    figure.supxlabel("seconds into the run")
    figure.supylabel("test accuracy")
    figure.suptitle(f"time to accuracy ({condition}); grey: the tutorial loop's final accuracy")
    figure.tight_layout()
    save(figure, path)
