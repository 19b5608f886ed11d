"""CPU latency at batch 1: how long each registered model's network takes to answer one input on
this machine's CPU, beside its counted forward FLOPs. The models index of the documentation is
generated from the CSV this writes (the docs build measures nothing).

    python -m benchmarks.latency                  # every model, 1 thread
    python -m benchmarks.latency --threads 2 --models cnn_mnist,gru_names

The input is the card's example (`inputs.example(1)`: a random image, or a sequence of
`zoo.inputs.EXAMPLE_LENGTH` characters); the network runs in eval mode under no_grad, with the
shipped weights where zoo has them (the time does not depend on the values). The latency is the
median of torch.utils.benchmark's adaptive_autorange (its IQR beside it); FLOPs are torch's FlopCounterMode count of
that forward pass (matrix products and convolutions; `not_counted` names the layers it has no
formula for, such as nn.LSTM). The CSV's name records the conditions
(`latency-cpu-torch2.14.1-t1.csv`), and its rows the processor, its cores, the threads and the
machine's load while each model was timed (other work on it slows every figure).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils import benchmark

from benchmarks.common import cpu_name, write_csv
from zoo.building import build
from zoo.inputs import EXAMPLE_LENGTH
from zoo.pretrained import cards
from zoo.registry import MODELS, list_models
from zoo.training import forward_flops

NAME = "latency"
OUT = Path(__file__).resolve().parent / "results"
MAX_RUN_SECONDS = 2.0
"""How long torch.utils.benchmark may time one model's forward pass: it stops sooner once the
spread of its measurements (IQR / median) is under a tenth."""
UNCOUNTED = (nn.LSTM,)
"""Layers torch's FlopCounterMode has no formula for (it counts their FLOPs as 0)."""


def example_input(name: str) -> tuple[torch.Tensor, ...]:
    """One input of the shapes and types the model's card names, the same on every run."""
    inputs = MODELS.get(name).inputs
    if inputs is None:
        raise SystemExit(f"{name}: its card names no inputs; give it some before timing it")
    return inputs.example(1, torch.Generator().manual_seed(0))


def input_text(tensors: tuple[torch.Tensor, ...]) -> str:
    """The input's shapes as the CSV says them, e.g. '1x1x28x28' or '1x5, 1'."""
    return ", ".join("x".join(map(str, t.shape)) for t in tensors)


def measure(name: str, threads: int) -> dict[str, Any]:
    """One model's row: its input, forward FLOPs and median latency at batch 1 on the CPU."""
    model = build(name, pretrained=name in cards()).eval()
    x = example_input(name)
    flops = forward_flops(model, *x)
    with torch.no_grad():
        timer = benchmark.Timer(stmt="model(*x)", globals={"model": model, "x": x}, num_threads=threads)
        timed = timer.adaptive_autorange(threshold=0.1, max_run_time=MAX_RUN_SECONDS)
    uncounted = sorted({type(m).__name__ for m in model.modules() if isinstance(m, UNCOUNTED)})
    return {"model": name, "input": input_text(x), "fwd_mflop": flops / 1e6, "not_counted": " ".join(uncounted),
            "latency_ms": timed.median * 1e3,
            "iqr_ms": timed.iqr * 1e3, "runs": len(timed.times) * timed.number_per_run, "threads": threads,
            "cpu": cpu_name(), "cpu_count": os.cpu_count(), "load_1min": os.getloadavg()[0], "torch": torch.__version__}


def csv_path(out: Path, threads: int) -> Path:
    return out / f"{NAME}-cpu-torch{torch.__version__.split('+')[0]}-t{threads}.csv"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="CPU threads torch uses (default 1)")
    parser.add_argument("--models", type=lambda text: text.split(","), default=None,
                        help="comma-separated registry names (default: every registered model)")
    parser.add_argument("--out", type=Path, default=OUT, help="the folder the CSV goes into")
    args = parser.parse_args(argv)
    rows = []
    for name in args.models or list_models():
        rows.append(measure(name, args.threads))
        print(f"{name:24} {rows[-1]['input']:12} {rows[-1]['fwd_mflop']:10.3f} MFLOP "
              f"{rows[-1]['latency_ms']:8.3f} ms")
    print(f"{cpu_name()}, {args.threads} thread(s), sequences of {EXAMPLE_LENGTH} characters; "
          f"written to {write_csv(csv_path(args.out, args.threads), rows)}")


if __name__ == "__main__":
    main()
