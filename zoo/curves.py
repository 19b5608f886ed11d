"""The probability curve of a one-input binary model: P(class 1) over a range of inputs.

The logistic-regression tutorial plots P(pass) against hours studied and reads off where the
curve crosses 0.5; these functions compute that curve, the crossing, a table and the plot.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import torch
from torch import Tensor

from zoo.errors import ZooError
from zoo.files import atomic_write
from zoo.registry import MODELS


def probability_curve(
    model: pl.LightningModule, start: float = 0.0, stop: float = 10.0, points: int = 201
) -> tuple[Tensor, Tensor]:
    """Inputs evenly spaced over [start, stop] and the model's P(class 1) at each."""
    if points < 2 or stop <= start:
        raise ZooError(
            f"need stop > start and at least 2 points, got {start}..{stop} with {points}; "
            "pass e.g. start=0, stop=10, points=201"
        )
    name = getattr(model, "zoo_name", "")
    if name and MODELS.get(name).input_shape != (1,):
        raise ZooError(
            f"model {name!r} does not take one number per sample; "
            "use a one-input model such as logistic_regression"
        )
    xs = torch.linspace(start, stop, points)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        probs = model(xs.view(-1, 1).to(model.device)).reshape(-1).cpu()
    model.train(was_training)
    return xs, probs


def crossing(xs: Tensor, ys: Tensor, level: float = 0.5) -> float | None:
    """The first x where the curve reaches `level`, interpolated linearly; None if it never does."""
    above = ys >= level
    changes = (above[1:] != above[:-1]).nonzero()
    if len(changes) == 0:
        return None
    i = int(changes[0])
    x0, x1, y0, y1 = float(xs[i]), float(xs[i + 1]), float(ys[i]), float(ys[i + 1])
    return x0 + (level - y0) * (x1 - x0) / (y1 - y0)


def curve_table(xs: Tensor, ys: Tensor, step: float = 1.0, label: str = "x") -> str:
    """Rows `x  P` at every `step` of x (the nearest computed point), for printing."""
    rows = [f"{label:>6}  P(1)"]
    for mark in torch.arange(float(xs[0]), float(xs[-1]) + step / 2, step):
        i = int((xs - mark).abs().argmin())
        rows.append(f"{float(xs[i]):6.2f}  {float(ys[i]):.4f}")
    return "\n".join(rows)


def plot_curve(
    xs: Tensor,
    ys: Tensor,
    path: str | Path,
    xlabel: str = "Hours",
    ylabel: str = "Probability of Pass",
) -> Path:
    """Save the curve with the 0.5 line, as the tutorial draws it, to an image file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs.numpy(), ys.numpy())
    ax.plot([float(xs[0]), float(xs[-1])], [0.5, 0.5], c="r")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid()
    path = Path(path)
    with atomic_write(path) as temporary:
        fig.savefig(temporary, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
