"""Serving: requests per second and p50/p99 latency of `zoo serve` (LitServe, batching requests
across clients) under 1, 8 and 64 concurrent clients, its models run by PyTorch and by
onnxruntime on their exported files (`--runtime onnxruntime`), in one run, beside one request at a time through a
bare FastAPI endpoint that checks and answers the same way (`zoo.serve.adapter.checked` and
`answer`, unbatched). Each request sends the same drawn "1" as a base64 PNG. Bounded: a fixed number of
requests per setting and a time limit, on 127.0.0.1 only. The clients are threads of this
process; the bare server and `zoo serve` (its HTTP process and one worker for the models) run
in processes of their own."""

import base64
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import SectionResult, Settings, alternate, median

NAME = "serve"
CLIENTS = (1, 8, 64)
REQUESTS = 256
QUICK_REQUESTS = 16
WARMUP = 8
SETTING_LIMIT_S = 60.0
"""No request of a setting starts after this many seconds; the rows say how many were sent."""
STARTUP_S = 300.0
POLL_S = 0.2
"""How often a starting server is asked whether it is healthy (the start-up section times it)."""
HOST = "127.0.0.1"
RUNTIMES = {"torch": "zoo serve (LitServe)", "onnxruntime": "zoo serve --runtime onnxruntime"}
"""The server's name in the table for each `--runtime`."""
SHOWN = ["model", "server", "clients", "requests", "req_per_s", "p50_ms", "p99_ms", "x bare"]
REPO = Path(__file__).resolve().parents[1]


def ctrl_c_stops() -> None:
    """In the server's process: SIGINT stops it as Ctrl-C does, even when this process was
    started with SIGINT ignored (a background job)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def digit_body() -> bytes:
    """A "1" drawn as a white stroke on black, as the page's canvas sends it."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(image).line([(140, 40), (145, 240)], fill=255, width=20)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return json.dumps({"image": base64.b64encode(buffer.getvalue()).decode()}).encode()


def post(url: str, body: bytes) -> float:
    """Seconds one request took; anything but 200 stops the benchmark."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{url} answered {answer.status}")
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(url: str, body: bytes, clients: int, count: int) -> dict[str, Any]:
    """`count` requests from `clients` threads at once (each sends its share in turn)."""
    deadline = time.perf_counter() + SETTING_LIMIT_S

    def client(n: int) -> list[float]:
        return [post(url, body) for _ in range(n) if time.perf_counter() < deadline]

    shares = [count // clients + (i < count % clients) for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = [s for found in pool.map(client, shares) for s in found]
    seconds = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "req_per_s": len(latencies) / seconds,
        "p50_ms": 1000 * percentile(latencies, 0.5),
        "p99_ms": 1000 * percentile(latencies, 0.99),
    }


def wait_healthy(url: str, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url + "/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(POLL_S)
    raise RuntimeError(f"the server at {url} did not become healthy within {STARTUP_S:.0f} s")


@contextmanager
def zoo_serve(args: list[str], paths: Sequence[str] = ()) -> Iterator[str]:
    """`python -m zoo serve ARGS` on a free port of 127.0.0.1, in its own process group, its URL
    once /health answers; stopped as Ctrl-C stops it (then killed if it lingers) when done.
    `paths` go on its PYTHONPATH after this checkout (a folder holding a network of one's own)."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), *paths]), OMP_NUM_THREADS="1")
    process = subprocess.Popen([sys.executable, "-m", "zoo", "serve", *args, "--host", HOST, "--port", str(port)],
                               cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True, preexec_fn=ctrl_c_stops)
    url = f"http://{HOST}:{port}"
    try:
        wait_healthy(url, lambda: process.poll() is None)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def bare_app(models: list[str]) -> Any:
    """One plain FastAPI route per model, answering each request alone (no queue, no batching),
    in the event loop's thread: the quickest way one request at a time (a plain `def` route runs
    in a worker thread, which cost inception_mnist about 10 ms more a request on this machine).
    (This module has no `from __future__ import annotations`: FastAPI reads the route's body type
    from its annotation, a class imported here, not a name it could resolve.)"""
    import torch
    from fastapi import FastAPI

    from zoo.serve import adapter

    torch.set_num_threads(1)
    app = FastAPI()
    for name in models:
        model = adapter.load(name, None)

        async def endpoint(request: adapter.ImageRequest, model: Any = model) -> Any:
            query = adapter.checked(request)
            return query if isinstance(query, adapter.Refusal) else adapter.answer(model, [query])[0]

        app.add_api_route(f"/predict/{name}", endpoint, methods=["POST"])
    return app


def serve_bare(port: int, models: list[str]) -> None:
    """The bare server's process: `python -c` runs this, so it has a core of its own as `zoo serve` has."""
    import uvicorn

    uvicorn.run(bare_app(models), host=HOST, port=port, log_level="warning")


@contextmanager
def bare_fastapi(models: list[str]) -> Iterator[str]:
    """The bare server in a process of its own, its URL once a model answers; ended when done."""
    port = free_port()
    code = f"from benchmarks.serve import serve_bare; serve_bare({port}, {models!r})"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://{HOST}:{port}"
    try:
        wait_healthy_route(url, models[0], lambda: process.poll() is None)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_healthy_route(url: str, model: str, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline and alive():
        try:
            post(f"{url}/predict/{model}", digit_body())
            return
        except urllib.error.HTTPError:
            raise
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the bare FastAPI server at {url} did not answer")


def run(settings: Settings) -> SectionResult:
    models = settings.models
    body = digit_body()
    count = QUICK_REQUESTS if settings.quick else REQUESTS
    settings_ = [("bare FastAPI, one at a time", 1)] + [(server, c) for server in RUNTIMES.values() for c in CLIENTS]
    found: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    with (bare_fastapi(models) as bare_url, zoo_serve(["--model", *models]) as zoo_url,
          zoo_serve(["--model", *models, "--runtime", "onnxruntime"]) as onnx_url):
        urls = {"bare FastAPI, one at a time": bare_url, RUNTIMES["torch"]: zoo_url, RUNTIMES["onnxruntime"]: onnx_url}
        for name in models:
            for url in urls.values():
                for _ in range(WARMUP):
                    post(f"{url}/predict/{name}", body)
        for repeat in range(settings.repeats):
            for name in models:
                for server, clients in alternate(settings_, repeat):
                    measured = measure(f"{urls[server]}/predict/{name}", body, clients, count)
                    found.setdefault((name, server, clients), []).append(measured)
    rows = [
        {"model": name, "server": server, "clients": clients, "requests": sum(m["requests"] for m in runs),
         "repeats": len(runs), **{key: median(m[key] for m in runs) for key in ("req_per_s", "p50_ms", "p99_ms")}}
        for (name, server, clients), runs in found.items()
    ]
    bare = {row["model"]: row["req_per_s"] for row in rows if row["server"].startswith("bare")}
    for row in rows:
        row["x bare"] = row["req_per_s"] / bare[row["model"]]
    rows.sort(key=lambda row: (row["model"], row["server"], row["clients"]))
    notes = [f"medians of {settings.repeats} repeats, settings alternated; {count} requests per setting and repeat "
             f"(at most {SETTING_LIMIT_S:.0f} s each) on {HOST}, after {WARMUP} untimed; x bare = requests per second "
             "over the bare endpoint's, one client at a time"]
    return SectionResult(NAME, rows, SHOWN, [], notes)
