"""The model pages' "try it" panels, in Debian's chromium through Playwright on the built site,
served as static files: for every shipped model, 20 inputs given as a reader gives them (digits
drawn with the mouse, text typed) are answered in the browser as PyTorch answers the same raw
input (same top-1, probabilities within 1e-4), and no page logs an error."""

from __future__ import annotations

import functools
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from tools.docs_browser import CHROMIUM, serve
from tools.docs_try_it import RUNTIME, RUNTIME_FILES
from tools.try_it_browser import WAIT_MS, ask, draw_digit, launch, open_panel, wait_for_answers
from zoo import build
from zoo.export import Answering
from zoo.inputs import Images
from zoo.pretrained import cards
from zoo.registry import model_card

REPO = Path(__file__).resolve().parents[1]
INPUTS = 20
SHIPPED = sorted(cards())
DIGITS = [n for n in SHIPPED if isinstance(model_card(n).inputs, Images)]
"""The digit models share one pad (each of their pages shows it); it is tried on the first page."""
PAGES = DIGITS[:1] + [n for n in SHIPPED if n not in DIGITS]


def missing() -> str | None:
    for module in ("mkdocs", "playwright"):
        if __import__("importlib").util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[docs]')"
    if not CHROMIUM.is_file():
        return f"Debian's chromium is not at {CHROMIUM} (make browser)"
    if not all((RUNTIME / name).is_file() for name in RUNTIME_FILES):
        return "onnxruntime-web is not installed (npm ci)"
    return None


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if reason := missing():
        pytest.skip(reason)
    site = tmp_path_factory.mktemp("site")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                           cwd=REPO, capture_output=True, text=True, timeout=600,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert built.returncode == 0, built.stderr[-3000:]
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser(site_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def raw_inputs(name: str, rng: random.Random, model: Any) -> list[str]:
    """INPUTS texts of the kind the model reads."""
    raw = model.raw_inputs
    if raw.kind == "names":
        letters = "abcdefghijklmnopqrstuvwxyz"
        known = ["Nguyen", "Schmidt", "Dubois", "Müller", "O'Brien", "Kim", "Silva", "Tanaka"]
        return known + ["".join(rng.choice(letters) for _ in range(rng.randint(2, 9))).title()
                        for _ in range(INPUTS - len(known))]
    if raw.kind == "numbers":
        low, high = max(raw.allowed.low, -3.0), min(raw.allowed.high, 3.0)
        return [",".join(f"{rng.uniform(low, high):.3f}" for _ in range(raw.features)) for _ in range(INPUTS)]
    fixed = raw.kind == "characters" and name == "rnncell_hello"
    lengths = [5] * INPUTS if fixed else [rng.randint(1, 12) for _ in range(INPUTS)]
    typed = raw.alphabet.replace("\n", "").replace(" " if raw.kind == "characters" else "\n", "")
    return ["".join(rng.choice(typed) for _ in range(length)) for length in lengths]


def refusal(raw: Any) -> tuple[str, str] | None:
    """An input the panel must refuse in one line rather than answer, and a piece of that line."""
    if raw.kind == "names":
        return "R2D2", "never read '2'"
    if raw.kind == "characters":
        return "hexes", "is not one of the characters"
    if raw.kind == "numbers" and raw.allowed.high < 7:
        return ",".join(["7"] * raw.features), "must be within"
    return None


@functools.cache
def answering(name: str) -> Answering:
    """The shipped model as its exported file runs it, built once for every drawing and prompt."""
    return Answering(build(name, pretrained=True).eval()).eval()


def expected(name: str, decoded: tuple[torch.Tensor, ...]) -> torch.Tensor:
    with torch.no_grad():
        return answering(name)(*decoded)


def agrees(got: list[float], wanted: torch.Tensor) -> None:
    browser_answer = torch.tensor(got, dtype=torch.float32).view_as(wanted)
    assert (browser_answer - wanted).abs().max() <= 1e-4
    if wanted.shape[-1] > 1:
        assert torch.equal(browser_answer.argmax(-1), wanted.argmax(-1))


@pytest.mark.slow
@pytest.mark.parametrize("name", PAGES)
def test_the_try_it_panel_answers_as_pytorch_does(name: str, site_url: str, browser: Any) -> None:
    page, errors = open_panel(browser, f"{site_url}models/{name}/")
    rng = random.Random(name)
    model = build(name, pretrained=True).eval()
    if name in DIGITS:
        for _ in range(INPUTS):
            page.click(".zoo-try button")
            strokes = [[(rng.uniform(0.15, 0.85), rng.uniform(0.1, 0.9)) for _ in range(rng.randint(2, 4))]
                       for _ in range(rng.randint(1, 3))]
            answer = draw_digit(page, strokes)
            pixels = torch.tensor(answer["input"], dtype=torch.uint8).view(answer["shape"])
            assert sorted(answer["outputs"]) == DIGITS  # every MNIST network side by side
            for other, got in answer["outputs"].items():
                agrees(got, expected(other, (pixels,)))
    elif model.raw_inputs.kind == "prompt":
        for prompt in raw_inputs(name, rng, model):
            (answer,) = ask(page, prompt)
            assert answer["input"] == prompt
            agrees(answer["outputs"][name], expected(name, model.raw_inputs.decode([prompt]))[0, -1])
            written = prompt
            for _ in range(len(answer["written"]) - len(prompt)):
                written += model.labels[int(expected(name, model.raw_inputs.decode([written]))[0, -1].argmax())]
            assert answer["written"] == written
    else:
        items = raw_inputs(name, rng, model)
        for item, answer in zip(items, ask(page, " ".join(items), INPUTS), strict=True):
            assert answer["input"] == item
            agrees(answer["outputs"][name], expected(name, model.raw_inputs.decode([item]))[0])
        refused = refusal(model.raw_inputs)
        if refused:
            page.fill(".zoo-try-text", refused[0])
            page.click(".zoo-try-go")
            page.wait_for_function("document.querySelector('.zoo-try-answer').textContent.includes("
                                   f"{json.dumps(refused[1])})", timeout=WAIT_MS)
            assert len(wait_for_answers(page, INPUTS)) == INPUTS
    assert errors == []
    page.close()
