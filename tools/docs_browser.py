"""Development tool: open the built documentation site in a real headless browser (Debian's
chromium through Playwright), served from 127.0.0.1, and report what a reader would find broken.

    NO_MKDOCS_2_WARNING=1 mkdocs build --strict && python -m tools.docs_browser site --screenshots docs/screenshots
    python -m tools.docs_browser --serve-page docs/serve-page.png

EVERY page the build wrote is opened (404.html aside: it is served at any address, so its links
are written from the root). On each: one title heading and no empty heading; every entry of its
table of contents leads to a heading on the page (a docstring's stray `<title>` once swallowed
half the API reference while the strict build passed); every picture loaded (naturalWidth > 0),
and a model page with a confusion-matrix section shows one; every link and image between the
site's own pages leads to a file that is there, and every #anchor to an element on its page.
A screenshot of a model page and of a tutorial page is saved where `--screenshots` says.
`--serve-page FILE` starts `zoo serve` (every model with weights, on a free port of 127.0.0.1),
draws a "1" on its page and saves the screenshot the README and the serving guide show.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urljoin

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = {"model-page.png": "models/inception_mnist/#pretrained-weights", "tutorial-page.png": "tutorials/002/"}
"""The pages (and where on them) the screenshots show, by file name."""
PAGE_FACTS = """() => ({
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  titles: document.querySelectorAll('article h1').length,
  emptyHeadings: [...document.querySelectorAll('article :is(h1, h2, h3, h4, h5, h6)')]
    .filter(h => !h.textContent.trim()).length,
  toc: [...new Set([...document.querySelectorAll('nav.md-nav--secondary a.md-nav__link')]
    .map(a => a.getAttribute('href')))],
  pictures: [...document.querySelectorAll('article img')].length,
  brokenPictures: [...document.querySelectorAll('article img')]
    .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
  links: [...document.querySelectorAll('a[href], img[src], link[href]')].map(e => e.href || e.src),
  confusionMatrix: document.querySelector('#confusion-matrix') !== null,
})"""
"""What the checks need of an open page, read in the browser in one call (the table of contents:
MkDocs Material's secondary nav)."""
SERVE_VIEWPORT: ViewportSize = {"width": 1280, "height": 760}
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


def site_pages(site: Path) -> list[str]:
    """Every page the build wrote, as its address relative to the site's root ('' for the home
    page, 'models/cnn_mnist/'), 404.html aside."""
    return sorted("" if p.parent == site else p.parent.relative_to(site).as_posix() + "/"
                  for p in site.rglob("index.html"))


@dataclass
class OpenedPage:
    """What was found on one page: the ids its links can point at, and where it links to."""

    ids: set[str]
    links: set[str] = field(default_factory=set)


def page_problems(address: str, facts: dict, model_page: bool) -> list[str]:
    """What is wrong on one open page with its headings, contents and pictures."""
    problems = []
    if facts["titles"] != 1:
        problems.append(f"{address}: {facts['titles']} title headings (h1), not one")
    if facts["emptyHeadings"]:
        problems.append(f"{address}: {facts['emptyHeadings']} empty headings")
    ids = set(facts["ids"])
    problems += [f"{address}: contents entry {entry} leads to nothing on the page"
                 for entry in facts["toc"] if entry.startswith("#") and entry[1:] not in ids]
    problems += [f"{address}: picture {src} did not load" for src in facts["brokenPictures"]]
    if model_page and facts["confusionMatrix"] and not facts["pictures"]:
        problems.append(f"{address}: has a confusion matrix section but shows no picture")
    return problems


def link_problems(opened: dict[str, OpenedPage], root: str, status: dict[str, int]) -> list[str]:
    """Every on-site link of every page: to a page that was opened (and an id on it), or to a
    file the server has (`status`: its HTTP status by address)."""
    problems = []
    for address, page in opened.items():
        for link in sorted(page.links):
            target, anchor = urldefrag(link)
            if target in opened:
                if anchor and anchor not in opened[target].ids:
                    problems.append(f"{address}: link to {link}: no #{anchor} on that page")
            elif target.endswith("/"):
                problems.append(f"{address}: link to {link}: no such page")
            elif status[target] != 200:
                problems.append(f"{address}: link to {link}: HTTP {status[target]}")
    return problems


def check_site(site: Path, screenshots: Path | None = None) -> list[str]:
    """Open every page of the built site in chromium; the problems found, one line each."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    pages = site_pages(site)
    problems += [f"no {kind} pages in the site" for kind in ("models", "datasets", "guides", "reference")
                 if not any(p.startswith(f"{kind}/") for p in pages)]
    with serve(site) as root, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        opened: dict[str, OpenedPage] = {}
        for path in pages:
            address = urljoin(root, path)
            response = page.goto(address, wait_until="load")
            if response is None or response.status != 200:
                problems.append(f"{address}: HTTP {response.status if response else 'no answer'}")
                continue
            facts = page.evaluate(PAGE_FACTS)
            problems += page_problems(address, facts, path.startswith("models/") and path != "models/")
            opened[address] = OpenedPage(set(facts["ids"]), {a for a in facts["links"] if a.startswith(root)})
        files = {urldefrag(a)[0] for p in opened.values() for a in p.links} - set(opened)
        # a picture, a stylesheet, a file: fetched, not opened (some would start a download)
        status = {f: page.request.get(f).status for f in sorted(files) if not f.endswith("/")}
        problems += link_problems(opened, root, status)
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
    print("\n".join(problems) or f"{len(site_pages(args.site))} pages: no broken heading, contents entry, "
          "picture or link")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
