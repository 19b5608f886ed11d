"""A trained model as ONNX or TorchScript, for use without zoo: a graph from the decoded raw
input (an image's uint8 pixels, a text's character codes, numbers) to the answer (probabilities
or values), carrying the input preparation and the task's output head (`Answering`), traced on
the decoded examples its card gives (`zoo.inputs`); with a JSON sidecar beside it (`FILE.json`)
that says what the file takes and gives: its tensors, how to decode raw inputs, the labels."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import io
import json
import logging
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from zoo.answers import Row
from zoo.errors import ZooError
from zoo.files import atomic_write, output_path
from zoo.registry import MODELS
from zoo.tasks import Task

EXPORT_FORMATS = ("onnx", "onnx_int8", "pt2", "torchscript")
INT8 = ("the weights of Conv, MatMul (constant weights only), Gemm, LSTM and Gather stored as int8 and the "
        "activations quantized as they come (onnxruntime.quantization.quantize_dynamic, QInt8)")
"""What an `onnx_int8` file holds: ONNX Runtime's dynamic quantization of the ONNX file."""


class Answering(torch.nn.Module):
    """Decoded raw inputs -> the task's answer: the inputs' preparation, the network and the
    task's output head, as one module, which is what an exported file holds."""

    def __init__(self, model: Task) -> None:
        super().__init__()
        self.preparation = model.raw_inputs.preparation()
        self.net = copy.deepcopy(model.net).cpu().eval().to(memory_format=torch.contiguous_format)
        self.head = model.prediction

    def forward(self, *decoded: torch.Tensor) -> torch.Tensor:
        inputs = decoded if self.preparation is None else (self.preparation(*decoded),)
        answer: torch.Tensor = self.head(self.net(*inputs))
        return answer


def export(model: Task, fmt: str, out: str | Path, overwrite: bool = False) -> Path:
    """Write the model from decoded raw inputs to answers (`Answering`) as ONNX (the batch size,
    an image's size and a text's length left dynamic) or TorchScript (traced), for use without
    zoo. An existing file at `out` is replaced only with `overwrite` (never a checkpoint or
    weights file: `zoo.files.output_path`). The sidecar `out` + `.json` is written after it (`sidecar`)."""
    if fmt not in EXPORT_FORMATS:
        raise ZooError(f"unknown export format {fmt!r}; choose one of: {', '.join(EXPORT_FORMATS)}")
    path = output_path(out, "--out", overwrite=overwrite)
    beside = output_path(sidecar_path(path), "--out's sidecar", [path], overwrite=overwrite)
    net = Answering(model).eval()
    example = model.raw_inputs.raw_example(1, torch.Generator().manual_seed(0))
    names = [f"input{i}" for i in range(len(example))]
    axes = dynamic_axes(model, net, example, names)
    if fmt == "pt2":
        program = exported_program(model, net, axes)
        with atomic_write(path) as temporary, open(temporary, "wb") as file:
            torch.export.save(program, file)
        write_sidecar(beside, sidecar(model, net, fmt, path, example, axes, None))
        return path
    if fmt == "torchscript":
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(net, example)
        # Through a Python file: saved to a path, a full disk aborts the process inside torch.
        with atomic_write(path) as temporary, open(temporary, "wb") as file:
            torch.jit.save(traced, file)
        write_sidecar(beside, sidecar(model, net, fmt, path, example, axes, None))
        return path
    try:
        import onnx  # noqa: F401
        if fmt == "onnx_int8":
            import onnxruntime  # noqa: F401
    except ImportError as err:
        raise ZooError(f"{fmt} export needs the {err.name} package; pip install -e \".[export]\"") from None
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), atomic_write(path) as temporary:
        warnings.simplefilter("ignore")
        torch.onnx.export(net, example, str(temporary), input_names=names, output_names=["output"],
                          dynamic_axes=axes, dynamo=False)
        if fmt == "onnx_int8":
            quantize(temporary)
    write_sidecar(beside, sidecar(model, net, fmt, path, example, axes, onnx_opset(path)))
    return path


