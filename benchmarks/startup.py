"""Start-up: what a person waits before a command does anything, against `python -c "import
torch"`: `zoo list`, `zoo --help`, a misspelt model (refused from the saved index), `zoo predict`
on one drawn digit, and `zoo serve --model cnn_mnist` until it answers its first request. Each
is a fresh process (`python -m zoo`, which is what the `zoo` script runs), alternated, after one
untimed run each."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.common import SectionResult, Settings, Target, alternate, median
from benchmarks.serve import digit_body, post, zoo_serve

NAME = "startup"
LIMIT = 1.5
MISSPELT_LIMIT_S = 1.0
BASELINE = "python -c 'import torch'"
LIST = "zoo list"
MISSPELT = "zoo fit --model cnn_mnsit (misspelt)"
PREDICT = "zoo predict --model cnn_mnist seven.png"
SERVE = "zoo serve --model cnn_mnist, to its first answer"
COMMANDS: dict[str, tuple[list[str], int]] = {
    BASELINE: (["-c", "import torch"], 0),
    LIST: (["-m", "zoo", "list"], 0),
    "zoo --help": (["-m", "zoo", "--help"], 0),
    MISSPELT: (["-m", "zoo", "fit", "--model", "cnn_mnsit"], 2),
    PREDICT: (["-m", "zoo", "predict", "--model", "cnn_mnist", "seven.png"], 0),
}
"""Each command's arguments to Python and the exit code it must end with."""
MIN_REPEATS = 5
SHOWN = ["command", "median_s", "min_s", "max_s", "x import torch"]
REPO = Path(__file__).resolve().parents[1]


def draw_seven(folder: Path) -> None:
    """seven.png in `folder`: a 7 drawn white on black, 28x28, as MNIST holds its digits."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(image).line([(7, 6), (21, 6), (12, 24)], fill=255, width=3)
    image.save(folder / "seven.png")


def time_command(args: list[str], code: int, env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != code:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}, not {code}: {done.stderr.strip()[-500:]}")
    return seconds


def time_serve() -> float:
    """Seconds from starting `zoo serve --model cnn_mnist` to its answer to one drawn digit
    (the server is polled every `benchmarks.serve.POLL_S` until it is healthy)."""
    body = digit_body()
    start = time.perf_counter()
    with zoo_serve(["--model", "cnn_mnist"]) as url:
        post(f"{url}/predict/cnn_mnist", body)
        return time.perf_counter() - start


def timers(env: dict[str, str], cwd: Path) -> dict[str, Callable[[], float]]:
    """A clock for each command; `zoo serve` only where LitServe is installed."""
    clocks: dict[str, Callable[[], float]] = {
        command: partial(time_command, args, code, env, cwd) for command, (args, code) in COMMANDS.items()
    }
    if importlib.util.find_spec("litserve") is not None:
        clocks[SERVE] = time_serve
    return clocks


def run(settings: Settings) -> SectionResult:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("ZOO_PLUGINS", None)  # plugins would send a misspelt name through the registry
    repeats = settings.repeats if settings.quick else max(settings.repeats, MIN_REPEATS)
    with tempfile.TemporaryDirectory() as folder:
        draw_seven(Path(folder))
        clocks = timers(env, Path(folder))
        for clock in clocks.values():
            clock()
        seconds: dict[str, list[float]] = {command: [] for command in clocks}
        for repeat in range(repeats):
            for command in alternate(list(clocks), repeat):
                seconds[command].append(clocks[command]())
    baseline = median(seconds[BASELINE])
    rows: list[dict[str, Any]] = [
        {
            "command": command,
            "median_s": median(times),
            "min_s": min(times),
            "max_s": max(times),
            "x import torch": median(times) / baseline,
            "repeats": len(times),
        }
        for command, times in seconds.items()
    ]
    by_command = {row["command"]: row for row in rows}
    targets = [
        Target(NAME, "zoo list / python -c 'import torch', time", "-", by_command[LIST]["x import torch"], LIMIT),
        Target(NAME, "a misspelt model refused, seconds", "-", by_command[MISSPELT]["median_s"], MISSPELT_LIMIT_S),
        Target(NAME, "zoo predict on one image / python -c 'import torch', time", "cnn_mnist",
               by_command[PREDICT]["x import torch"], LIMIT),
    ]
    return SectionResult(NAME, rows, SHOWN, targets, ["medians of fresh processes, seconds"])

