"""Every shipped model's exported files answer its own test split as PyTorch does: the same top-1
answer on at least 99.9 % of samples and, after the sidecar's head, probabilities within 1e-4.
Exports that only agree on random tensors (the default suite's check) could still differ on
real inputs: padding, long names, a digit's extreme pixels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import ANSWER_HEADS

from zoo import build, default_datamodule
from zoo.cli import main
from zoo.errors import ZooError
from zoo.pretrained import cards

SHIPPED = sorted(cards())
SAMPLES = 1000
"""At most this many test samples per model: MNIST's embedded test split whole."""
def split_batches(name: str) -> list[tuple[torch.Tensor, ...]]:
    """The inputs of the first SAMPLES samples of the model's test split, batch by batch."""
    data = default_datamodule(name)
    try:
        data.prepare_data()
        data.setup("test")
    except ZooError as err:
        pytest.skip(f"{name}'s data is not here: {err}")
    batches, seen = [], 0
    for batch in data.test_dataloader():
        inputs = tuple(batch[:-1])
        batches.append(inputs)
        seen += len(inputs[0])
        if seen >= SAMPLES:
            break
    return batches


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_exported_files_answer_the_test_split_as_pytorch_does(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    ort = pytest.importorskip("onnxruntime")
    real = request.config.getoption("--real-data-dir")
    if real:
        monkeypatch.setenv("ZOO_DATA_DIR", str(real))
    model = build(name, pretrained=True).eval()
    batches = split_batches(name)
    for fmt in ("onnx", "torchscript"):
        out = tmp_path / f"{name}.{fmt}"
        main(["export", "--model", name, "--format", fmt, "--out", str(out)])
        sidecar = json.loads(out.with_name(out.name + ".json").read_text())
        head = ANSWER_HEADS[sidecar["output"]["to_answer"]]
        if fmt == "onnx":
            session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
            names = [i.name for i in session.get_inputs()]

            def run(*inputs: torch.Tensor, session=session, names=names) -> torch.Tensor:
                return torch.from_numpy(session.run(None, dict(zip(names, (x.numpy() for x in inputs),
                                                                       strict=True)))[0])
        else:
            run = torch.jit.load(str(out))
        agree = total = 0
        worst = 0.0
        for inputs in batches:
            declared = sidecar["inputs"][0]["shape"]
            if "length" not in declared and declared[1:] != list(inputs[0].shape[1:]):
                continue  # a file traced for one length (rnncell_hello) answers texts of that length alone
            with torch.no_grad():
                wanted = model.prediction(model.net(*inputs))
                got = head(run(*inputs))
            worst = max(worst, float((got - wanted).abs().max()))
            if wanted.shape[-1] > 1:
                agree += int((got.argmax(-1) == wanted.argmax(-1)).sum())
                total += wanted.argmax(-1).numel()
        assert worst <= 1e-4, (fmt, worst)
        if total:
            assert agree / total >= 0.999, (fmt, agree, total)
