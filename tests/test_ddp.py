"""Scale-out on Lightning's engine: two CPU processes over gloo train one model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def parsed_accuracy(output: str) -> float:
    match = re.search(r"test/acc (\d\.\d+)", output)
    assert match, output
    return float(match.group(1))


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_writes_one_checkpoint_and_reduces_metrics(
    run_zoo, tmp_path: Path
) -> None:
    fit = run_zoo("fit", "--model", "cnn_mnist", "--trainer.strategy", "ddp",
                  "--trainer.devices", "2", "--trainer.accelerator", "cpu",
                  "--trainer.max_epochs", "1", *QUIET, timeout=900)
    assert fit.returncode == 0, fit.stderr
    assert len(re.findall(r"zoo: test of the best checkpoint", fit.stdout)) == 1, "rank 0 only"
    assert "2 processes" in fit.stdout
    checkpoints = sorted(p.name for p in tmp_path.glob("runs/**/*.ckpt"))
    assert checkpoints == ["best.ckpt", "last.ckpt"], "written once, by rank 0"
    best = next(tmp_path.glob("runs/**/best.ckpt"))
    single = run_zoo("test", "--model", "cnn_mnist", "--ckpt_path", str(best), *QUIET)
    assert single.returncode == 0, single.stderr
    # Each rank tests half of the 1,000 test digits; the reduced accuracy equals one process's.
    assert parsed_accuracy(fit.stdout) == pytest.approx(parsed_accuracy(single.stdout), abs=1e-4)
