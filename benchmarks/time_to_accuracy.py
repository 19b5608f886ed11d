"""Time to accuracy: the model's default recipe in zoo against the tutorial recipe in the
tutorial's loop, both on the same digits with the same seed.

The goal is the test accuracy the tutorial program reaches after its recipe's epochs (10).
zoo then trains twice, testing after every epoch: with the tutorial recipe for as many epochs
(the same recipe, so its accuracy must match: the equal-recipe accuracy check), and with the
default recipe read from the registry, for all its epochs (final_acc and total_s are that
recipe's result; seconds is when it first reached the goal). Seconds count from
the start of a run to the end of the epoch that reached the goal, test passes excluded on
both sides (reported apart as eval_s); zoo's count includes its Trainer set-up, validation
and checkpoints.
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.common import SectionResult, Settings, Target
from benchmarks.data import tutorial_datasets
from benchmarks.loops import TestEachEpoch, run_tutorial, run_zoo, warm_up
from zoo.registry import recipe_for

NAME = "time_to_accuracy"
LIMIT = 0.2
QUICK_EPOCHS = 2
SHOWN = ["model", "side", "recipe", "epochs", "acc", "seconds", "final_acc", "total_s", "eval_s",
         "zoo/tutorial"]


def run(settings: Settings) -> SectionResult:
    rows: list[dict[str, Any]] = []
    targets: list[Target] = []
    for name in settings.models:
        recipes = {r: recipe_for(name, r) for r in ("tutorial", "default")}
        epochs = {r: QUICK_EPOCHS if settings.quick else recipe.max_epochs
                  for r, recipe in recipes.items()}
        train_set, test_set = tutorial_datasets(name, settings)
        warm_up(name, settings, train_set, test_set)

        reference = run_tutorial(name, settings, settings.seed, epochs["tutorial"], train_set,
                                 test_set)
        goal = reference.acc[-1]
        tutorial_s = reference.time_to(len(reference.ends) - 1)
        runs = {("tutorial loop", "tutorial"): reference}
        for recipe_name in ("tutorial", "default"):
            tester = TestEachEpoch(settings.device)
            log = run_zoo(name, recipe_name, settings, settings.seed, epochs[recipe_name],
                          callbacks=[tester], test=False)
            log.eval_s, log.acc = tester.eval_s, tester.acc
            runs["zoo", recipe_name] = log

        for (side, recipe_name), log in runs.items():
            reached = (len(log.acc) - 1 if log is reference
                       else next((i for i, acc in enumerate(log.acc) if acc >= goal), None))
            seconds = log.time_to(reached) if reached is not None else None
            rows.append({
                "model": name,
                "side": side,
                "recipe": f"{recipe_name}: {recipes[recipe_name].describe()}",
                "epochs": reached + 1 if reached is not None else f"not in {len(log.acc)}",
                "acc": log.acc[reached] if reached is not None else max(log.acc),
                "final_acc": log.acc[-1],
                "seconds": seconds,
                "total_s": log.time_to(len(log.acc) - 1),
                "eval_s": sum(log.eval_s),
                "zoo/tutorial": (seconds / tutorial_s if seconds is not None and side == "zoo"
                                 else None),
                "goal_acc": goal,
                "acc_per_epoch": " ".join(f"{a:.4f}" for a in log.acc),
                "seeds": 1,
            })
        same_recipe = runs["zoo", "tutorial"].acc[-1]
        targets += [
            Target(NAME, "zoo default recipe / tutorial, seconds to its accuracy", name,
                   rows[-1]["zoo/tutorial"], LIMIT),
            Target(NAME, f"|zoo - tutorial| accuracy, same recipe, {epochs['tutorial']} epochs",
                   name, abs(same_recipe - goal),
                   accuracy_tolerance((same_recipe + goal) / 2, len(test_set))),
        ]
    notes = [
        "seconds: start of the run to the end of the epoch that reached goal_acc (the "
        "tutorial's last epoch), test passes excluded; eval_s: those test passes; one seed",
        "accuracy target: two standard errors of the difference of two scores on the test digits",
    ]
    return SectionResult(NAME, rows, SHOWN, targets, notes)


def accuracy_tolerance(p: float, n: int) -> float:
    """Two standard errors of the difference of two accuracies near p, each on n test digits."""
    return 2 * math.sqrt(2 * p * (1 - p) / n)
