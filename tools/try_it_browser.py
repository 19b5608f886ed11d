"""Development tool: the model pages' "try it" panels in Debian's chromium on a built site, served
as static files from 127.0.0.1. Saves the screenshots the docs show, each panel in use:

    NO_MKDOCS_2_WARNING=1 mkdocs build --strict && python -m tools.try_it_browser site --out docs

The benchmark's `browser` section drives the panels with the same functions (`open_panel`,
`draw_digit`, `ask`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tools.docs_browser import CHROMIUM, CHROMIUM_ARGS, serve

WAIT_MS = 60_000
VIEWPORT = {"width": 1100, "height": 900}
SCREENSHOTS = {"try_cnn_mnist.png": ("cnn_mnist", None), "try_gru_names.png": ("gru_names", "Nguyen Silva Kim Schmidt"),
               "try_char_rnn_shakespeare.png": ("char_rnn_shakespeare", "ROMEO:")}
"""Each screenshot's file, the model page it shows and what is typed there (None: a digit drawn)."""
SEVEN = [(0.25, 0.22), (0.75, 0.22), (0.42, 0.85)]
"""A 7 as fractions of the pad: the top bar, then the stem."""


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def open_panel(browser: Any, url: str, loaded: list[int] | None = None) -> tuple[Any, list[str]]:
    """A new page at `url` (a fresh context: nothing cached) once its panel is ready, and the list
    its console errors are put in; each response's body size goes into `loaded` when given."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    if loaded is not None:
        page.on("response", lambda response: loaded.append(len(response.body())) if response.ok else None)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector(".zoo-try[data-ready=true]", timeout=WAIT_MS)
    return page, errors


def answer_count(page: Any) -> int:
    return len(json.loads(page.locator(".zoo-try").get_attribute("data-answers") or "[]"))


def wait_for_answers(page: Any, count: int) -> list[dict[str, Any]]:
    """The panel's answers once it has given `count` of them."""
    page.wait_for_function(
        f"JSON.parse(document.querySelector('.zoo-try').dataset.answers || '[]').length >= {count}", timeout=WAIT_MS)
    answers: list[dict[str, Any]] = json.loads(page.locator(".zoo-try").get_attribute("data-answers"))
    return answers


def draw_digit(page: Any, strokes: list[list[tuple[float, float]]]) -> dict[str, Any]:
    """Strokes (points as fractions of the pad) drawn with the mouse; the panel's answer."""
    before = answer_count(page)
    pad = page.locator("canvas.zoo-try-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    for stroke in strokes:
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=8)
        page.mouse.up()
    return wait_for_answers(page, before + 1)[-1]


def ask(page: Any, text: str, items: int = 1) -> list[dict[str, Any]]:
    """`text` typed into the panel and sent; the `items` answers it gives."""
    before = answer_count(page)
    page.fill(".zoo-try-text", text)
    page.click(".zoo-try-go")
    return wait_for_answers(page, before + items)[before:]


def screenshots(site: Path, out: Path) -> None:
    """Each panel of `SCREENSHOTS` in use, saved in `out`."""
    from playwright.sync_api import sync_playwright

    with serve(site) as url, sync_playwright() as playwright:
        browser = launch(playwright)
        for file, (name, text) in SCREENSHOTS.items():
            page, errors = open_panel(browser, f"{url}models/{name}/")
            if text is None:
                draw_digit(page, [SEVEN])
            else:
                ask(page, text, len(text.split()) if " " in text else 1)
            page.locator(".zoo-try").scroll_into_view_if_needed()
            page.locator(".zoo-try").screenshot(path=str(out / file))
            if errors:
                raise SystemExit(f"{name}'s page logged errors: {errors}")
            page.close()
        browser.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.try_it_browser", description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site (mkdocs build's site_dir)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the screenshots")
    args = parser.parse_args(argv)
    screenshots(args.site, args.out)
    print(f"saved {', '.join(SCREENSHOTS)} in {args.out}")


if __name__ == "__main__":
    main()
