"""Exports: each shipped model's exported files (ONNX, its int8 twin, torch.export's .pt2 where
the network exports, TorchScript) beside PyTorch on the model's own test split, decoded as raw
inputs (a digit's uint8 pixels, character codes): file size, the model's first metric, agreement
with PyTorch (same top-1 answer, largest probability difference) and CPU latency at batch 1 and
64. Every shipped model (with `--quick`, the shipped ones of `--models`); a model whose data is
not here (no `ZOO_DATA_DIR`) is left out with a note, and so is a format it cannot be exported to."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import SectionResult, Settings, Target
from zoo.building import default_datamodule
from zoo.checkpoints import load_model
from zoo.errors import ZooError
from zoo.export import EXPORT_FORMATS, Answering, export, onnx_runner
from zoo.inputs import Images
from zoo.pretrained import cards, measured_on
from zoo.tasks import Task

NAME = "exports"
SAMPLES = 1000
"""At most this many test samples per model: MNIST's embedded test split whole."""
LATENCY_BATCHES = (1, 64)
ROUNDS = 20
"""Timed calls per latency figure (the median is reported), after one untimed call."""
INT8_POINTS = 0.5
"""How far the int8 twin's metric may fall below PyTorch's, in points (issue: 0.5)."""
SHOWN = ["model", "format", "kb", "metric", "value", "pytorch", "top1_agree", "max_diff", "ms_b1", "ms_b64"]

Run = Callable[..., torch.Tensor]


