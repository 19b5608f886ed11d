"""`zoo serve`: every model as a web service on LitServe, and a page where people draw a digit.

The models that answer in one piece (images, surnames, hello words, numbers) are one LitServe
`LitAPI` in one worker process: `POST /predict/<name>` checks the body against the model's request
schema (a wrong field is a 422 naming it) and queues it with the model's name, then LitServe
batches requests from different clients and each model answers its part of a batch in one
forward pass; a request still queued after `--timeout` seconds is answered 504. An image model's
endpoint also takes a form upload, turned into the JSON body first (`FormUploads`). A language
model's text streams for at most `--timeout` seconds, then ends with a `detail` line.

Four parts are plain FastAPI routes on LitServe's own app (`LitServer.app`), because LitServe
0.2.19 cannot do them:
- LitServe gives each LitAPI a worker process of its own, and each imports torch and Lightning:
  sixteen models took 91 s to start on two busy cores, so one worker serves them all (its start
  time is in docs/guides/serving.md). The `/predict/<name>` routes are ours, and queue for the
  one LitAPI through LitServe's own `RegularRequestHandler`, as the route LitServe makes for a
  LitAPI does;
- a language model's `POST /predict/<name>` streams text, and LitServe answers a streamed request
  200 before its worker has read it, so a prompt it must refuse (a character outside the model's
  vocabulary) could not get a 4xx; the route checks the prompt first, then streams from a thread;
- LitServe's batched loop answers every request of a batch with the error of any one of them, so
  nothing a request brings may raise in the worker: the route refuses a malformed request
  (`adapter.checked`) before it is queued, `adapter.answer` returns a `Refusal` for an input the
  model refuses (400) or fails on (500), and `encode_response` turns it into its own JSON answer;
- `GET /`, the page's files, `GET /models`, the docs site at `/site/`, and a 404 naming the
  served models for an unknown one.

The HTTP server is one process forked from this one, so the language models loaded here serve
from there; LitServe's thread mode is not used because its shutdown does not stop a thread, and
Ctrl-C would leave the server running.
"""

import base64
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import litserve as ls
import torch
from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from litserve.server import RegularRequestHandler
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zoo.errors import ZooError
from zoo.registry import unknown_name_message
from zoo.serve import BATCH_WAIT_S, adapter
from zoo.serve.adapter import Body, ImageRequest, PromptRequest, Query, Refusal
from zoo.serve.lifeline import ForkedChildren, die_with

MAX_BATCH = 32
QUEUE_PATH = "/queue"
"""The path LitServe gives the models' LitAPI; its route is removed, `/predict/<name>` queue instead."""
PAGE_FILES = {"index.html": "text/html", "serve.css": "text/css", "serve.js": "text/javascript"}


@dataclass(frozen=True)
class Routed:
    """A checked request and the model it is for, as it is queued for the worker."""

    name: str
    query: Query


class ModelsAPI(ls.LitAPI):
    """Every model that answers in one piece, loaded once in one worker process: a worker per
    model took minutes to start, each importing torch and Lightning on its own. Requests from
    different clients, to any of the models, are batched; each model answers its part of a batch
    in one forward pass."""

    def __init__(self, checkpoints: dict[str, str | None], runtime: str) -> None:
        super().__init__(max_batch_size=MAX_BATCH, batch_timeout=BATCH_WAIT_S, api_path=QUEUE_PATH)
        self.checkpoints = checkpoints
        self.runtime = runtime
        self.server_pid = os.getpid()

    def setup(self, device: str) -> None:
        die_with(self.server_pid)
        torch.set_num_threads(1)
        self.models = {name: adapter.answering(name, ckpt, self.runtime) for name, ckpt in self.checkpoints.items()}

    def decode_request(self, request: Routed) -> Routed:
        return request

    def batch(self, inputs: list[Routed]) -> list[Routed]:
        return inputs

    def predict(self, x: list[Routed]) -> list[dict[str, Any] | Refusal]:
        answers: dict[int, dict[str, Any] | Refusal] = {}
        for name in dict.fromkeys(routed.name for routed in x):
            mine = [i for i, routed in enumerate(x) if routed.name == name]
            answers.update(zip(mine, adapter.answer(self.models[name], [x[i].query for i in mine]), strict=True))
        return [answers[i] for i in range(len(x))]

    def unbatch(self, output: list[dict[str, Any] | Refusal]) -> list[dict[str, Any] | Refusal]:
        return output

    def encode_response(self, output: dict[str, Any] | Refusal) -> Response:
        if isinstance(output, Refusal):
            return refusal_answer(output)
        try:
            return JSONResponse(output)
        except ValueError as err:  # a label JSON cannot carry (a lone surrogate): this answer alone fails
            return refusal_answer(Refusal(500, f"the answer cannot be written as JSON ({err}); this is a bug: "
                                               "please report it with the input"))


