"""`zoo serve [--model NAME ...] [--ckpt_path C ...] [--host H] [--port P] [--timeout S] [--site DIR]`: the
command line, checked before LitServe, torch or any model is imported (`zoo.serve.app` serves)."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

from zoo.cli.listing import check_indexed
from zoo.cli.parse_errors import OneLineParser
from zoo.errors import ZooError
from zoo.serve import BATCH_WAIT_S, HOSTS, RUNTIMES, TIMEOUT_S


def parser() -> OneLineParser:
    p = OneLineParser(prog="zoo serve", description="Serve zoo models over HTTP, with a page to try them.")
    p.add_argument("--model", nargs="+", help="models to serve (default: every model with pretrained weights)")
    p.add_argument("--ckpt_path", nargs="+", help="checkpoints to serve instead of the pretrained weights")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    p.add_argument("--timeout", type=float, default=TIMEOUT_S,
                   help=f"seconds a request may wait for its model before a 504 ({TIMEOUT_S:g})")
    p.add_argument("--runtime", choices=RUNTIMES, default=RUNTIMES[0],
                   help="what runs the models that answer in one piece: torch, or onnxruntime on the ONNX file "
                        "'zoo export' writes (exported as the worker starts); language models write with torch")
    p.add_argument("--site", help="a built MkDocs site to serve at /site/, where the page's docs links go "
                                   "(default: this checkout's site/, once 'make docs' has built it)")
    return p


def docs_site(site: str | None) -> Path | None:
    """The documentation site to serve: the one named, or this checkout's when built; a folder
    without MkDocs' index.html is refused, before any model is loaded."""
    if site is None:
        built = Path(__file__).resolve().parents[2] / "site"
        return built if (built / "index.html").is_file() else None
    if not (Path(site) / "index.html").is_file():
        raise ZooError(f"--site {site!r} is not a built MkDocs site (no index.html in it); build one with "
                       "'make docs' (into site/) or leave --site out")
    return Path(site)


def check_address(host: str, port: int) -> None:
    """Refuse an address LitServe cannot bind, or a port in use, before any model is loaded. The
    probe binds as uvicorn does (SO_REUSEADDR), so the port of a server that just ended, its
    connections still in TIME_WAIT, is not taken for one in use."""
    if host not in HOSTS:
        raise ZooError(f"--host {host!r} is not one LitServe binds to; pass one of: {', '.join(HOSTS)}")
    if not 1024 <= port <= 65535:
        raise ZooError(f"--port {port} is out of range; pass a port from 1024 to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise ZooError(f"port {port} on {host} is in use; pass another with --port") from None


def serve_main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    for name in args.model or []:
        check_indexed("model", name)
    if importlib.util.find_spec("litserve") is None:
        raise ZooError("zoo serve needs LitServe; pip install -e \".[serve]\"")
    if args.runtime == "onnxruntime" and not all(importlib.util.find_spec(p) for p in ("onnx", "onnxruntime")):
        raise ZooError("zoo serve --runtime onnxruntime needs onnx and onnxruntime; pip install -e \".[export]\"")
    if not args.timeout > BATCH_WAIT_S:
        raise ZooError(f"--timeout must be more than {BATCH_WAIT_S} seconds, got {args.timeout}")
    check_address(args.host, args.port)
    site = docs_site(args.site)
    from zoo.serve.app import serve

    serve(args.model, args.ckpt_path, args.host, args.port, args.timeout, site, args.runtime)
