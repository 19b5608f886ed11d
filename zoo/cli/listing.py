"""`zoo list`: a table (or JSON) of models or datamodules, fast enough to feel instant."""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Callable
from importlib import resources
from typing import Any

from zoo import registry
from zoo.cli.parse_errors import OneLineParser
from zoo.errors import ZooError
from zoo.recipes import Recipe

INDEX_FILE = "model_index.json"

Column = tuple[str, Callable[[dict[str, Any]], str]]


def recipe_label(recipe: dict[str, Any]) -> str:
    return Recipe(**recipe).describe()


MODEL_COLUMNS: list[Column] = [
    ("name", lambda m: m["name"]),
    ("params", lambda m: f"{m['params']:,}"),
    ("input", lambda m: "x".join("N" if s is None else str(s) for s in m["input"])),
    ("data", lambda m: m["datamodule"] + "".join(f" {k}={v}" for k, v in m["datamodule_args"].items())),
    ("tutorial result", lambda m: m["tutorial_result"]),
    ("pretrained", lambda m: m.get("pretrained") or "-"),
    ("default recipe", lambda m: recipe_label(m["recipes"]["default"])),
]
DATA_COLUMNS: list[Column] = [
    ("name", lambda d: d["name"]),
    ("what", lambda d: d["description"]),
]


def row_values(entry: dict[str, Any], columns: list[Column]) -> list[str]:
    return [render(entry) for _, render in columns]


def load_index() -> dict[str, Any]:
    """The model index saved in the package (`python -m tools.model_index` writes it)."""
    index: dict[str, Any] = json.loads(resources.files("zoo").joinpath(INDEX_FILE).read_text())
    return index


def current_index() -> dict[str, Any]:
    """The saved index, or the live registry when user plugins may add entries."""
    return registry.index() if os.environ.get(registry.PLUGINS_ENV) else load_index()


def check_indexed(kind: str, name: str | None) -> None:
    """Refuse a misspelt model or datamodule name from the saved index, in the registry's words,
    before a command imports torch and Lightning (seconds). With ZOO_PLUGINS set, plugins may
    register names the index lacks, so the registry decides later, as it always does; values that
    are not names (class paths, config files) are left to the command too."""
    if name is None or not name.isidentifier() or os.environ.get(registry.PLUGINS_ENV):
        return
    known = [entry["name"] for entry in load_index()[f"{kind}s"]]
    if name not in known:
        raise ZooError(registry.unknown_name_message(kind, name, known))


def format_table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_listing(argv: list[str]) -> None:
    parser = OneLineParser(prog="zoo list", description="List zoo models or datamodules.")
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. '*mnist*'")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument("--data", action="store_true", help="list datamodules instead of models")
    args = parser.parse_args(argv)
    kind, columns = ("datamodules", DATA_COLUMNS) if args.data else ("models", MODEL_COLUMNS)
    entries = [e for e in current_index()[kind] if fnmatch.fnmatch(e["name"], args.pattern)]
    if args.json:
        print(json.dumps(entries, indent=1))
        return
    if not entries:
        print(f"no {kind} match {args.pattern!r}; try 'zoo list' for all of them")
        return
    print(format_table([row_values(e, columns) for e in entries], [t for t, _ in columns]))
