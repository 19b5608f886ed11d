"""Every seed learns: the regression recipes reach the tutorials' answers from seeds 0-9."""

from __future__ import annotations

from pathlib import Path

import torch

from zoo.training import fit

SEEDS = range(10)


def trained(name: str, seed: int, root: Path) -> torch.nn.Module:
    run = fit(name, seed=seed, default_root_dir=str(root), test=False, logger=False,
              enable_checkpointing=False, enable_progress_bar=False, accelerator="cpu", devices=1)
    net: torch.nn.Module = run.model.net
    return net


def test_linear_regression_finds_w_2_from_every_seed(tmp_path: Path) -> None:
    weights = [float(trained("linear_regression", seed, tmp_path).linear.weight) for seed in SEEDS]
    assert all(abs(w - 2.0) < 0.01 for w in weights), weights


def test_logistic_regression_crosses_one_half_between_2_and_3_hours_from_every_seed(tmp_path: Path) -> None:
    hours = torch.tensor([[2.0], [3.0]])
    for seed in SEEDS:
        with torch.no_grad():
            before, after = trained("logistic_regression", seed, tmp_path)(hours).flatten().tolist()
        assert before < 0.5 < after, (seed, before, after)
