"""Development tool: open the built documentation site in a real headless browser (Debian's
chromium through Playwright), served from 127.0.0.1, and report what a reader would find broken.

    mkdocs build --strict && python -m tools.docs_browser site --screenshots docs/screenshots
    python -m tools.docs_browser --serve-page docs/serve-page.png

Every page must show its pictures (each image loaded, naturalWidth > 0: the model pages' confusion
matrices and curves, the dataset pages' example inputs), and a model page with a confusion-matrix
section must show a picture; no link or image
between the site's own pages may lead nowhere (every page's internal links are followed). A
screenshot of a model page and of a tutorial page is saved where `--screenshots` says.
`--serve-page FILE` starts `zoo serve` (every model with weights, on a free port of 127.0.0.1),
draws a "1" on its page and saves the screenshot the README and the serving guide show.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = {"model-page.png": "models/inception_mnist/#pretrained-weights", "tutorial-page.png": "tutorials/002/"}
"""The pages (and where on them) the screenshots show, by file name."""
SERVE_VIEWPORT = {"width": 1280, "height": 760}
ANSWER_WAIT_MS = 60_000


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Served requests are not worth a line each."""


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """The folder over HTTP on a free port of 127.0.0.1, for as long as the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def pages_under(site: Path, folder: str) -> list[str]:
    """The site's pages in `folder` (e.g. 'models/'), as paths relative to the site's root."""
    return sorted(p.parent.relative_to(site).as_posix() + "/" for p in (site / folder).glob("*/index.html"))


def broken_images(page: object) -> list[str]:
    """The pictures of the open page that did not load."""
    found: list[str] = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "article img", "imgs => imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    return found


def picture_problems(page: object, address: str, model_page: bool) -> list[str]:
    """A page's pictures that did not load; none at all on a model page with a confusion matrix."""
    problems = [f"{address}: picture {src} did not load" for src in broken_images(page)]
    shown = page.eval_on_selector_all("article img", "imgs => imgs.length")  # type: ignore[attr-defined]
    if model_page and page.locator("#confusion-matrix").count() and not shown:  # type: ignore[attr-defined]
        problems.append(f"{address}: has a confusion matrix section but shows no picture")
    return problems


def internal_links(page: object, root: str) -> set[str]:
    """Every link and image address of the open page that stays on the site, without #anchors."""
    addresses: list[str] = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "a[href], img[src], link[href]", "els => els.map(e => e.href || e.src)")
    return {urldefrag(a)[0] for a in addresses if a.startswith(root)}


def check_site(site: Path, screenshots: Path | None = None) -> list[str]:
    """Open every page of the built site in chromium; the problems found, one line each."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with serve(site) as root, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        models, datasets = pages_under(site, "models"), pages_under(site, "datasets")
        problems += [f"no {kind} pages in the site" for kind, found in (("model", models), ("dataset", datasets))
                     if not found]
        seen: set[str] = set()
        waiting = [urljoin(root, p) for p in ["", *models, *datasets]]
        while waiting:
            address = waiting.pop()
            if address in seen:
                continue
            seen.add(address)
            if not urlparse(address).path.endswith("/"):
                # a picture, a stylesheet, a file: fetched, not opened (some would start a download)
                status = page.request.get(address).status
                if status != 200:
                    problems.append(f"{address}: HTTP {status}")
                continue
            response = page.goto(address, wait_until="load")
            if response is None or response.status != 200:
                problems.append(f"{address}: HTTP {response.status if response else 'no answer'}")
                continue
            problems += picture_problems(page, address, urlparse(address).path.lstrip("/") in models)
            waiting += sorted(internal_links(page, root) - seen)
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            for file, path in SCREENSHOTS.items():
                page.goto(urljoin(root, path), wait_until="load")
                page.screenshot(path=str(screenshots / file), full_page=False)
        browser.close()
    return problems


def draw_a_one(page: object) -> None:
    """On `zoo serve`'s page: draw a "1" top to bottom on the pad, then wait until every digit
    model shows its answer to the finished stroke."""
    canvas = page.locator("#canvas").bounding_box()  # type: ignore[attr-defined]
    assert canvas is not None, "the page shows no drawing pad"
    x = canvas["x"] + canvas["width"] * 0.5
    page.mouse.move(x, canvas["y"] + canvas["height"] * 0.15)  # type: ignore[attr-defined]
    page.mouse.down()  # type: ignore[attr-defined]
    page.mouse.move(x + 4, canvas["y"] + canvas["height"] * 0.85, steps=25)  # type: ignore[attr-defined]
    with page.expect_response(lambda r: "/predict/" in r.url, timeout=ANSWER_WAIT_MS):  # type: ignore[attr-defined]
        page.mouse.up()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "[...document.querySelectorAll('#image-models .prediction')].every(p => p.textContent !== '')",
        timeout=ANSWER_WAIT_MS)
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]


def serve_page_screenshot(path: Path) -> None:
    """`zoo serve`'s page with a "1" drawn and every digit model's answer, saved to `path`."""
    from playwright.sync_api import sync_playwright

    from benchmarks.serve import zoo_serve

    with zoo_serve([]) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=SERVE_VIEWPORT)
        page.goto(url + "/")
        draw_a_one(page)
        page.screenshot(path=str(path))
        browser.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.docs_browser", description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, nargs="?", help="the built site (mkdocs build's site_dir)")
    parser.add_argument("--screenshots", type=Path, help="save the screenshots into this folder")
    parser.add_argument("--serve-page", type=Path, help="save a screenshot of zoo serve's page, a digit drawn, here")
    args = parser.parse_args(argv)
    if args.serve_page is not None:
        serve_page_screenshot(args.serve_page)
    if args.site is None:
        return
    problems = check_site(args.site, args.screenshots)
    print("\n".join(problems) or "no broken picture or link")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
