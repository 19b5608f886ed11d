"""The benchmark suite: both sides see the same digits, and a quick run writes every file.

No timings are asserted here; the targets are checked by the benchmark itself.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from benchmarks.common import Settings, Target, alternate
from benchmarks.data import PILDigits, mnist_models, splits_for, zoo_datamodule
from benchmarks.loops import EpochLog, plain_optimizer
from benchmarks.startup import COMMANDS, MISSPELT, PREDICT, draw_seven, time_command
from benchmarks.time_to_accuracy import accuracy_tolerance
from zoo.building import build, build_net
from zoo.recipes import Recipe
from zoo.registry import recipe_for

REPO = Path(__file__).resolve().parents[1]
SECTION_COLUMNS = {
    "tutorial_vs_zoo": {"model", "side", "train_s", "test_s", "total_s", "train_per_s",
                        "test_per_s", "acc", "peak_mb", "zoo/tutorial"},
    "overhead": {"model", "variant", "step_ms", "step_over_bare_ms", "epoch_fixed_ms", "cycle_s",
                 "overhead_pct"},
    "overhead-step_costs": {"model", "cost", "us_per_step", "calls_per_step"},
    "time_to_accuracy": {"model", "side", "recipe", "seed", "epochs", "acc", "final_acc",
                         "seconds", "goal_acc"},
    "time_to_99": {"model", "recipe", "epochs", "seconds", "best_acc", "final_acc",
                   "train_samples_s"},
    "efficiency": {"model", "fwd_mflop", "train_mflop", "zoo_gflops", "peak_gflops", "zoo/peak"},
    "startup": {"command", "median_s", "x import torch"},
    "serve": {"model", "server", "clients", "requests", "req_per_s", "p50_ms", "p99_ms", "x bare"},
    "browser": {"page", "models", "page_mb", "runtime_mb", "ready_s", "first_answer_s", "answer_ms"},
    "exports": {"model", "format", "kb", "metric", "value", "pytorch", "top1_agree", "max_diff", "ms_b1", "ms_b64"},
}
TARGET_COLUMNS = ["section", "target", "model", "measured", "limit", "result"]


def tiny_settings(tmp_path: Path) -> Settings:
    return Settings(device=torch.device("cpu"), models=["lenet_mnist"], repeats=1, epochs=1,
                    quick=True, out=tmp_path, seed=0, source="embedded",
                    sizes={"train": 32, "val": 8, "test": 16})


@pytest.mark.parametrize("model", ["cnn_mnist", "lenet_mnist"])
def test_tutorial_images_are_the_digits_zoo_trains_on(tmp_path: Path, model: str) -> None:
    settings = tiny_settings(tmp_path)
    raw = splits_for(model, settings, padded=False)["test"]
    pil = PILDigits(*raw, padding=32 if model == "lenet_mnist" else None)
    zoo_images, zoo_labels = zoo_datamodule(model, 64, settings, seed=0).splits["test"]
    for i in (0, 5, 15):
        image, label = pil[i]
        assert label == int(zoo_labels[i])
        torch.testing.assert_close(image, zoo_images[i], atol=1e-5, rtol=0)


def test_pil_digits_refuse_tensors_that_are_not_normalised_digits() -> None:
    with pytest.raises(ValueError, match="normalised"):
        PILDigits(torch.rand(2, 1, 28, 28) * 100, torch.zeros(2, dtype=torch.long), None)


@pytest.mark.parametrize("model", mnist_models())
def test_plain_loops_start_from_the_weights_zoo_starts_from(model: str) -> None:
    torch.manual_seed(3)
    plain = build_net(model).state_dict()
    torch.manual_seed(3)
    task = build(model, recipe="tutorial").net.state_dict()  # type: ignore[union-attr]
    assert plain.keys() == task.keys()
    for key, weights in plain.items():
        torch.testing.assert_close(weights, task[key], rtol=0, atol=0)


def test_plain_loops_refuse_a_recipe_they_cannot_follow() -> None:
    with pytest.raises(ValueError, match="scheduler"):
        plain_optimizer(nn.Linear(1, 1), recipe_for("mlp_mnist", "default"))
    with pytest.raises(ValueError, match="task arguments"):
        plain_optimizer(nn.Linear(1, 1), Recipe(task_args={"stop_below": 1.0}))


def test_time_to_an_epoch_leaves_out_the_earlier_test_passes() -> None:
    log = EpochLog(ends=[2.0, 5.0, 9.0], eval_s=[0.5, 1.0, 1.5])
    assert log.time_to(0) == 2.0
    assert log.time_to(2) == 9.0 - 1.5


def test_alternate_rotates_which_side_runs_first() -> None:
    assert [alternate(["a", "b"], r) for r in range(3)] == [["a", "b"], ["b", "a"], ["a", "b"]]


def test_targets_pass_on_the_right_side_of_the_limit() -> None:
    assert Target("s", "t", "m", 0.3, 0.33).passed
    assert not Target("s", "t", "m", 0.4, 0.33).passed
    assert Target("s", "t", "m", 0.6, 0.5, at_least=True).passed
    assert not Target("s", "t", "m", None, 0.5).passed
    assert Target("s", "t", "m", 0.4, 0.33).row()["result"] == "MISS"


def test_accuracy_tolerance_uses_the_spread_across_seeds_but_not_less_than_the_binomial() -> None:
    one_seed = accuracy_tolerance([0.9], [0.9], 1000)
    assert one_seed == pytest.approx(2 * (2 * 0.9 * 0.1 / 1000) ** 0.5)
    assert accuracy_tolerance([0.9, 0.9, 0.9], [0.9, 0.9, 0.9], 1000) == pytest.approx(
        one_seed / 3**0.5)
    spread = [0.85, 0.9, 0.95]
    assert accuracy_tolerance(spread, spread, 1000) == pytest.approx(2 * (2 * 0.0025 / 3) ** 0.5)


def test_the_startup_commands_end_as_the_section_expects(tmp_path: Path) -> None:
    """The misspelt model exits 2 and zoo predict answers the drawn seven (time_command raises
    on any other exit code); one that ends otherwise is reported, not timed."""
    draw_seven(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("ZOO_PLUGINS", None)
    for command in (MISSPELT, PREDICT):
        assert time_command(*COMMANDS[command], env, tmp_path) > 0
    with pytest.raises(RuntimeError, match="exited 2, not 0"):
        time_command(COMMANDS[MISSPELT][0], 0, env, tmp_path)


@pytest.mark.slow
def test_quick_run_writes_every_section_and_the_targets(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO), ZOO_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--models", "cnn_mnist", "--device", "cpu",
         "--threads", "1", "--out", str(tmp_path / "out")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    tag = f"cpu-torch{torch.__version__.split('+')[0]}-t1"
    for section, columns in SECTION_COLUMNS.items():
        assert f"== {section}" in done.stdout or f"-- {section.replace('-', ': ')} --" in done.stdout
        with (tmp_path / "out" / f"{section}-{tag}.csv").open() as f:
            rows = list(csv.DictReader(f))
        assert rows and columns <= set(rows[0]), section
    with (tmp_path / "out" / f"targets-{tag}.csv").open() as f:
        targets = list(csv.DictReader(f))
    assert list(targets[0]) == TARGET_COLUMNS
    assert {t["section"] for t in targets} == set(SECTION_COLUMNS) - {"efficiency", "time_to_99",
                                                                       "overhead-step_costs", "serve"}
    clocked = [t for t in targets if t["target"].startswith("zoo's step cost")]
    assert [t["model"] for t in clocked] == ["cnn_mnist", "cnn_mnist"]
    assert float(clocked[0]["measured"]) > 0
    assert all(t["result"] in ("PASS", "MISS") for t in targets)
    assert "== targets:" in done.stdout and "data MNIST embedded: 256 train" in done.stdout
