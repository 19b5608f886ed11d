"""The documentation site: its generated pages are what `python -m tools.docs` writes today (a page
that drifted from the registry, the cards, the recipes, the CSVs or the parsers fails), its
pictures are all there, every model page's Python runs, the sidebar leads with the guides, and the
built site opens in a real browser, every page of it, with nothing broken."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify

from tools.docs import (
    DOCS,
    GENERATED,
    IMAGES,
    LIGHTNING_PAGE,
    REPO,
    SNIPPET_IMAGE,
    latency_file,
    lightning_versions,
    pictures,
    python_snippet,
    read_csv,
)
from tools.docs import write as write_docs
from tools.docs_browser import CHROMIUM, SCREENSHOTS, check_site, site_pages
from zoo.registry import MODELS, list_models

FIX = "run: python -m tools.docs"


def generated_files(docs: Path) -> dict[str, str]:
    """The generated pages under a docs folder, by path, with their text."""
    found: dict[str, str] = {}
    for owned in GENERATED:
        target = docs / owned
        files = sorted(target.rglob("*.md")) if target.is_dir() else [target] if target.is_file() else []
        found |= {f.relative_to(docs).as_posix(): f.read_text() for f in files}
    return found


def test_generated_pages_are_up_to_date(tmp_path: Path) -> None:
    write_docs(tmp_path, with_pictures=False, with_lightning=False)
    fresh, committed = generated_files(tmp_path), generated_files(DOCS)
    assert sorted(committed) == sorted(fresh), FIX
    for path, text in fresh.items():
        assert committed[path] == text, f"docs/{path} drifted; {FIX}"


def test_every_picture_is_committed_and_used() -> None:
    committed = {p.name for p in (DOCS / IMAGES).glob("*.png")}
    assert committed == set(pictures()), FIX
    shown = "".join(generated_files(DOCS).values())
    assert all(f"{IMAGES}/{name}" in shown for name in committed), "a picture no page shows"


def test_every_recipe_note_is_one_line_and_its_notes_link_resolves() -> None:
    for name in list_models():
        for key, recipe in MODELS.get(name).recipes.items():
            assert len(recipe.note) <= 100, f"{name} {key}: move the reasoning to a notes page"
            if not recipe.notes:
                continue
            page, _, anchor = recipe.notes.partition("#")
            assert (DOCS / page).is_file(), f"{name} {key}: no page docs/{page}"
            headings = [line.lstrip("#").strip() for line in (DOCS / page).read_text().splitlines()
                        if line.startswith("#")]
            assert not anchor or anchor in [slugify(h, "-") for h in headings], f"{name} {key}: no #{anchor}"


def test_pictures_stay_small() -> None:
    sizes = [p.stat().st_size for p in (DOCS / IMAGES).glob("*.png")] + [
        (DOCS / "screenshots" / name).stat().st_size for name in SCREENSHOTS]
    assert max(sizes) < 250_000
    assert sum(sizes) < 3_000_000


@pytest.mark.slow
def test_lightning_commands_page_is_up_to_date(tmp_path: Path) -> None:
    committed = (DOCS / LIGHTNING_PAGE).read_text()
    if lightning_versions() not in committed:
        pytest.skip(f"the page was generated with other versions than {lightning_versions()}")
    # A fresh interpreter, as `python -m tools.docs` runs: the help lists the datamodule classes
    # imported so far, and this one has imported the tests' own.
    subprocess.run([sys.executable, "-m", "tools.docs", "--out", str(tmp_path), "--no-pictures"],
                   cwd=REPO, check=True, capture_output=True, timeout=600)
    assert committed == (tmp_path / LIGHTNING_PAGE).read_text(), f"docs/{LIGHTNING_PAGE} drifted; {FIX}"


def missing_for_browser() -> str | None:
    """Why the browser test cannot run here, or None."""
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("playwright") is None:
        return "mkdocs or playwright is not installed (pip install -e '.[docs]')"
    if not CHROMIUM.is_file():
        return f"Debian's chromium is not at {CHROMIUM} (make browser)"
    return None


@pytest.mark.slow
def test_built_site_shows_every_picture_and_no_broken_link(tmp_path: Path) -> None:
    if reason := missing_for_browser():
        pytest.skip(reason)
    site = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                           cwd=REPO, capture_output=True, text=True, timeout=600,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert build.returncode == 0, build.stderr[-3000:]
    shots = tmp_path / "screenshots"
    pages = site_pages(site)
    assert len(pages) == len(list(site.rglob("index.html"))) > 50 and "reference/api/" in pages
    assert check_site(site, shots) == []
    assert sorted(p.name for p in shots.iterdir()) == sorted(SCREENSHOTS)
    assert all((shots / name).stat().st_size > 10_000 for name in SCREENSHOTS)


def small_page(title: str, body: str) -> str:
    """A page laid out as MkDocs Material lays one out: its contents (one entry, #second) in the
    secondary nav, its text in the article."""
    return ('<html><body><nav class="md-nav md-nav--secondary"><a class="md-nav__link" href="#second">second</a>'
            f'</nav><article><h1 id="first">{title}</h1>{body}</article></body></html>')


@pytest.mark.slow
def test_the_browser_check_finds_a_cut_page_a_missing_picture_and_broken_links(tmp_path: Path) -> None:
    if reason := missing_for_browser():
        pytest.skip(reason)
    site = tmp_path / "site"
    (site / "models" / "m").mkdir(parents=True)
    (site / "index.html").write_text(small_page("Home", '<h2 id="second">Second</h2><h3> </h3>'
                                                '<a href="models/m/#nowhere">m</a><a href="gone/">gone</a>'))
    (site / "models" / "m" / "index.html").write_text(small_page("M", '<img src="../../missing.png">'))
    problems = "\n".join(check_site(site))
    assert "/: 1 empty headings" in problems
    assert "/models/m/: contents entry #second leads to nothing on the page" in problems
    assert not re.search(r"\d/: contents entry", problems)  # the home page has its #second
    assert "/models/m/: picture" in problems and "missing.png did not load" in problems
    assert "models/m/#nowhere: no #nowhere on that page" in problems and "gone/: no such page" in problems
    assert "no datasets pages in the site" in problems


def test_the_sidebar_leads_with_the_guides_and_lists_every_page() -> None:
    pytest.importorskip("mkdocs")
    from mkdocs.config import load_config
    from mkdocs.structure.files import get_files

    from tools import docs_nav

    config = load_config(str(REPO / "mkdocs.yml"))
    files = get_files(config)
    docs_nav.on_files(files, config)
    nav = config["nav"]
    assert nav[0] == "index.md" and list(nav[1]) == ["Guides"] and nav[1]["Guides"][0] == "guides/index.md"
    listed = json.dumps(nav)
    assert all(f'"{page.src_uri}"' in listed for page in files.documentation_pages())


@pytest.mark.parametrize("name", list_models())
def test_every_model_pages_python_snippet_runs_on_the_cpu(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (60, 60), "white")
    ImageDraw.Draw(picture).line([(20, 10), (40, 10), (25, 50)], fill="black", width=5)  # a 7, for a reader's file
    picture.save(tmp_path / SNIPPET_IMAGE)
    monkeypatch.chdir(tmp_path)
    snippet = python_snippet(MODELS.get(name))
    assert snippet in (DOCS / "models" / f"{name}.md").read_text(), FIX
    code = snippet.removeprefix("```python\n").removesuffix("\n```")
    exec(compile(code, f"docs/models/{name}.md", "exec"), {})  # the page's own code, run as a reader would
    printed = capsys.readouterr().out
    model = MODELS.get(name)
    assert printed.strip()
    if model.inputs is not None and model.inputs.kind != "images":
        assert model.inputs.examples == () or model.inputs.examples[0] in printed


def test_the_latency_tool_writes_the_csv_the_models_index_is_generated_from(tmp_path: Path) -> None:
    from benchmarks import latency

    latency.main(["--models", "cnn_mnist,lstm_hello", "--out", str(tmp_path)])
    (written,) = tmp_path.glob("latency-cpu-torch*-t1.csv")
    rows = {r["model"]: r for r in read_csv(written)}
    assert sorted(rows) == ["cnn_mnist", "lstm_hello"]
    assert rows["cnn_mnist"]["input"] == "1x1x28x28" and float(rows["cnn_mnist"]["fwd_mflop"]) > 0.5
    assert rows["lstm_hello"]["not_counted"] == "LSTM" and rows["cnn_mnist"]["not_counted"] == ""
    assert all(float(r["latency_ms"]) > 0 and r["threads"] == "1" and r["cpu"] for r in rows.values())
    committed = latency_file()
    assert committed is not None and sorted(r["model"] for r in read_csv(committed)) == list_models(), (
        "run: python -m benchmarks.latency, then python -m tools.docs")
