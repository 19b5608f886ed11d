"""`zoo show` and `zoo plot`: the tutorials' habits of printing a network with its named
parameters (000) and plotting accuracy per epoch with matplotlib (002)."""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.errors import ZooError
from zoo.registry import build_net


def show_command(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="zoo show", description="Print a model and its parameters.")
    parser.add_argument("name", help="a registered model name (see zoo list)")
    args = parser.parse_args(argv)
    net = build_net(args.name)
    print(net)
    total = 0
    for name, parameter in net.named_parameters():
        total += parameter.numel()
        print(f"{name:40s} {tuple(parameter.shape)!s:20s} {parameter.numel():>10,}")
    print(f"{'total':40s} {'':20s} {total:>10,}")


def read_scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in a run's TensorBoard event files, as (step, value) pairs."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = sorted(log_dir.glob("events.out.tfevents.*"))
    if not files:
        raise ZooError(f"no TensorBoard event files in {str(log_dir)!r}; pass a run's log folder "
                       "(zoo fit prints it as 'logs: ...')")
    scalars: dict[str, list[tuple[int, float]]] = {}
    for file in files:
        events = EventAccumulator(str(file))
        events.Reload()
        for tag in events.Tags()["scalars"]:
            scalars.setdefault(tag, []).extend((e.step, e.value) for e in events.Scalars(tag))
    return scalars


def plot_command(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="zoo plot", description="Plot a metric per epoch of a run.")
    parser.add_argument("log_dir", type=Path, help="a run's log folder, e.g. runs/cnn_mnist/lightning_logs/version_0")
    parser.add_argument("--metric", default="val/acc", help="the scalar to plot (default val/acc)")
    parser.add_argument("--out", type=Path, help="image file to write (default: in the log folder)")
    args = parser.parse_args(argv)
    scalars = read_scalars(args.log_dir)
    if args.metric not in scalars:
        raise ZooError(f"no metric {args.metric!r} in {str(args.log_dir)!r}; choose one of: "
                       + ", ".join(sorted(scalars)))
    epoch_at_step = dict(scalars.get("epoch", []))
    points = sorted((epoch_at_step.get(step, step) + 1, value) for step, value in scalars[args.metric])

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot([p[0] for p in points], [p[1] for p in points], marker="o")
    axes.set_xlabel("epoch" if epoch_at_step else "step")
    axes.set_ylabel(args.metric)
    axes.grid(True)
    out = args.out or args.log_dir / (args.metric.replace("/", "_") + ".png")
    figure.savefig(out, dpi=100, bbox_inches="tight")
    for epoch, value in points:
        print(f"epoch {epoch:g}: {args.metric} {value:.4f}")
    print(f"zoo: plot saved to {out}")