def refusal_answer(refusal: Refusal) -> JSONResponse:
    return JSONResponse({"detail": refusal.detail}, status_code=refusal.status)


UPLOAD_SCHEMA = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["image"], "properties": {
        "image": {"type": "string", "format": "binary", "description": "the image file"},
        "top": {"type": "integer", "minimum": 1, "maximum": adapter.MAX_TOP, "default": 3}}}}}}}
"""The form upload an image model's endpoint also takes (`FormUploads`), shown beside its JSON body in /docs."""


def add_predictor(server: ls.LitServer, handler: RegularRequestHandler, name: str, body: type[Body]) -> None:
    """`POST /predict/<name>`: the body checked by FastAPI against the model's own request schema
    (a wrong field is a 422 naming it) and by `adapter.checked` (an image's base64, format and
    size from its header), then queued for the worker by LitServe's own handler, as the route
    LitServe makes for a LitAPI does. A refused request never reaches a batch."""

    async def predict(request: Body) -> Response:
        query = adapter.checked(request)
        if isinstance(query, Refusal):
            return refusal_answer(query)
        return await handler.handle_request(Routed(name, query), Routed)

    predict.__annotations__["request"] = body
    server.app.add_api_route(f"/predict/{name}", predict, methods=["POST"], summary=f"{name}'s answer",
                             openapi_extra=UPLOAD_SCHEMA if body is ImageRequest else None)


class FormUploads:
    """ASGI middleware: a multipart/form-data upload to an image model's endpoint becomes the JSON
    body that endpoint takes (`curl -F image=@seven.png`: the file as base64, the other fields as
    they are), so an upload meets the same checks, limits, batching and answers as JSON does.
    LitServe's body limit, outside this, still counts the upload's bytes as they are read."""

    def __init__(self, app: ASGIApp, paths: frozenset[str]) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths or not is_form(scope):
            await self.app(scope, receive, send)
            return
        body_read = False

        async def as_json() -> Message:
            nonlocal body_read
            if body_read:  # after the body, what the client does next (a disconnect)
                return await receive()
            body_read = True
            return {"type": "http.request", "body": await form_as_json(Request(scope, receive)), "more_body": False}

        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
        await self.app({**scope, "headers": [*headers, (b"content-type", b"application/json")]}, as_json, send)


def is_form(scope: Scope) -> bool:
    return dict(scope["headers"]).get(b"content-type", b"").startswith(b"multipart/form-data")


async def form_as_json(request: Request) -> bytes:
    """The form's fields as a JSON object, each file as base64; a file over the image limit is
    refused here, before it is encoded (an HTTPException the endpoint answers as JSON)."""
    body: dict[str, str] = {}
    form = await read_form(request)
    try:
        for key, value in form.multi_items():
            if isinstance(value, str):
                body[key] = value
                continue
            data = await value.read()
            if (big := adapter.too_big(len(data))) is not None:
                raise HTTPException(big.status, big.detail)
            body[key] = base64.b64encode(data).decode()
    finally:
        await form.close()
    return json.dumps(body).encode()


async def read_form(request: Request) -> FormData:
    """The form, or a 400 naming what Starlette could not read in it and how an upload is sent."""
    try:
        return await request.form(max_files=1, max_fields=len(ImageRequest.model_fields))
    except StarletteHTTPException as err:
        if err.status_code != 400:
            raise
        problem = str(err.detail).rstrip(".")
        raise HTTPException(400, f"the form upload cannot be read ({problem}); send one file as the field "
                                 "'image', e.g. curl -F image=@digit.png") from None


