"""`zoo serve` as its users meet it: a real server process on 127.0.0.1, every endpoint and every
refusal over HTTP, and the page in a real headless browser where a digit is drawn."""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
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

from benchmarks.serve import ctrl_c_stops, digit_body, free_port, wait_healthy, zoo_serve
from tools.docs_browser import draw_a_one

pytestmark = pytest.mark.slow  # each test module server takes 10 to 20 s to start

ROOT = Path(__file__).resolve().parents[1]
MNIST = ["cnn_mnist", "cnn_deep_mnist", "inception_mnist", "lenet_mnist", "mlp_mnist", "resnet_mnist"]
MODELS = [*MNIST, "gru_names", "rnn_hello", "char_rnn_shakespeare", "diabetes_mlp", "linear_regression"]
"""Served by the test's server; linear_regression from a checkpoint of the user's own (y = 3x)."""
CHROMIUM = "/usr/bin/chromium"


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
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return own_checkpoint(tmp_path_factory.mktemp("serve") / "y_is_3x.ckpt")


@pytest.fixture(scope="module")
def server(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = docs_site(tmp_path_factory.mktemp("site"))
    with zoo_serve(["--model", *MODELS, "--ckpt_path", str(checkpoint), "--site", str(site)]) as url:
        yield url


def png(size: tuple[int, int], stroke: bool) -> str:
    return png_with_stroke(size, width=10 if stroke else 0)


def png_with_stroke(size: tuple[int, int], width: int, mode: str = "L") -> str:
    """A black PNG, base64, with a vertical white stroke (a "1") `width` pixels wide, if any."""
    from PIL import Image, ImageDraw

    image = Image.new(mode, size, "black")
    if width:
        ImageDraw.Draw(image).line([(size[0] // 2, 10), (size[0] // 2, size[1] - 10)], fill="white", width=width)
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
IMAGES = {ONE: ((100, 100), True), "__blank__": ((50, 50), False), "__bomb__": ((9500, 9500), False),
          "__large__": ((2049, 2048), False)}
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
    ("a data URL without its data", "/predict/cnn_mnist", b'{"image": "data:image/png;base64"}', 400,
     "image is a data URL without base64 data after a comma ('data:image/png;base64'); send the whole"),
    ("a data URL that is not base64", "/predict/cnn_mnist", {"image": "data:text/plain,hello"}, 400,
     "image is a data URL without base64 data after a comma ('data:text/plain')"),
    ("an empty data URL", "/predict/cnn_mnist", {"image": "data:image/png;base64,"}, 400,
     "cannot read image 'upload' (UnidentifiedImageError: not an image Pillow can decode)"),
    ("an image that is a number", "/predict/cnn_mnist", {"image": 7}, 422, "image: Input should be a valid string"),
    ("an empty image", "/predict/cnn_mnist", {"image": ""}, 422, "image: String should have at least 1 character"),
    ("a huge top", "/predict/cnn_mnist", {"image": ONE, "top": 10**30}, 422, "top: Input should be less than"),
    ("a top of 5000 digits", "/predict/gru_names", b'{"input": "Nguyen", "top": ' + b"9" * 5000 + b"}", 400,
     "the body cannot be read as JSON"),
    ("a body that is not UTF-8", "/predict/gru_names", b'{"input": "\xff\xfe"}', 400,
     "the body cannot be read as JSON (not UTF-8, nested too deep, or a number of thousands of digits); send"),
    ("a surname that is a list", "/predict/gru_names", {"input": ["Nguyen"]}, 422, "input: Input should be a valid"),
    ("a lone surrogate", "/predict/gru_names", b'{"input": "\\ud800"}', 422, "input: Input should be a valid string"),
    ("a seed over 2**63", "/predict/char_rnn_shakespeare", {"prompt": "A", "seed": 2**64}, 422,
     "seed: Input should be less than or equal to"),
    ("an infinite temperature", "/predict/char_rnn_shakespeare", b'{"prompt": "A", "temperature": 1e999}', 422,
     "temperature: Input should be a finite number"),
    ("an image over 2048x2048 pixels", "/predict/cnn_mnist", {"image": "__large__"}, 413,
     "image is 2049x2048 = 4,196,352 pixels, over the limit of 4,194,304; send a smaller image (scale it down)"),
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


@pytest.fixture(scope="module")
def onnx_server(checkpoint: Path) -> Iterator[str]:
    """The test server's models, and rnncell_hello, answering through their exported ONNX files."""
    pytest.importorskip("onnxruntime")
    with zoo_serve(["--runtime", "onnxruntime", "--model", *MODELS, "rnncell_hello",
                    "--ckpt_path", str(checkpoint)]) as url:
        yield url


@pytest.mark.parametrize(("what", "path", "body", "status", "expected"), ANSWERS, ids=[row[0] for row in ANSWERS])
def test_onnxruntime_answers_as_pytorch_does(server: str, onnx_server: str, what: str, path: str,
                                              body: dict | bytes | Upload, status: int, expected) -> None:
    """`zoo serve --runtime onnxruntime`: each request answered by the exported file as by
    PyTorch, labels the same and probabilities within 1e-4."""
    data, content_type = body_of(body)
    (code, text), (torch_code, torch_text) = (request(url + path, raw=data, content_type=content_type)
                                              for url in (onnx_server, server))
    assert (code, torch_code) == (status, status), text
    answer, wanted = json.loads(text), json.loads(torch_text)
    assert answer.keys() == wanted.keys()
    for key, value in wanted.items():
        assert answer[key] == (pytest.approx(value, abs=1e-4) if isinstance(value, float) else value), key


def test_onnxruntime_refuses_a_length_the_file_was_not_traced_for(onnx_server: str) -> None:
    """rnncell_hello's network loops in Python, so its file takes 5 characters: other lengths are
    a 400 naming the shape, and the model still answers."""
    assert request(onnx_server + "/predict/rnncell_hello", {"input": "hellohello"}) == (400, json.dumps({
        "detail": "rnncell_hello.onnx takes input0 of shape ['batch', 5], and this input is [1, 10]; "
                  "give an input of that size"}, separators=(",", ":")))
    assert json.loads(request(onnx_server + "/predict/rnncell_hello", {"input": "hello"})[1])["prediction"] == "ohlol"


def test_prompt_streams_the_text_of_zoo_predict(server: str, tmp_path: Path) -> None:
    code, text = request(server + "/predict/char_rnn_shakespeare", {"prompt": "ROMEO:", "length": 40, "seed": 1})
    lines = [json.loads(line) for line in text.splitlines()]
    assert code == 200
    assert len(lines) == 41
    assert "".join(line["text"] for line in lines[:-1]) == lines[-1]["prediction"]
    assert lines[-1]["input"] == "ROMEO:"
    command = subprocess.run(
        [sys.executable, "-m", "zoo", "predict", "--model", "char_rnn_shakespeare", "ROMEO:", "--length", "40",
         "--seed", "1", "--output", str(tmp_path / "written.csv")], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    assert command.stdout.startswith("ROMEO:" + lines[-1]["prediction"] + "\n")  # as text, line breaks kept


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


def test_a_digit_drawn_on_the_page(server: str, tmp_path: Path) -> None:
    """The page as people use it (its screenshot goes to tmp_path; the docs' picture is
    `python -m tools.docs_browser --serve-page docs/serve-page.png`)."""
    screenshot = tmp_path / "serve-page.png"
    with browser_page(server) as page:
        draw_a_one(page)
        digits = {name: page.locator(f"#pred-{name}").text_content() for name in MNIST}
        docs_link = page.locator("#model-cnn_mnist .meta a").get_attribute("href")
        no_docs = page.locator("#model-gru_names .meta").text_content()
        page.screenshot(path=str(screenshot))
    assert digits["cnn_mnist"] == "1", digits
    assert list(digits.values()).count("1") >= 4, digits
    assert docs_link == "/site/models/cnn_mnist/"
    assert no_docs is not None and no_docs.endswith("docs: make docs")
    assert screenshot.stat().st_size > 0


def test_the_page_shows_a_refusal_in_place_of_the_answer(server: str, tmp_path: Path) -> None:
    """A surname answered, then one refused: the old answer goes and the error takes its place,
    in the model's panel; every numbers panel's default input (its card's example) is answered."""
    with browser_page(server) as page:
        page.click("#names-form button")
        page.wait_for_function("document.querySelector('#pred-gru_names').textContent !== ''", timeout=60_000)
        labels = [box(page, "#bars-gru_names .label", i) for i in range(3)]
        fills = [box(page, "#bars-gru_names .fill", i) for i in range(3)]
        page.fill("#names-input", "Ng4uyen")
        page.click("#names-form button")
        page.wait_for_selector("#error-gru_names", timeout=60_000)
        refused = (page.locator("#pred-gru_names").text_content(), page.locator("#error-gru_names").text_content(),
                   page.locator("#bars-gru_names .bar").count())
        for name in ("diabetes_mlp", "linear_regression"):
            page.click(f"#model-{name} form button")
            page.wait_for_function(f"document.querySelector('#pred-{name}').textContent !== ''", timeout=60_000)
        page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
        diabetes, numbers = (page.locator(f"#pred-{name}").text_content() for name in ("diabetes_mlp",
                                                                                       "linear_regression"))
        errors = page.locator(".error").count()
    assert all(label["x"] + label["width"] <= min(f["x"] for f in fills) for label in labels), (labels, fills)
    assert all(a["y"] + a["height"] <= b["y"] + 1 for a, b in itertools.pairwise(labels)), labels  # one a row
    assert refused[0] == "" and refused[2] == 0, refused
    assert refused[1] is not None and refused[1].startswith("surname 'Ng4uyen' has '4'"), refused
    assert diabetes in ("0", "1") and numbers == "12" and errors == 1, (diabetes, numbers, errors)


def box(page: Any, selector: str, index: int) -> dict[str, float]:
    found = page.locator(selector).nth(index).bounding_box()
    assert found is not None, f"{selector} number {index} is not shown"
    return found


def test_a_request_waiting_past_the_timeout_is_answered_504() -> None:
    """Four clients keep the only worker busy, each sending RGBA pictures of the largest size
    allowed (2048x2048, about 0.12 s each on a quiet 2-core machine) one after another; small
    requests sent meanwhile (about 2 ms of work, 20 tries at most) wait for the picture in hand, and
    one waiting past `--timeout` (0.05 s, so most waits exceed it however fast the machine) is
    answered 504 in JSON; the server keeps serving."""
    small = {"image": png((100, 100), True)}
    done = threading.Event()
    with zoo_serve(["--model", "cnn_mnist", "--timeout", "0.05"]) as url:
        large = {"image": png_with_stroke((2048, 2048), width=100, mode="RGBA")}

        def keep_busy() -> list[int]:
            return [request(url + "/predict/cnn_mnist", large)[0] for _ in range(40) if not done.is_set()]

        with ThreadPoolExecutor(4) as pool:
            busy = [pool.submit(keep_busy) for _ in range(4)]
            queued: list[tuple[int, str]] = []
            while len(queued) < 20 and not any(code == 504 for code, _ in queued):
                time.sleep(0.1)
                queued.append(request(url + "/predict/cnn_mnist", small))
            done.set()
            assert {code for client in busy for code in client.result()} <= {200, 504}
        assert (504, {"detail": "Request timed out"}) in [(code, json.loads(text)) for code, text in queued], queued
        assert request(url + "/predict/cnn_mnist", small)[0] == 200


def test_a_malformed_request_fails_alone(server: str) -> None:
    """The 21-byte body that was a 500, and made 8 to 26 of 40 requests beside it fail with 500:
    now it is refused where it arrives, before it is queued, and every good request beside it is
    answered 200 (40 requests from 8 threads, on 127.0.0.1)."""
    bad = b'{"image": "data:image/png;base64"}'
    bodies = [bad if i % 5 == 0 else digit_body() for i in range(50)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda body: request(server + "/predict/cnn_mnist", raw=body), bodies))
    codes = [code for code, _ in answers]
    assert codes.count(400) == 10 and codes.count(200) == 40, answers


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is `pid`, with their command lines (Linux's /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # it ended while we looked
            continue
        if int(fields[1]) == pid:
            found[int(stat.parent.name)] = cmdline
    return found


@contextmanager
def server_process(port: int) -> Iterator[subprocess.Popen]:
    """`zoo serve --model cnn_mnist` in a process group of its own, once it answers; whatever is
    left of the group is killed at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo", "serve", "--model", "cnn_mnist", "--port", str(port)], cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=ctrl_c_stops)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", lambda: process.poll() is None)
        yield process
    finally:
        if group_alive(process.pid, tries=1):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the processes from Linux's /proc")
def test_a_killed_server_leaves_no_process_and_frees_the_port() -> None:
    """SIGKILL of the command alone (no handler runs): its HTTP server, LitServe's manager and
    the models' worker end with it within seconds, and `zoo serve` may take the port again."""
    from zoo.serve.command import check_address

    port = free_port()
    with server_process(port) as process:
        started = children(process.pid)
        assert any("spawn_main" in line for line in started.values()), started  # the models' worker
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert not group_alive(process.pid), "a process of the server outlived its SIGKILL"
        check_address("127.0.0.1", port)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the processes from Linux's /proc")
def test_a_dead_worker_stops_the_server_in_one_line() -> None:
    """The models' worker killed (as the kernel's OOM killer would): the command says so in one
    line and exits 1, no traceback, and no process of the server is left."""
    with server_process(free_port()) as process:
        worker = next(pid for pid, line in children(process.pid).items() if "spawn_main" in line)
        os.kill(worker, signal.SIGKILL)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 1
        assert stderr == (f"zoo: the models' worker process (pid {worker}) was killed by signal 9 (Killed), so the "
                          "server stopped; start zoo serve again (a worker killed for memory: serve fewer models "
                          "with --model)\n")
        assert not group_alive(process.pid)


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
            page.wait_for_selector("#error-char_rnn_shakespeare", timeout=30_000)
            shown = page.locator("#error-char_rnn_shakespeare").text_content()
            written_shown = page.locator("#text-char_rnn_shakespeare").text_content()
    assert shown is not None and shown.startswith("the text took longer than the server's limit of 0.01 s")
    assert written_shown is not None and written_shown.startswith("ROMEO:")  # the text written until then


@pytest.mark.parametrize(("signum", "to_all", "status", "line"), [
    (signal.SIGINT, True, 130, "zoo: interrupted"),
    (signal.SIGTERM, False, 143, "zoo: terminated (SIGTERM)"),
], ids=["ctrl-c to every process", "sigterm to the command"])
def test_stopped_in_one_line(signum: int, to_all: bool, status: int, line: str) -> None:
    """Ctrl-C reaches every process of the server (the terminal's process group), SIGTERM from a
    service manager the command's alone: either way one line, the exit of `zoo fit`, no
    traceback from a worker, and no process left behind."""
    with server_process(free_port()) as process:
        (os.killpg if to_all else os.kill)(process.pid, signum)
        _, stderr = process.communicate(timeout=60)
        assert (process.returncode, stderr) == (status, line + "\n")
        assert not group_alive(process.pid), "a worker or the HTTP server outlived the command"


def group_alive(group: int, tries: int = 50) -> bool:
    """Whether any process of the group is left, after up to `tries` looks a tenth of a second apart."""
    for _ in range(tries):
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


def test_runtime_refusals_are_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import importlib.util

    from zoo.cli import main

    with pytest.raises(SystemExit) as exit_code:
        main(["serve", "--runtime", "onnx"])
    assert exit_code.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "onnxruntime" else find_spec(name))
    with pytest.raises(SystemExit) as exit_code:
        main(["serve", "--runtime", "onnxruntime"])
    assert exit_code.value.code == 2
    assert capsys.readouterr().err == ("zoo: error: zoo serve --runtime onnxruntime needs onnx and onnxruntime; "
                                       'pip install -e ".[export]"\n')


@pytest.mark.parametrize(("side", "detail"), [
    (12, "image is 12x12 = 144 pixels, over the limit of 100; send a smaller image (scale it down)"),
    (20, "image has more than 200 pixels, over the limit of 100; send a smaller image (scale it down)"),
])
def test_pixels_over_pillows_limit_are_refused(monkeypatch: pytest.MonkeyPatch, side: int, detail: str) -> None:
    """The pixel limit is Pillow's own, read when a request comes (here lowered to 100): over it
    is a 413, over twice it (where Pillow itself refuses to open the file) too."""
    from PIL import Image

    from zoo.serve.adapter import ImageRequest, Refusal, image_bytes

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    assert image_bytes(ImageRequest(image=png((side, side), False))) == Refusal(413, detail)


def test_a_model_failing_on_one_query_fails_that_query_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that raises something other than a refusal (a bug) on one input: that query is a
    500 with one line, the rest of its batch is answered."""
    from zoo.answers import Row
    from zoo.serve import adapter

    def answer_rows(model: object, raws: list, k: int) -> list[Row]:
        if "boom" in raws:
            raise IndexError("list index out of range")
        return [Row(raw, raw.upper()) for raw in raws]

    class Model:
        display_name = "some_model"

    monkeypatch.setattr(adapter, "answer_rows", answer_rows)
    answers = adapter.answer(Model(), [adapter.Query("a", 3), adapter.Query("boom", 3), adapter.Query("c", 3)])
    assert answers[0]["prediction"] == "A" and answers[2]["prediction"] == "C"
    assert answers[1] == adapter.Refusal(500, "some_model failed on this input (IndexError: list index out of "
                                              "range); this is a bug: please report it with the input")


def test_an_answer_json_cannot_carry_is_a_500_of_its_own() -> None:
    from zoo.serve.app import ModelsAPI

    response = ModelsAPI({}, "torch").encode_response({"prediction": "\ud800"})
    assert response.status_code == 500 and json.loads(response.body)["detail"].startswith(
        "the answer cannot be written as JSON")


ORPHAN = """
import os, signal, sys, time
from zoo.serve import lifeline
if sys.argv[1] == "watch":
    lifeline.kernel_kills_orphan = lambda: False  # the way of a system without prctl
parent = os.getpid()
child = os.fork()
if child == 0:
    lifeline.die_with(parent)
    print(os.getpid(), flush=True)
    time.sleep(60)
    os._exit(0)
time.sleep(0.5)
os.kill(parent, signal.SIGKILL)
"""


def ended(pid: int) -> bool:
    """Whether the process is gone (or a zombie, ended and waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the processes from Linux's /proc")
@pytest.mark.parametrize("way", ["kernel", "watch"])
def test_a_child_ends_with_its_parent(way: str) -> None:
    """`lifeline.die_with`, both ways: the kernel's PR_SET_PDEATHSIG, and the thread that looks
    for the parent every second where there is no prctl; the child ends within seconds of a
    SIGKILL of its parent."""
    result = subprocess.run([sys.executable, "-c", ORPHAN, way], capture_output=True, text=True, timeout=60,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    child = int(result.stdout.split()[0])
    gone = any(ended(child) or time.sleep(0.1) for _ in range(100))
    if not gone:
        os.kill(child, signal.SIGKILL)
    assert gone, f"the child outlived its parent ({way})"
