"""Tutorial vs zoo: the tutorial's own loop and zoo, same model, recipe, batch size and digits.

The tutorial side is its program (PIL image + ToTensor + Normalize per item, batch 64 for
training and testing, a test pass after every epoch). The zoo side is `zoo fit`'s path: tensor
batches, a validation pass and a checkpoint every epoch (counted in its training time), and
the test at the datamodule's evaluation batch size. A and B alternate over repeats.

Accuracy after these few epochs is reported, not judged: early in training it swings with the
seed. The equal-recipe accuracy check runs in time_to_accuracy, after the recipe's 10 epochs.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import SectionResult, Settings, Target, alternate, median
from benchmarks.data import tutorial_datasets, zoo_datamodule
from benchmarks.loops import EpochLog, run_tutorial, run_zoo, warm_up
from zoo.registry import recipe_for

NAME = "tutorial_vs_zoo"
SHOWN = ["model", "side", "batch", "eval_batch", "train_s", "test_s", "total_s", "train_per_s",
         "test_per_s", "acc", "peak_mb", "zoo/tutorial"]
RATIO_LIMIT = 0.5
RATIO_LIMITS = {"mlp_mnist": 0.33, "cnn_mnist": 0.33, "cnn_deep_mnist": 0.33}


def summarise(name: str, side: str, logs: list[EpochLog], sizes: dict[str, int]) -> dict[str, Any]:
    """Medians over every timed epoch of every repeat; accuracy after each repeat's last epoch."""
    train_s = median(s for log in logs for s in log.cycle_s)
    test_s = median(s for log in logs for s in log.eval_s)
    accs = [log.acc[-1] for log in logs]
    return {
        "model": name,
        "side": side,
        "train_samples": sizes["train"],
        "test_samples": sizes["test"],
        "train_s": train_s,
        "batches_s": median(s for log in logs for s in log.train_s),
        "test_s": test_s,
        "total_s": train_s + test_s,
        "train_per_s": sizes["train"] / train_s,
        "test_per_s": sizes["test"] / test_s,
        "acc": median(accs),
        "acc_min": min(accs),
        "acc_max": max(accs),
        "peak_mb": median(log.peak_mb for log in logs),
        "setup_s": median(log.setup_s for log in logs),
        "repeats": len(logs),
        "epochs": len(logs[0].epoch_s),
    }


def run(settings: Settings) -> SectionResult:
    rows: list[dict[str, Any]] = []
    targets: list[Target] = []
    for name in settings.models:
        recipe = recipe_for(name, "tutorial")
        train_set, test_set = tutorial_datasets(name, settings)
        module = zoo_datamodule(name, recipe.batch_size, settings, settings.seed)
        sizes = module.split_sizes()
        warm_up(name, settings, train_set, test_set)
        logs: dict[str, list[EpochLog]] = {"tutorial": [], "zoo": []}
        for repeat in range(settings.repeats):
            seed = settings.seed + repeat
            for side in alternate(list(logs), repeat):
                if side == "tutorial":
                    log = run_tutorial(name, settings, seed, settings.epochs, train_set, test_set)
                else:
                    log = run_zoo(name, "tutorial", settings, seed, settings.epochs)
                logs[side].append(log)
        tutorial = summarise(name, "tutorial", logs["tutorial"], sizes)
        zoo = summarise(name, "zoo", logs["zoo"], sizes)
        tutorial |= {"batch": recipe.batch_size, "eval_batch": recipe.batch_size}
        zoo |= {"batch": recipe.batch_size, "eval_batch": module.eval_batch_size}
        zoo["zoo/tutorial"] = zoo["total_s"] / tutorial["total_s"]
        rows += [tutorial, zoo]
        targets.append(Target(NAME, "zoo/tutorial time per epoch (train + test)", name,
                              zoo["zoo/tutorial"], RATIO_LIMITS.get(name, RATIO_LIMIT)))
    notes = [
        "train_s: one training epoch as each loop runs it (zoo: from one epoch's start to the "
        "next's, with its validation pass, logging and checkpoints); test_s: one pass over the test "
        "digits; medians over epochs and repeats",
        "peak_mb: peak memory during a run (CPU: the process's resident set; CUDA: tensors)",
    ]
    return SectionResult(NAME, rows, SHOWN, targets, notes)

