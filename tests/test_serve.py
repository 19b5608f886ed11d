"""`zoo serve` as its users meet it: a real server process on 127.0.0.1, every endpoint and every
refusal over HTTP, and the page in a real headless browser where a digit is drawn."""

from __future__ import annotations

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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("litserve", reason="zoo serve needs the serve extra: pip install -e '.[serve]'")

from benchmarks.serve import ctrl_c_stops, free_port, wait_healthy, zoo_serve

pytestmark = pytest.mark.slow  # each test module server takes 10 to 20 s to start

ROOT = Path(__file__).resolve().parents[1]
MNIST = ["cnn_mnist", "cnn_deep_mnist", "inception_mnist", "lenet_mnist", "mlp_mnist", "resnet_mnist"]
MODELS = [*MNIST, "gru_names", "rnn_hello", "char_rnn_shakespeare", "linear_regression"]
"""Served by the test's server; linear_regression from a checkpoint of the user's own (y = 3x)."""
CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = ROOT / "docs" / "serve-page.png"


def request(url: str, body: dict | None = None, raw: bytes | None = None,
            content_type: str = "application/json") -> tuple[int, str]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def own_checkpoint(path: Path) -> Path:
    """A linear_regression checkpoint as `zoo fit` writes one, with weights that give y = 3x."""
    import torch

    from zoo.building import build

    model = build("linear_regression")
    with torch.no_grad():
        for name, weight in model.net.named_parameters():
            weight.fill_(3.0 if name.endswith("weight") else 0.0)
    hparams = dict(model.hparams) | {"_class_path": f"zoo.tasks.{type(model).__name__}"}
    torch.save({"hyper_parameters": hparams, "state_dict": model.state_dict(), "epoch": 0, "global_step": 1}, path)
    return path


def docs_site(folder: Path) -> Path:
    """A built documentation site as MkDocs lays one out, with pages for the MNIST models only
    (the screenshot shows their docs links)."""
    (folder / "index.html").write_text("<h1>zoo</h1>")
    for name in MNIST:
        (folder / "models" / name).mkdir(parents=True)
        (folder / "models" / name / "index.html").write_text(f"<h1>{name}</h1>")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    checkpoint = own_checkpoint(tmp_path_factory.mktemp("serve") / "y_is_3x.ckpt")
    site = docs_site(tmp_path_factory.mktemp("site"))
    with zoo_serve(["--model", *MODELS, "--ckpt_path", str(checkpoint), "--site", str(site)]) as url:
        yield url


def png(size: tuple[int, int], stroke: bool) -> str:
    return png_with_stroke(size, width=10 if stroke else 0)


