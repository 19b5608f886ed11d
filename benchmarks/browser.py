"""Browser: the model pages' "try it" panels in Debian's chromium (headless, one WebAssembly
thread), on the documentation site built into a temporary folder and served as static files:
the bytes a page loads (and ONNX Runtime Web's share), the seconds from opening the page to its
first answer, and the milliseconds per answer after that. The digit pad answers with every MNIST
network at once; the surname panel with gru_names."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SectionResult, Settings, Target
from tools.docs_browser import serve
from tools.docs_try_it import RUNTIME, RUNTIME_FILES
from tools.try_it_browser import SEVEN, ask, draw_digit, launch, open_panel

NAME = "browser"
REPO = Path(__file__).resolve().parents[1]
FIRST_ANSWER_S = 1.0
RUNTIME_MB = 3.0
PAGES = {"cnn_mnist": None, "gru_names": "Nguyen"}
"""The pages timed and what is typed on each (None: a 7 drawn on the digit pad)."""
SHOWN = ["page", "models", "page_mb", "runtime_mb", "ready_s", "first_answer_s", "answer_ms", "answers"]


def build_site(folder: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
                           cwd=REPO, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    if built.returncode:
        raise RuntimeError(f"mkdocs build failed: {built.stderr[-1000:]}")


def one_answer(page: Any, text: str | None) -> dict[str, Any]:
    return draw_digit(page, [SEVEN]) if text is None else ask(page, text)[0]


def measure(browser: Any, url: str, name: str, text: str | None, answers: int) -> dict[str, Any]:
    """Open the page and answer `answers` + 1 times: the seconds until the panel is ready (the
    runtime and the models loaded), until its first answer (ready, then the answer's own time,
    from the reader's act), and the median of the other answers' times, measured in the page."""
    loaded: list[int] = []
    start = time.perf_counter()
    page, errors = open_panel(browser, f"{url}models/{name}/", loaded)
    ready_s = time.perf_counter() - start
    given = [one_answer(page, text) for _ in range(answers + 1)]
    times = [answer["ms"] for answer in given]
    page.close()
    if errors:
        raise RuntimeError(f"{name}'s page logged errors: {errors}")
    runtime = sum((RUNTIME / file).stat().st_size for file in RUNTIME_FILES)
    return {"page": name, "models": len(given[0]["outputs"]), "page_mb": round(sum(loaded) / 1e6, 2),
            "runtime_mb": round(runtime / 1e6, 2), "ready_s": round(ready_s, 2),
            "first_answer_s": round(ready_s + times[0] / 1000, 2), "answer_ms": round(statistics.median(times[1:]), 1),
            "answers": answers}


def run(settings: Settings) -> SectionResult:
    from playwright.sync_api import sync_playwright

    answers = 3 if settings.quick else 10
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        build_site(Path(folder))
        with serve(Path(folder)) as url, sync_playwright() as playwright:
            browser = launch(playwright)
            rows = [measure(browser, url, name, text, answers) for name, text in PAGES.items()]
            browser.close()
    targets = [Target(NAME, "seconds from opening the page to its first answer", row["page"],
                      row["first_answer_s"], FIRST_ANSWER_S) for row in rows]
    targets.append(Target(NAME, "MB of ONNX Runtime Web", "all", rows[0]["runtime_mb"], RUNTIME_MB))
    notes = ["chromium headless on this machine, one WebAssembly thread; page_mb is every response the page "
             "received, uncompressed (the site's server sends no compression)",
             f"answer_ms: median of {answers} answers after the first (the pad: a 7 drawn, every MNIST network)"]
    return SectionResult(NAME, rows, SHOWN, targets, notes)