def validation_answer(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 as one line: each field at fault and what is wrong with it."""
    assert isinstance(exc, RequestValidationError)
    if any(e["type"] == "json_invalid" for e in exc.errors()):
        return JSONResponse({"detail": "the body is not JSON; send a JSON object (see GET /models)"}, status_code=422)
    media = request.headers.get("content-type", "").split(";")[0]
    if media and media != "application/json" and all(tuple(e["loc"]) == ("body",) for e in exc.errors()):
        return JSONResponse({"detail": f"the body is {media}, not JSON; send a JSON object (see GET /models)"},
                            status_code=422)
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
    return JSONResponse({"detail": f"{problems}; see the request schema in GET /models or /docs"}, status_code=422)


def http_answer(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's answer to an HTTPException, with LitServe's "Payload too large" naming the limit
    and FastAPI's "error parsing the body" (a body that is not UTF-8, or JSON nested or numbered
    beyond what Python reads) saying what to send."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if exc.status_code == 413 and detail == "Payload too large":
        detail = f"the request body is over the limit of {adapter.MAX_BODY_BYTES:,} bytes; send a smaller one"
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        detail = ("the body cannot be read as JSON (not UTF-8, nested too deep, or a number of thousands of "
                  "digits); send a JSON object in UTF-8 (see GET /models)")
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


def stream_lines(request: PromptRequest, characters: Iterator[str], deadline: float, timeout: float) -> Iterator[str]:
    """JSON lines: {"text": ...} per character as it is drawn, then the whole row; or, when the
    clock passes `deadline` (the answer is already 200 by then), {"detail": ...} as the last line."""
    text: list[str] = []
    for c in characters:
        if time.monotonic() > deadline:
            yield json.dumps({"detail": f"the text took longer than the server's limit of {timeout:g} s and was "
                                        f"stopped after {len(text)} of {request.length} characters; "
                                        "ask for a shorter length"}) + "\n"
            return
        text.append(c)
        yield json.dumps({"text": c}) + "\n"
    yield json.dumps(adapter.written(request, "".join(text))) + "\n"


def add_writer(server: ls.LitServer, name: str, model: Any, timeout: float) -> None:
    """`POST /predict/<name>` for a language model: the prompt checked, then its text streamed
    for at most `timeout` seconds from the request's arrival."""

    async def write(request: PromptRequest) -> Response:
        deadline = time.monotonic() + timeout
        try:
            characters = adapter.write(model, request)
        except ZooError as err:
            return JSONResponse({"detail": str(err)}, status_code=400)
        lines = stream_lines(request, characters, deadline, timeout)
        return StreamingResponse(lines, media_type="application/x-ndjson")

    server.app.add_api_route(f"/predict/{name}", write, methods=["POST"], summary=f"text from {name}, streamed")


def docs_page(site: Path | None, name: str) -> str | None:
    """Where the server serves the model's docs page, if the site has one (MkDocs writes
    docs/models/<name>.md as models/<name>/index.html)."""
    if site is None or not (site / "models" / name / "index.html").is_file():
        return None
    return f"/site/models/{name}/"


def add_routes(server: ls.LitServer, cards: list[dict[str, Any]], site: Path | None) -> None:
    """The page, the model cards, the documentation site and the answer for a model that is not served."""
    app = server.app
    if site is not None:
        app.mount("/site", StaticFiles(directory=site, html=True), name="site")
    app.router.routes = [r for r in app.router.routes if not (isinstance(r, Route) and r.path in ("/", QUEUE_PATH))]
    page = resources.files("zoo.serve").joinpath("page")

    def page_file(file: str) -> Response:
        if file not in PAGE_FILES:
            return JSONResponse({"detail": f"no page file {file!r}"}, status_code=404)
        return FileResponse(str(page.joinpath(file)), media_type=PAGE_FILES[file])

    async def index() -> Response:
        return page_file("index.html")

    async def asset(file: str) -> Response:
        return page_file(file)

    async def models() -> list[dict[str, Any]]:
        return cards

    served = [c["name"] for c in cards]

    async def unknown(name: str) -> JSONResponse:
        message = unknown_name_message("model", name, served, "GET /models")
        return JSONResponse({"detail": f"{message} (this server answers for: {', '.join(served)})"}, status_code=404)

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.add_api_route("/page/{file}", asset, methods=["GET"], include_in_schema=False)
    app.add_api_route("/models", models, methods=["GET"], summary="the served models' cards")
    app.add_api_route("/predict/{name}", unknown, methods=["POST"], include_in_schema=False)
    app.add_exception_handler(RequestValidationError, validation_answer)
    app.add_exception_handler(StarletteHTTPException, http_answer)
    app.title = "zoo serve"


def chosen_models(names: list[str] | None, ckpt_paths: list[str] | None) -> dict[str, tuple[Any, str | None]]:
    """name -> (model, checkpoint): each checkpoint's model, then the names given (every model
    with pretrained weights when none is), all loaded once here so that any mistake is one line
    before a worker starts."""
    from zoo.pretrained import cards
    from zoo.registry import MODELS

    models: dict[str, tuple[Any, str | None]] = {}
    for path in ckpt_paths or []:
        model = adapter.load(None, path)
        name = adapter.served_name(model)
        if name in models:
            raise ZooError(f"two checkpoints of {name} ({models[name][1]!r} and {path!r}); pass one per model")
        models[name] = (model, path)
    default = [] if ckpt_paths else sorted(n for n in cards() if n in MODELS.names())
    for name in names or default:
        if name not in models:
            adapter.request_body(name)  # a model zoo cannot take raw inputs for is refused here
            models[name] = (adapter.load(name, None), None)
    if all(adapter.streams(model) for model, _ in models.values()):
        raise ZooError("zoo serve needs at least one model that is not a language model (LitServe needs a "
                       "worker); add one with --model, e.g. a model from 'zoo list'")
    return models


class Server(ls.LitServer):
    """A LitServer whose inference workers ignore Ctrl-C. The terminal sends SIGINT to every
    process of the server, and a worker's KeyboardInterrupt was a traceback; this process ends
    the workers instead, as LitServe shuts down. An ignored signal is the one disposition a
    spawned process keeps, so it is ignored here while LitServe starts them."""

    def launch_inference_worker(self, lit_api: ls.LitAPI) -> list[Any]:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return list(super().launch_inference_worker(lit_api))
        finally:
            signal.signal(signal.SIGINT, previous)


def build_server(models: dict[str, tuple[Any, str | None]], timeout: float, site: Path | None,
                 runtime: str) -> ls.LitServer:
    checkpoints = {name: ckpt for name, (model, ckpt) in models.items() if not adapter.streams(model)}
    bodies = {name: adapter.request_body(models[name][0]) for name in checkpoints}
    uploads = frozenset(f"/predict/{name}" for name in checkpoints if bodies[name] is ImageRequest)
    api = ModelsAPI(checkpoints, runtime)
    server = Server(api, accelerator="cpu", workers_per_device=1, timeout=timeout,
                    max_payload_size=adapter.MAX_BODY_BYTES, middlewares=[(FormUploads, {"paths": uploads})])
    handler = RegularRequestHandler(api, server)
    for name in checkpoints:
        add_predictor(server, handler, name, bodies[name])
    for name, (model, _) in models.items():
        if adapter.streams(model):
            add_writer(server, name, model, timeout)
    cards = [adapter.card(name, model, ckpt, docs_page(site, name)) for name, (model, ckpt) in models.items()]
    add_routes(server, cards, site)
    return server


def serve(names: list[str] | None, ckpt_paths: list[str] | None, host: str, port: int, timeout: float,
          site: Path | None, runtime: str) -> None:
    """Load the models (any mistake is one line before a worker starts), then serve until Ctrl-C
    (`zoo: interrupted`, exit 130) or SIGTERM (`zoo: terminated (SIGTERM)`, exit 143), as `zoo fit`
    ends on them; a worker that dies stops the server with one line and exit 1. Every process
    LitServe starts ends with this one, a SIGKILL of it included (`lifeline`)."""
    torch.set_num_threads(1)
    server = build_server(chosen_models(names, ckpt_paths), timeout, site, runtime)
    print(f"zoo: serving on http://{host}:{port}/ (the page), API docs at /docs", flush=True)
    received: list[int] = []
    this_process = os.getpid()

    def stop(signum: int, frame: Any) -> None:
        """LitServe shuts down on KeyboardInterrupt only: SIGTERM takes the same way out. The HTTP
        server's process, forked by LitServe with this handler, meets it again when uvicorn
        raises the signal it shut down on: there it ends quietly."""
        if os.getpid() != this_process:
            raise SystemExit(0)
        received.append(signum)
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    ForkedChildren()
    try:
        server.run(host=host, port=port, num_api_servers=1, api_server_worker_type="process",
                   generate_client_file=False, log_level="warning")
    except KeyboardInterrupt:  # while the workers started, before LitServe's own shutdown was armed
        for worker in getattr(server, "inference_workers", []):
            worker.terminate()
    except (EOFError, OSError):  # LitServe's monitor shut its manager down under it: a worker died
        if (dead := dead_worker(server)) is None:
            raise
        print(f"zoo: {dead}", file=sys.stderr)
        raise SystemExit(1) from None
    if signal.SIGTERM in received:
        print("zoo: terminated (SIGTERM)", file=sys.stderr)
        raise SystemExit(143)
    if received:
        raise KeyboardInterrupt  # `zoo: interrupted`, exit 130


def dead_worker(server: ls.LitServer) -> str | None:
    """The line saying which of the server's worker processes died and how, if one did."""
    for worker in getattr(server, "inference_workers", []):
        if worker.exitcode is not None:
            how = (f"was killed by signal {-worker.exitcode} ({signal.strsignal(-worker.exitcode)})"
                   if worker.exitcode < 0 else f"exited with status {worker.exitcode}")
            return (f"the models' worker process (pid {worker.pid}) {how}, so the server stopped; start zoo serve "
                    "again (a worker killed for memory: serve fewer models with --model)")
    return None