def png_with_stroke(size: tuple[int, int], width: int) -> str:
    """A black PNG, base64, with a vertical white stroke (a "1") `width` pixels wide, if any."""
    from PIL import Image, ImageDraw

    image = Image.new("L", size, 0)
    if width:
        ImageDraw.Draw(image).line([(size[0] // 2, 10), (size[0] // 2, size[1] - 10)], fill=255, width=width)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@dataclass(frozen=True)
class Upload:
    """A multipart/form-data body as `curl -F image=@seven.png -F top=2` sends it: files (bytes,
    or a placeholder of `body_of`) and plain fields, by field name."""

    files: dict[str, str | bytes]
    fields: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        boundary = "zoo-test-boundary"
        parts = [(f'name="{name}"; filename="{name}.png"\r\nContent-Type: image/png',
                  base64.b64decode(png(*IMAGES[data])) if isinstance(data, str) else data)
                 for name, data in self.files.items()]
        parts += [(f'name="{name}"', value.encode()) for name, value in self.fields.items()]
        body = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; {head}\r\n\r\n".encode() + data + b"\r\n"
                        for head, data in parts)
        return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


ONE = "__one__"
IMAGES = {ONE: ((100, 100), True), "__blank__": ((50, 50), False), "__bomb__": ((9500, 9500), False)}
"""What the placeholders in a row's body stand for: a PNG's size, and whether a "1" is drawn on it."""
ANSWERS = [  # what | path | body | status | a field of the JSON answer, or the start of its "detail"
    ("a digit", "/predict/cnn_mnist", {"image": ONE}, 200, {"prediction": "1"}),
    ("a canvas data URL, top 2", "/predict/cnn_mnist", {"image": "data:image/png;base64," + ONE, "top": 2},
     200, {"label_2": str}),
    ("a surname", "/predict/gru_names", {"input": "Nguyen"}, 200, {"label_3": str}),
    ("a hello word", "/predict/rnn_hello", {"input": "hello"}, 200, {"prediction": "ohlol"}),
    ("a number, to the user's checkpoint", "/predict/linear_regression", {"input": "4"}, 200, {"prediction": "12"}),
    ("an uploaded file (curl -F)", "/predict/cnn_mnist", Upload({"image": ONE}), 200, {"prediction": "1"}),
    ("an uploaded file, top 2", "/predict/cnn_mnist", Upload({"image": ONE}, {"top": "2"}), 200,
     {"prediction": "1", "label_2": str}),
]
REFUSALS = [
    ("not base64", "/predict/cnn_mnist", {"image": "!!!"}, 400, "image is not base64"),
    ("not an image", "/predict/cnn_mnist", {"image": base64.b64encode(b"hello").decode()}, 400,
     "cannot read image 'upload'"),
    ("no digit on it", "/predict/cnn_mnist", {"image": "__blank__"}, 400, "image 'upload' shows no digit"),
    ("more pixels than Pillow allows", "/predict/cnn_mnist", {"image": "__bomb__"}, 413,
     "image is 9500x9500 = 90,250,000 pixels, over the limit of"),
    ("a misspelt field", "/predict/cnn_mnist", {"imag": "x"}, 422, "image: Field required"),
    ("top out of range", "/predict/gru_names", {"input": "Nguyen", "top": 0}, 422, "top: Input should be"),
    ("not JSON", "/predict/gru_names", b"{not json", 422, "the body is not JSON"),
    ("a blank surname", "/predict/gru_names", {"input": "  "}, 400, "name number 1 ('  ') is empty"),
    ("text over the limit", "/predict/gru_names", {"input": "a" * 20_001}, 422,
     "input: String should have at most 20000 characters"),
    ("a body over 1 MiB", "/predict/gru_names", b'{"input":"' + b"a" * 1_100_000 + b'"}', 413,
     "the request body is over the limit of 1,048,576 bytes"),
    ("a letter outside e h l o", "/predict/rnn_hello", {"input": "hxllo"}, 400,
     "the text has characters outside the vocabulary: 'x'"),
    ("two numbers for one", "/predict/linear_regression", {"input": "4,5"}, 400, "input '4,5' has 2 numbers"),
    ("a prompt outside the vocabulary", "/predict/char_rnn_shakespeare", {"prompt": "ROMEO{"}, 400,
     "the prompt has characters outside the vocabulary: '{'"),
    ("a generation too long", "/predict/char_rnn_shakespeare", {"prompt": "A", "length": 2001}, 422,
     "length: Input should be less than or equal to 2000"),
    ("temperature zero", "/predict/char_rnn_shakespeare", {"prompt": "A", "temperature": 0}, 422,
     "temperature: Input should be greater than 0"),
    ("an empty prompt", "/predict/char_rnn_shakespeare", {"prompt": ""}, 422, "prompt: String should have at least"),
    ("an upload without the image field", "/predict/cnn_mnist", Upload({"imag": ONE}), 422,
     "image: Field required; imag: Extra inputs are not permitted"),
    ("an uploaded file that is not an image", "/predict/cnn_mnist", Upload({"image": b"hello"}), 400,
     "cannot read image 'upload'"),
    ("an uploaded image with more pixels than Pillow allows", "/predict/cnn_mnist", Upload({"image": "__bomb__"}),
     413, "image is 9500x9500 = 90,250,000 pixels, over the limit of"),
    ("an uploaded file over 750 kB", "/predict/cnn_mnist", Upload({"image": bytes(800_000)}), 413,
     "image is 800,000 bytes, over the limit of 750,000; send a smaller file"),
    ("an upload over 1 MiB", "/predict/cnn_mnist", Upload({"image": bytes(1_100_000)}), 413,
     "the request body is over the limit of 1,048,576 bytes"),
    ("two files in one upload", "/predict/cnn_mnist", Upload({"image": ONE, "more": ONE}), 400,
     "the form upload cannot be read (Too many files. Maximum number of files is 1); send one file as the field"),
    ("an upload to a text model", "/predict/gru_names", Upload({}, {"input": "Nguyen"}), 422,
     "the body is multipart/form-data, not JSON; send a JSON object"),
    ("a model not served", "/predict/cnn_mnis", {"input": "x"}, 404,
     "unknown model 'cnn_mnis'; did you mean 'cnn_mnist'? (this server answers for: linear_regression, cnn_mnist,"),
    ("a model not like any served", "/predict/zebra", {"input": "x"}, 404,
     "unknown model 'zebra'; run 'GET /models' to see them all (this server answers for: linear_regression,"),
]


def body_of(body: dict | bytes | Upload) -> tuple[bytes, str]:
    """The bytes a row sends and their content type, its placeholders replaced by images."""
    if isinstance(body, Upload):
        return body.encoded()
    if isinstance(body, bytes):
        return body, "application/json"
    image = body.get("image")
    if isinstance(image, str):
        for key, (size, stroke) in IMAGES.items():
            image = image.replace(key, png(size, stroke)) if key in image else image
        body = {**body, "image": image}
    return json.dumps(body).encode(), "application/json"


@pytest.mark.parametrize(("what", "path", "body", "status", "expected"), ANSWERS + REFUSALS,
                         ids=[row[0] for row in ANSWERS + REFUSALS])
def test_endpoint(server: str, what: str, path: str, body: dict | bytes | Upload, status: int, expected) -> None:
    data, content_type = body_of(body)
    code, text = request(server + path, raw=data, content_type=content_type)
    assert code == status, text
    answer = json.loads(text)
    if isinstance(expected, str):
        assert answer["detail"].startswith(expected), answer
    else:
        for key, value in expected.items():
            assert isinstance(answer[key], value) if isinstance(value, type) else answer[key] == value, answer
    assert request(server + "/health") == (200, "ok")  # still serving after any request


def test_prompt_streams_the_text_of_zoo_predict(server: str) -> None:
    code, text = request(server + "/predict/char_rnn_shakespeare", {"prompt": "ROMEO:", "length": 40, "seed": 1})
    lines = [json.loads(line) for line in text.splitlines()]
    assert code == 200
    assert len(lines) == 41
    assert "".join(line["text"] for line in lines[:-1]) == lines[-1]["prediction"]
    assert lines[-1]["input"] == "ROMEO:"
    command = subprocess.run(
        [sys.executable, "-m", "zoo", "predict", "--model", "char_rnn_shakespeare", "ROMEO:", "--length", "40",
         "--seed", "1", "--output", os.devnull], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert lines[-1]["prediction"].replace("\n", "\\n") in command.stdout


def test_models_health_docs_and_page(server: str) -> None:
    code, text = request(server + "/models")
    cards = {card["name"]: card for card in json.loads(text)}
    assert code == 200 and sorted(cards) == sorted(MODELS)
    assert cards["cnn_mnist"]["kind"] == "images" and cards["cnn_mnist"]["labels"] == list("0123456789")
    assert cards["cnn_mnist"]["weights"].startswith("zoo's pretrained weights (test/acc")
    assert cards["cnn_mnist"]["docs"] == "/site/models/cnn_mnist/"
    assert request(server + cards["cnn_mnist"]["docs"]) == (200, "<h1>cnn_mnist</h1>")
    assert cards["gru_names"]["docs"] is None  # the site has no page for it
    assert cards["char_rnn_shakespeare"]["streams"] is True
    assert cards["linear_regression"]["weights"].startswith("checkpoint ") and "y_is_3x.ckpt" in text
    assert request(server + "/health") == (200, "ok")
    schema = json.loads(request(server + "/openapi.json")[1])
    assert {f"/predict/{name}" for name in MODELS} <= set(schema["paths"])
    bodies = schema["paths"]["/predict/cnn_mnist"]["post"]["requestBody"]["content"]
    assert set(bodies) == {"application/json", "multipart/form-data"}
    assert set(schema["paths"]["/predict/gru_names"]["post"]["requestBody"]["content"]) == {"application/json"}
    assert request(server + "/docs")[0] == 200
    page = request(server + "/")[1]
    assert '<canvas id="canvas"' in page and "/page/serve.js" in page
    assert request(server + "/page/serve.js")[0] == 200
    assert request(server + "/page/nothing.js")[0] == 404


def test_binds_to_this_machine_only(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    outward = [a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    for address in {a for a in outward if not a.startswith("127.")}:
        with socket.socket() as probe, pytest.raises(OSError):
            probe.settimeout(2)
            probe.connect((address, port))


@contextmanager
def browser_page(url: str) -> Iterator[Any]:
    """The page at `url` in headless chromium (the test is skipped without it or playwright)."""
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the browser test)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no {CHROMIUM}: apt-get install -y chromium (the browser test)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.goto(url + "/")
        yield page
        browser.close()


def test_a_digit_drawn_on_the_page(server: str) -> None:
    with browser_page(server) as page:
        canvas = page.locator("#canvas").bounding_box()
        assert canvas is not None
        x = canvas["x"] + canvas["width"] * 0.5
        page.mouse.move(x, canvas["y"] + canvas["height"] * 0.15)
        page.mouse.down()
        page.mouse.move(x + 4, canvas["y"] + canvas["height"] * 0.85, steps=25)  # a "1", top to bottom
        page.mouse.up()
        answered = " && ".join(f"document.querySelector('#pred-{name}').textContent !== ''" for name in MNIST)
        page.wait_for_function(answered, timeout=60_000)
        page.wait_for_timeout(2000)  # the answers to the finished stroke
        digits = {name: page.locator(f"#pred-{name}").text_content() for name in MNIST}
        docs_link = page.locator("#model-cnn_mnist .meta a").get_attribute("href")
        no_docs = page.locator("#model-gru_names .meta").text_content()
        page.screenshot(path=str(SCREENSHOT))
    assert digits["cnn_mnist"] == "1", digits
    assert list(digits.values()).count("1") >= 4, digits
    assert docs_link == "/site/models/cnn_mnist/"
    assert no_docs is not None and no_docs.endswith("docs: make docs")
    assert SCREENSHOT.stat().st_size > 0


def test_a_request_waiting_past_the_timeout_is_answered_504() -> None:
    """A 9000x9000 picture keeps the only worker busy for about a second (6000x6000 took 0.4 s
    on an idle machine, too short); a request queued behind it past `--timeout` is answered 504
    in JSON, and the server keeps serving."""
    with zoo_serve(["--model", "cnn_mnist", "--timeout", "0.5"]) as url:
        slow_body = {"image": png_with_stroke((9000, 9000), width=400)}
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(request, url + "/predict/cnn_mnist", slow_body)
            time.sleep(0.1)
            queued = request(url + "/predict/cnn_mnist", {"image": png((100, 100), True)})
            assert slow.result()[0] == 200
        assert queued[0] == 504 and json.loads(queued[1]) == {"detail": "Request timed out"}
        assert request(url + "/predict/cnn_mnist", {"image": png((100, 100), True)})[0] == 200


def test_a_text_past_the_timeout_ends_with_the_limit() -> None:
    """The streamed text is answered 200 before it is written, so the time limit is its last line."""
    with zoo_serve(["--model", "cnn_mnist", "char_rnn_shakespeare", "--timeout", "0.01"]) as url:
        code, text = request(url + "/predict/char_rnn_shakespeare", {"prompt": "ROMEO:", "length": 2000})
        lines = [json.loads(line) for line in text.splitlines()]
        assert code == 200
        written = len(lines) - 1
        assert written < 2000 and all(set(line) == {"text"} for line in lines[:-1])
        assert lines[-1] == {"detail": "the text took longer than the server's limit of 0.01 s and was stopped "
                                       f"after {written} of 2000 characters; ask for a shorter length"}
        assert request(url + "/health") == (200, "ok")
        with browser_page(url) as page:
            page.fill("#prompt-length", "2000")
            page.click("#prompt-form button")
            page.wait_for_function("document.querySelector('#error').textContent !== ''", timeout=30_000)
            shown = page.locator("#error").text_content()
    assert shown is not None and shown.startswith("char_rnn_shakespeare: the text took longer than the server's")


@pytest.mark.parametrize(("signum", "to_all", "status", "line"), [
    (signal.SIGINT, True, 130, "zoo: interrupted"),
    (signal.SIGTERM, False, 143, "zoo: terminated (SIGTERM)"),
], ids=["ctrl-c to every process", "sigterm to the command"])
def test_stopped_in_one_line(signum: int, to_all: bool, status: int, line: str) -> None:
    """Ctrl-C reaches every process of the server (the terminal's process group), SIGTERM from a
    service manager the command's alone: either way one line, the exit of `zoo fit`, no
    traceback from a worker, and no process left behind."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo", "serve", "--model", "cnn_mnist", "--port", str(port)], cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=ctrl_c_stops)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", lambda: process.poll() is None)
        (os.killpg if to_all else os.kill)(process.pid, signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert (process.returncode, stderr) == (status, line + "\n")
    assert not group_alive(process.pid), "a worker or the HTTP server outlived the command"


def group_alive(group: int) -> bool:
    """Whether any process of the group is left, a few seconds after its leader ended."""
    for _ in range(50):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return True


def test_a_port_in_use_is_refused_in_one_line(run_zoo) -> None:
    """The rest of the command's refusals are rows of tests/test_refusals.py; this one needs a
    port that something holds."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_zoo("serve", "--port", str(port))
    assert (result.returncode, result.stderr) == (2, f"zoo: error: port {port} on 127.0.0.1 is in use; "
                                                     "pass another with --port\n")


def test_without_litserve_the_command_says_which_extra(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import importlib.util

    from zoo.cli import main

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(SystemExit) as exit_code:
        main(["serve"])
    assert exit_code.value.code == 2
    assert capsys.readouterr().err == 'zoo: error: zoo serve needs LitServe; pip install -e ".[serve]"\n'


@pytest.mark.parametrize(("side", "detail"), [
    (12, "image is 12x12 = 144 pixels, over the limit of 100; send a smaller image"),
    (20, "image has more than 200 pixels, over the limit of 100; send a smaller image"),
])
def test_pixels_over_pillows_limit_are_refused(monkeypatch: pytest.MonkeyPatch, side: int, detail: str) -> None:
    """The pixel limit is Pillow's own, read when a request comes (here lowered to 100): over it
    is a 413, over twice it (where Pillow itself refuses to open the file) too."""
    from PIL import Image

    from zoo.serve.adapter import ImageRequest, Refusal, image_bytes

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    assert image_bytes(ImageRequest(image=png((side, side), False))) == Refusal(413, detail)
