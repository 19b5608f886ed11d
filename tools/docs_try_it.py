"""MkDocs hook (mkdocs.yml `hooks:`): what the model pages' "try it" panels run in the reader's
browser, written into the built site under `try/`: every shipped model exported as ONNX with its
sidecar (`zoo export`, from the raw input to the answer), and ONNX Runtime Web's WebAssembly build
from `node_modules` (`npm ci` installs the version `package-lock.json` pins). The site then needs
no server of zoo's: any static file server shows it, `python -m http.server` included."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "node_modules" / "onnxruntime-web" / "dist"
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
"""ONNX Runtime Web's WebAssembly-only build: the script, its loader and the runtime (one thread)."""
FOLDER = "try"


def on_post_build(config: Any) -> None:
    """Copy the runtime and export the shipped models into `site/try/`."""
    from mkdocs.exceptions import PluginError  # imported here: benchmarks/browser.py reads the names above

    missing = [name for name in RUNTIME_FILES if not (RUNTIME / name).is_file()]
    if missing:
        raise PluginError(f"the try-it panels need onnxruntime-web ({', '.join(missing)} not in {RUNTIME}); "
                          "run: npm ci")
    out = Path(config["site_dir"]) / FOLDER
    (out / "ort").mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_FILES:
        shutil.copyfile(RUNTIME / name, out / "ort" / name)
    export_shipped(out)


def export_shipped(out: Path) -> None:
    """Each model with shipped weights as `out/NAME.onnx` and `out/NAME.onnx.json`."""
    from zoo.checkpoints import load_model
    from zoo.export import export
    from zoo.pretrained import cards

    for name in sorted(cards()):
        export(load_model(name, None), "onnx", out / f"{name}.onnx", overwrite=True)
