"""`zoo show` and `zoo plot`: the tutorials' habits of printing a network with its named
parameters (000) and plotting accuracy per epoch with matplotlib (002)."""

from __future__ import annotations

from pathlib import Path

from zoo.building import build_net
from zoo.cli.listing import check_indexed
from zoo.cli.parse_errors import OneLineParser, add_overwrite_argument
from zoo.errors import ZooError
from zoo.files import atomic_write


def show_command(argv: list[str]) -> None:
    parser = OneLineParser(prog="zoo show", description="Print a model and its parameters.")
    parser.add_argument("name", help="a registered model name (see zoo list)")
    args = parser.parse_args(argv)
    check_indexed("model", args.name)
    net = build_net(args.name)
    print(net)
    total = 0
    for name, parameter in net.named_parameters():
        total += parameter.numel()
        print(f"{name:40s} {tuple(parameter.shape)!s:20s} {parameter.numel():>10,}")
    print(f"{'total':40s} {'':20s} {total:>10,}")


def event_files(log_dir: Path) -> list[Path]:
    """A run's TensorBoard event files."""
    return sorted(log_dir.glob("events.out.tfevents.*"))


def read_scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in a run's TensorBoard event files, as (step, value) pairs."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = event_files(log_dir)
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


EPOCH_PREFIXES = ("val/", "test/")


def is_epoch_metric(tag: str) -> bool:
    """Validation and test metrics (and any logged `..._epoch`) come once per epoch."""
    return tag.startswith(EPOCH_PREFIXES) or tag.endswith("_epoch")


def metric_points(scalars: dict[str, list[tuple[int, float]]], metric: str) -> tuple[str, list[tuple[float, float]]]:
    """('epoch' or 'step', sorted points): epoch-level metrics against whole epochs (1, 2, ...),
    step-level ones (train/loss) against the training step."""
    epoch_at_step = dict(scalars.get("epoch", []))
    if is_epoch_metric(metric) and epoch_at_step:
        return "epoch", sorted((epoch_at_step.get(step, step) + 1, value) for step, value in scalars[metric])
    return "step", sorted((step, value) for step, value in scalars[metric])


def check_image_format(out: Path, formats: dict[str, str]) -> None:
    """Refuse a file name whose suffix names no format matplotlib writes (`notes.txt`), before
    drawing; no suffix at all is matplotlib's default, PNG."""
    suffix = out.suffix.lower().removeprefix(".")
    if suffix and suffix not in formats:
        raise ZooError(f"--out {str(out)!r} names no image format matplotlib writes; pass --out ending in one "
                       f"of: {', '.join('.' + f for f in sorted(formats))}")


def plot_command(argv: list[str]) -> None:
    parser = OneLineParser(prog="zoo plot", description="Plot a metric of a run: per epoch "
                           "for val/* and test/*, per step for step-level ones such as train/loss.")
    parser.add_argument("log_dir", type=Path, help="a run's log folder, e.g. runs/cnn_mnist/lightning_logs/version_0")
    parser.add_argument("--metric", default="val/acc", help="the scalar to plot (default val/acc)")
    parser.add_argument("--out", type=Path, help="image file to write (default: in the log folder; "
                        "a missing folder is created)")
    add_overwrite_argument(parser)
    args = parser.parse_args(argv)
    scalars = read_scalars(args.log_dir)
    if args.metric not in scalars:
        raise ZooError(f"no metric {args.metric!r} in {str(args.log_dir)!r}; choose one of: "
                       + ", ".join(sorted(t for t in scalars if t != "epoch")))
    axis, points = metric_points(scalars, args.metric)
    out: Path = args.out or args.log_dir / (args.metric.replace("/", "_") + ".png")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ZooError(f"cannot create folder {str(out.parent)!r} for --out ({type(err).__name__}); "
                       "pass --out in a folder you can write") from None
    from zoo.files import output_path

    output_path(out, "--out", event_files(args.log_dir), args.overwrite)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.ticker import MaxNLocator

    check_image_format(out, FigureCanvasBase.get_supported_filetypes())

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot([p[0] for p in points], [p[1] for p in points], marker="o" if len(points) <= 50 else None)
    axes.set_xlabel(axis)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel(args.metric)
    axes.set_title(f"{args.metric} per {axis}: {args.log_dir.resolve().parent.parent.name}/{args.log_dir.name}")
    axes.grid(True)
    with atomic_write(out) as temporary:
        figure.savefig(temporary, dpi=100, bbox_inches="tight")
    plt.close(figure)
    for x, value in points:
        print(f"{axis} {x:g}: {args.metric} {value:.4f}")
    print(f"zoo: plot saved to {out}")
