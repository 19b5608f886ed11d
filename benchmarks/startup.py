"""Start-up: `zoo list` and `zoo --help` against `python -c "import torch"`, each a fresh
process (`python -m zoo`, which is what the `zoo` script runs), alternated, after one
untimed run each."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SectionResult, Settings, Target, alternate, median

NAME = "startup"
LIMIT = 1.5
BASELINE = "python -c 'import torch'"
COMMANDS = {
    BASELINE: ["-c", "import torch"],
    "zoo list": ["-m", "zoo", "list"],
    "zoo --help": ["-m", "zoo", "--help"],
}
MIN_REPEATS = 5
SHOWN = ["command", "median_s", "min_s", "max_s", "x import torch"]
REPO = Path(__file__).resolve().parents[1]


def time_command(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return seconds


def run(settings: Settings) -> SectionResult:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    repeats = settings.repeats if settings.quick else max(settings.repeats, MIN_REPEATS)
    for args in COMMANDS.values():
        time_command(args, env)
    seconds: dict[str, list[float]] = {command: [] for command in COMMANDS}
    for repeat in range(repeats):
        for command in alternate(list(COMMANDS), repeat):
            seconds[command].append(time_command(COMMANDS[command], env))
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
    list_row = next(r for r in rows if r["command"] == "zoo list")
    targets = [Target(NAME, "zoo list / python -c 'import torch', time", "-",
                      list_row["x import torch"], LIMIT)]
    return SectionResult(NAME, rows, SHOWN, targets, ["medians of fresh processes, seconds"])