def exported_program(model: Task, net: Answering, axes: dict[str, dict[int, str]]) -> torch.export.ExportedProgram:
    """`torch.export` of the answering module, its batch and the axes `dynamic_axes` found
    varying left dynamic; a network whose code fixes one of them (a recurrence torch.export unrolls
    step by step, a size read from a tensor) is refused in one line. Traced on two samples, as
    torch.export takes a size of 1 for a constant."""
    example = model.raw_inputs.raw_example(2, torch.Generator().manual_seed(0))
    dims = tuple({axis: torch.export.Dim.DYNAMIC for axis in axes.get(f"input{i}", {})} for i in range(len(example)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.export.export(net, example, dynamic_shapes=(dims,))
    except Exception as err:  # torch.export's many errors for code it cannot follow
        varying = " and ".join(dict.fromkeys(name for axes_of in axes.values() for name in axes_of.values()))
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0].split(" For more information")[0]
        raise ZooError(f"{model.display_name}'s network cannot be exported to .pt2 taking any {varying} "
                       f"(torch.export: {reason}); use --format onnx, which takes them") from None


def quantize(path: Path) -> None:
    """An ONNX file's int8 twin in its place (`INT8`). The input preparation's products of
    computed matrices stay float: only products with a constant are quantized."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # onnxruntime's advice and shape notes go to the root logger
    try:
        with atomic_write(path) as temporary:
            quantize_dynamic(path, temporary, weight_type=QuantType.QInt8, extra_options={"MatMulConstBOnly": True})
    finally:
        quiet.setLevel(level)


def dynamic_axes(model: Task, net: torch.nn.Module, example: tuple[torch.Tensor, ...],
                 names: list[str]) -> dict[str, dict[int, str]]:
    """The axes a traced file takes in any size (ONNX's `dynamic_axes`; a TorchScript trace
    behaves the same). Every input's and the output's first axis is the batch; the first input's
    varying axes (`Inputs.varying_axes`: an image's height and width, a text's length) are
    dynamic where the traced model takes any size (`traces_any_length`), and an output's second
    axis is the length when it answers each position (N x L x V): traced with the example's
    fixed length alone, a surname model took names of 5 letters only."""
    axes = {name: {0: "batch"} for name in names} | {"output": {0: "batch"}}
    varying = model.raw_inputs.varying_axes()
    if not varying or ("length" in varying.values() and not traces_any_length(model, net, example)):
        return axes
    axes[names[0]] |= varying
    with torch.no_grad():
        if "length" in varying.values() and net(*example).ndim >= 3:
            axes["output"][1] = "length"
    return axes


def traces_any_length(model: Task, net: torch.nn.Module, example: tuple[torch.Tensor, ...]) -> bool:
    """Whether the network traced on the example answers a longer text as the network does: one
    that steps through positions in a Python loop is traced for the example's length alone. The
    longer text is the card's first example written twice (a card without examples: assumed)."""
    examples = list(model.raw_inputs.examples)
    if not examples:
        return True
    longer = model.raw_inputs.decode([examples[0] * 2])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(net, example, check_trace=False)
        wanted = net(*longer)
        try:
            got: torch.Tensor | None = traced(*longer)
        except RuntimeError:
            got = None
    if got is not None and got.shape == wanted.shape and torch.allclose(got, wanted, atol=1e-5, rtol=1e-4):
        return True
    print(f"zoo: {model.display_name}'s network steps through the positions of its input in Python, so the "
          f"exported file takes inputs of the example's length alone ({example[0].shape[1]}); the sidecar says so",
          file=sys.stderr)
    return False


def sidecar_path(path: Path) -> Path:
    """Where an exported file's sidecar goes: `model.onnx` -> `model.onnx.json`."""
    return path.with_name(path.name + ".json")


def onnx_opset(path: Path) -> int:
    """The default-domain opset an ONNX file was written with."""
    import onnx

    imports = onnx.load(str(path), load_external_data=False).opset_import
    return next(o.version for o in imports if o.domain in ("", "ai.onnx"))


def answer_kind(model: Task, net: Answering, example: tuple[torch.Tensor, ...]) -> str:
    """What the file's output is, worked out from the task's own head on the example."""
    with torch.no_grad():
        output = net.net(*(example if net.preparation is None else (net.preparation(*example),)))
        answered = model.prediction(output)
    if torch.equal(answered, output):
        return "the answer: the network's output as it is"
    if torch.allclose(answered, output.softmax(dim=-1)):
        return "the probabilities of the labels, over the last axis"
    if torch.allclose(answered, output.sigmoid()):
        return "the probability of label 1"
    return f"{type(model).__name__}.prediction of the network's output"


def sidecar(model: Task, net: Answering, fmt: str, path: Path, example: tuple[torch.Tensor, ...],
            axes: dict[str, dict[int, str]], opset: int | None) -> dict[str, Any]:
    """Plain data on what an exported file takes and gives, so that it is used without zoo: each
    input tensor (dtype, shape with `batch`, `length`, `height`, `width` where they vary), how to
    decode raw inputs into them (and the card's settings: image size, mean and std, alphabet...),
    what the output is, the labels, and the card it came from (its sha256)."""
    with torch.no_grad():
        output = net(*example)
    names = [f"input{i}" for i in range(len(example))]
    inputs = model.raw_inputs
    fields: dict[str, Any] = dataclasses.asdict(inputs) if dataclasses.is_dataclass(inputs) else {}
    settings = {k: v for k, v in fields.items() if k != "examples"}
    card = MODELS.get(model.zoo_name).summary() if model.zoo_name else None
    labels = getattr(model, "labels", None)
    return {
        "file": path.name,
        "format": fmt,
        "opset": opset,
        "int8": INT8 if fmt == "onnx_int8" else None,
        "model": model.display_name,
        "card_sha256": hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest() if card else None,
        "inputs": [{"name": name, "dtype": str(tensor.dtype).removeprefix("torch."),
                    "shape": [axes.get(name, {}).get(axis, size) for axis, size in enumerate(tensor.shape)]}
                   for name, tensor in zip(names, example, strict=True)],
        "raw_inputs": {"kind": inputs.kind, "decode": inputs.decoding, "read_as": inputs.describe(), **settings,
                       "examples": list(inputs.examples)},
        "output": {"name": "output", "dtype": str(output.dtype).removeprefix("torch."),
                   "shape": [axes.get("output", {}).get(axis, size) for axis, size in enumerate(output.shape)],
                   "is": answer_kind(model, net, example)},
        "labels": list(labels) if labels is not None else None,
    }


def write_sidecar(path: Path, data: dict[str, Any]) -> None:
    with atomic_write(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, default=str) + "\n")