def raw_batch(model: Task, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """A test batch's network inputs as the raw tensors an exported file takes: normalised pixels
    back to uint8 (they were made from uint8), one-hot characters back to their ids."""
    raw = model.raw_inputs
    if isinstance(raw, Images):
        mean, std = torch.tensor(raw.mean).view(1, -1, 1, 1), torch.tensor(raw.std).view(1, -1, 1, 1)
        return (((inputs[0] * std + mean) * 255).round().clamp(0, 255).to(torch.uint8),)
    if raw.preparation() is not None:
        return (inputs[0].argmax(dim=-1),)
    return inputs


def raw_split(name: str, model: Task, samples: int = SAMPLES) -> list[tuple[tuple[torch.Tensor, ...], torch.Tensor]]:
    """(raw inputs, target) batches of the first `samples` samples of the model's test split;
    a ZooError when its data is not here."""
    data = default_datamodule(name)
    data.prepare_data()
    data.setup("test")
    batches, seen = [], 0
    for batch in data.test_dataloader():
        inputs, target = model.split(batch)
        batches.append((raw_batch(model, inputs), target))
        seen += len(target)
        if seen >= samples:
            break
    return batches


def runner(path: Path, fmt: str, threads: int) -> Run:
    """A function from raw input tensors to the file's answer, in onnxruntime, torch.export or torch.jit."""
    if fmt == "torchscript":
        return torch.jit.load(str(path))
    if fmt == "pt2":
        module: Run = torch.export.load(str(path)).module()
        return module
    return onnx_runner(path, threads)


def first_metric(model: Task, answers: list[torch.Tensor], targets: list[torch.Tensor]) -> tuple[str, float]:
    """The task's first metric (accuracy, or a regressor's MAE) on the answers."""
    name, metric = next(iter(model.make_metrics().items()))
    for answer, target in zip(answers, targets, strict=True):
        metric.update(*model.metric_pair(answer, target))
    return name, float(metric.compute())


def agreement(answers: list[torch.Tensor], wanted: list[torch.Tensor]) -> tuple[float | None, float]:
    """The share of samples (positions) with the same top-1 label (None for values) and the
    largest absolute difference."""
    diff = max(float((a - w).abs().max()) for a, w in zip(answers, wanted, strict=True))
    if wanted[0].shape[-1] < 2:
        return None, diff
    same = sum(int((a.argmax(-1) == w.argmax(-1)).sum()) for a, w in zip(answers, wanted, strict=True))
    return same / sum(w[..., 0].numel() for w in wanted), diff


def latency_ms(run: Run, inputs: tuple[torch.Tensor, ...]) -> float:
    with torch.no_grad():
        run(*inputs)
        times = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            run(*inputs)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def sized(batches: list[tuple[tuple[torch.Tensor, ...], torch.Tensor]], size: int) -> tuple[torch.Tensor, ...]:
    """`size` samples of the first batch (repeated where it holds fewer)."""
    inputs = batches[0][0]
    repeat = -(-size // len(inputs[0]))
    return tuple(x.repeat(repeat, *[1] * (x.dim() - 1))[:size] for x in inputs)


def measure(name: str, model: Task, batches: list[tuple[tuple[torch.Tensor, ...], torch.Tensor]], folder: Path,
            threads: int, notes: list[str]) -> list[dict[str, Any]]:
    """One row for PyTorch and one per export format of model `name` on its test batches; a format
    the network cannot be exported to (.pt2 of a recurrent network) is a note instead."""
    targets = [target for _, target in batches]
    answering = Answering(model).eval()
    with torch.no_grad():
        wanted = [answering(*inputs) for inputs, _ in batches]
    metric, reference = first_metric(model, wanted, targets)
    rows = [{"model": name, "format": "pytorch", "kb": None, "metric": metric, "value": round(reference, 4),
             "pytorch": round(reference, 4), "top1_agree": None, "max_diff": None,
             **{f"ms_b{size}": round(latency_ms(answering, sized(batches, size)), 3) for size in LATENCY_BATCHES}}]
    for fmt in EXPORT_FORMATS:
        try:
            path = export(model, fmt, folder / f"{name}.{fmt}", overwrite=True)
        except ZooError as err:
            notes.append(f"{name}: no {fmt} file: {err}")
            continue
        run = runner(path, fmt, threads)
        with torch.no_grad():
            answers = [run(*inputs) for inputs, _ in batches]
        agree, diff = agreement(answers, wanted)
        rows.append({"model": name, "format": fmt, "kb": round(path.stat().st_size / 1024, 1), "metric": metric,
                     "value": round(first_metric(model, answers, targets)[1], 4), "pytorch": round(reference, 4),
                     "top1_agree": None if agree is None else round(agree, 4), "max_diff": float(f"{diff:.2g}"),
                     **{f"ms_b{size}": round(latency_ms(run, sized(batches, size)), 3) for size in LATENCY_BATCHES}})
    return rows


def run(settings: Settings) -> SectionResult:
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    targets: list[Target] = []
    names = [m for m in settings.models if m in cards()] if settings.quick else sorted(cards())
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            model = load_model(name, None).eval()
            try:
                batches = raw_split(name, model)
            except ZooError as err:
                notes.append(f"{name} left out, its data is not here: {err}")
                continue
            measured = measure(name, model, batches, Path(folder), settings.threads, notes)
            rows += measured
            card = cards()[name]
            if "twin_split_sizes" in card["data"] or card.get("test_rows_seen"):
                notes.append(f"{name}: the weights' card figure is on {measured_on(card)}; the split scored here "
                             "was seen in training, so its value is no test score (agreement is the point)")
            for row in measured[1:]:
                if row["top1_agree"] is not None and row["format"] != "onnx_int8":
                    targets.append(Target(NAME, f"{row['format']} same top-1 as PyTorch", name,
                                          row["top1_agree"], 0.999, at_least=True))
                if row["format"] == "onnx_int8" and row["metric"] == "acc":
                    targets.append(Target(NAME, "int8 accuracy points below PyTorch", name,
                                          100 * (row["pytorch"] - row["value"]), INT8_POINTS))
    notes.append(f"latency: median of {ROUNDS} calls on {settings.threads} CPU thread(s), batch 1 and 64 "
                 "(texts: the first test batch's, padded to its longest)")
    return SectionResult(NAME, rows, SHOWN, targets, notes)
