"""What every section shares: settings, clocks, peak memory, targets, tables and CSV files."""

from __future__ import annotations

import contextlib
import csv
import gc
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

QUICK_SIZES = {"train": 256, "val": 64, "test": 256}
# The issue's own measurement used 5,000 training and 10,000 test digits: with full MNIST
# present, the splits are cut to these sizes; the embedded 5,000 digits are smaller anyway.
FULL_SIZES = {"train": 5000, "val": 500, "test": 10000}


@dataclass
class Settings:
    """The conditions of one benchmark run; every section reads them, none changes them."""

    device: torch.device
    models: list[str]
    repeats: int
    epochs: int
    quick: bool
    out: Path
    seed: int
    source: str
    sizes: dict[str, int] = field(default_factory=lambda: dict(FULL_SIZES))

    @property
    def threads(self) -> int:
        return torch.get_num_threads()

    def tag(self) -> str:
        """The conditions a result file's name records, e.g. 'cpu-torch2.14.1-t2'."""
        version = torch.__version__.split("+")[0]
        return f"{self.device.type}-torch{version}-t{self.threads}"

    def conditions(self) -> dict[str, Any]:
        import lightning

        cuda = self.device.type == "cuda"
        return {
            "device": str(self.device),
            "device_name": torch.cuda.get_device_name(self.device) if cuda else cpu_name(),
            "threads": self.threads,
            "torch": torch.__version__,
            "lightning": lightning.__version__,
            "python": sys.version.split()[0],
            "repeats": self.repeats,
            "epochs_per_repeat": self.epochs,
            "seeds": f"{self.seed}..{self.seed + self.repeats - 1}",
            "quick": self.quick,
            "date": time.strftime("%Y-%m-%d %H:%M"),
        }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def now(device: torch.device) -> float:
    """Wall-clock seconds after the device has finished the work queued so far."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def alternate(items: Sequence[Any], repeat: int) -> list[Any]:
    """The items rotated by the repeat number, so no side always runs first (A/B, B/A, ...)."""
    shift = repeat % len(items)
    return [*items[shift:], *items[:shift]]


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else math.nan


class PeakMemory:
    """Peak memory during a span, in MB: on a GPU the allocator's peak of live tensors; on a CPU
    the process's peak resident set (Linux VmHWM, reset through /proc/self/clear_refs), which
    includes the interpreter, torch and the loaded digits. NaN where it cannot be read."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.mb = math.nan

    def __enter__(self) -> PeakMemory:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            with contextlib.suppress(OSError):
                Path("/proc/self/clear_refs").write_text("5")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            self.mb = torch.cuda.max_memory_allocated(self.device) / 2**20
        else:
            self.mb = _proc_status_mb("VmHWM")


def _proc_status_mb(key: str) -> float:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return math.nan
    for line in lines:
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return math.nan


@dataclass
class Target:
    """One of the issue's targets with the figure this run measured for it."""

    section: str
    what: str
    model: str
    measured: float | None
    limit: float
    at_least: bool = False

    @property
    def passed(self) -> bool:
        if self.measured is None or math.isnan(self.measured):
            return False
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit

    def row(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "target": self.what,
            "model": self.model,
            "measured": self.measured,
            "limit": f"{'>=' if self.at_least else '<='} {fmt(self.limit)}",
            "result": "PASS" if self.passed else "MISS",
        }


@dataclass
class SectionResult:
    """A section's rows (one per measurement, the CSV's lines), the columns shown, its targets."""

    name: str
    rows: list[dict[str, Any]]
    shown: list[str]
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: dict[str, tuple[list[dict[str, Any]], list[str]]] = field(default_factory=dict)
    """Further tables by name: their rows and the columns shown."""


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


def format_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(r[i]) for r in [columns, *cells]) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [columns, *cells]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path