def onnx_runner(path: Path, threads: int = 1) -> Callable[..., torch.Tensor]:
    """A function from decoded raw input tensors to an exported ONNX file's answer, run by
    onnxruntime on the CPU in `threads` threads; an input of a size the file does not take (a
    network that steps through a text in Python takes the example's length alone) is refused in
    one line, before onnxruntime is asked."""
    try:
        import onnxruntime
    except ImportError:
        raise ZooError('running an exported file needs the onnxruntime package; pip install -e ".[export]"') from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    specs = session.get_inputs()

    def run(*inputs: torch.Tensor) -> torch.Tensor:
        for spec, tensor in zip(specs, inputs, strict=True):
            if any(isinstance(size, int) and size != got for size, got in zip(spec.shape, tensor.shape, strict=True)):
                raise ZooError(f"{path.name} takes {spec.name} of shape {spec.shape}, and this input is "
                               f"{list(tensor.shape)}; give an input of that size")
        feeds = {spec.name: tensor.numpy() for spec, tensor in zip(specs, inputs, strict=True)}
        return torch.from_numpy(session.run(None, feeds)[0])

    return run


class ExportedModel:
    """A model that answers through its exported ONNX file in onnxruntime, as a user of the file
    would run it (`zoo serve --runtime onnxruntime`): the same rows as `Task.answer`, from the
    file's answers instead of the network's."""

    def __init__(self, model: Task) -> None:
        self.model = model
        with tempfile.TemporaryDirectory() as folder:
            self.run = onnx_runner(export(model, "onnx", Path(folder) / f"{model.display_name}.onnx"))

    @property
    def display_name(self) -> str:
        return self.model.display_name

    def answer(self, raw: Sequence[Any], k: int = 3) -> list[Row]:
        inputs = self.model.raw_inputs
        items = inputs.expand(self.model.given(raw, k))
        return self.model.answer_rows(((batch, self.run(*decoded)) for batch, decoded in inputs.decoded_batches(items)),
                                      k)
