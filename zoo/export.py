"""A trained model's plain network as ONNX or TorchScript, for use without zoo: traced with
the example inputs its card gives (`zoo.inputs`)."""

from __future__ import annotations

import contextlib
import copy
import io
import warnings
from pathlib import Path

import torch

from zoo.errors import ZooError
from zoo.files import atomic_write, output_path
from zoo.tasks import Task

EXPORT_FORMATS = ("onnx", "torchscript")


def export(model: Task, fmt: str, out: str | Path, overwrite: bool = False) -> Path:
    """Write the plain network `model.net` as ONNX (the batch size, and a text's length where the
    card's inputs vary in length, left dynamic) or TorchScript (traced), for use without zoo. An
    existing file at `out` is replaced only with `overwrite` (never a checkpoint or weights file:
    `zoo.files.output_path`)."""
    if fmt not in EXPORT_FORMATS:
        raise ZooError(f"unknown export format {fmt!r}; choose one of: {', '.join(EXPORT_FORMATS)}")
    path = output_path(out, "--out", overwrite=overwrite)
    net = copy.deepcopy(model.net).cpu().eval().to(memory_format=torch.contiguous_format)
    example = model.raw_inputs.example(1, torch.Generator().manual_seed(0))
    if fmt == "torchscript":
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(net, example)
        # Through a Python file: saved to a path, a full disk aborts the process inside torch.
        with atomic_write(path) as temporary, open(temporary, "wb") as file:
            torch.jit.save(traced, file)
        return path
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ZooError("ONNX export needs the onnx package; pip install -e \".[export]\"") from None
    names = [f"input{i}" for i in range(len(example))]
    axes = onnx_dynamic_axes(model, net, example, names)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), atomic_write(path) as temporary:
        warnings.simplefilter("ignore")
        torch.onnx.export(net, example, str(temporary), input_names=names, output_names=["output"],
                          dynamic_axes=axes, dynamo=False)
    return path


def onnx_dynamic_axes(model: Task, net: torch.nn.Module, example: tuple[torch.Tensor, ...],
                      names: list[str]) -> dict[str, dict[int, str]]:
    """Every input's and the output's first axis is the batch; where the card's inputs vary in
    length (surnames, prompts: `sample_shape` None), the first input's varying axis is the length,
    and so is an output's second axis when it answers each position (N x L x V): traced with the
    example's fixed length, a surname model took names of 5 letters only."""
    axes = {name: {0: "batch"} for name in names} | {"output": {0: "batch"}}
    varying = [axis + 1 for axis, size in enumerate(model.raw_inputs.sample_shape()) if size is None]
    for axis in varying:
        axes[names[0]][axis] = "length"
    if varying:
        with torch.no_grad():
            if net(*example).ndim >= 3:
                axes["output"][1] = "length"
    return axes
