"""Efficiency: each model's counted FLOPs and the training GFLOP/s zoo achieves at the default
recipe's batch size, against a float32 matrix-product peak measured in the same run.

FLOPs come from torch.utils.flop_counter (matrix products and convolutions, forward and
backward of the plain network's training step on one batch of the benchmark's digits;
element-wise work is not counted). The plain loop over the same batches shows what the model
itself reaches without the Trainer.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.common import SectionResult, Settings, Target, alternate, median, now
from benchmarks.data import zoo_datamodule
from benchmarks.loops import EpochLog, run_plain, run_zoo
from zoo.building import build_net
from zoo.registry import recipe_for
from zoo.training import forward_flops

NAME = "efficiency"
RECIPE = "default"
TARGET_MODELS = ("inception_mnist", "mlp_mnist")
LIMIT = 0.5
MATMUL_SIZES = {"cpu": 2048, "cuda": 8192}
QUICK_MATMUL_SIZE = 256
SHOWN = ["model", "batch", "fwd_mflop", "train_mflop", "zoo_gflops", "plain_gflops",
         "peak_gflops", "zoo/peak"]


def matmul_peak(device: torch.device, size: int, trials: int = 5) -> float:
    """Best float32 GFLOP/s of a size x size matrix product, each trial timed over >= 0.2 s."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    out = torch.empty_like(a)
    torch.mm(a, b, out=out)
    start = now(device)
    torch.mm(a, b, out=out)
    calls = max(1, int(0.2 / max(now(device) - start, 1e-6)))
    best = 0.0
    for _ in range(trials):
        start = now(device)
        for _ in range(calls):
            torch.mm(a, b, out=out)
        best = max(best, 2 * size**3 * calls / (now(device) - start) / 1e9)
    return best


def count_flops(net: nn.Module, x: Tensor, y: Tensor) -> tuple[float, float]:
    """Forward FLOPs and training-step (forward + backward) FLOPs per sample of a batch."""
    forward = forward_flops(net, x)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(net(x), y).backward()
    return forward / len(y), counter.get_total_flops() / len(y)


def gflops(flops_per_sample: float, samples: int, logs: list[EpochLog]) -> float:
    return flops_per_sample * samples / median(s for log in logs for s in log.train_s) / 1e9


def run(settings: Settings) -> SectionResult:
    size = QUICK_MATMUL_SIZE if settings.quick else MATMUL_SIZES.get(settings.device.type, 2048)
    peak = matmul_peak(settings.device, size)
    rows: list[dict[str, Any]] = []
    targets: list[Target] = []
    for name in settings.models:
        recipe = recipe_for(name, RECIPE)
        module = zoo_datamodule(name, recipe.batch_size, settings, settings.seed)
        x, y = next(iter(module.train_dataloader()))
        forward, train = count_flops(build_net(name).to(settings.device), x, y)
        samples = module.split_sizes()["train"]
        sides = ["zoo", "plain"] if recipe.scheduler is None else ["zoo"]
        run_zoo(name, RECIPE, settings, settings.seed, 1, test=False, limit_train_batches=3,
                limit_val_batches=1)
        logs: dict[str, list[EpochLog]] = {side: [] for side in sides}
        for repeat in range(settings.repeats):
            seed = settings.seed + repeat
            for side in alternate(sides, repeat):
                if side == "zoo":
                    log = run_zoo(name, RECIPE, settings, seed, settings.epochs, test=False)
                else:
                    log = run_plain(name, RECIPE, settings, seed, settings.epochs)
                logs[side].append(log)
        achieved = gflops(train, samples, logs["zoo"])
        rows.append({
            "model": name,
            "batch": recipe.batch_size,
            "fwd_mflop": forward / 1e6,
            "train_mflop": train / 1e6,
            "zoo_gflops": achieved,
            "plain_gflops": gflops(train, samples, logs["plain"]) if "plain" in logs else None,
            "peak_gflops": peak,
            "zoo/peak": achieved / peak,
            "matmul_size": size,
        })
        if name in TARGET_MODELS:
            targets.append(Target(NAME, "training GFLOP/s / matmul peak, default batch", name,
                                  achieved / peak, LIMIT, at_least=True))
    notes = [
        f"peak: best float32 {size}x{size} matrix product, {peak:.1f} GFLOP/s on "
        f"{settings.threads} threads; FLOPs per sample, MFLOP",
        "zoo_gflops / plain_gflops: counted training FLOPs over the training batches' time",
    ]
    return SectionResult(NAME, rows, SHOWN, targets, notes)
