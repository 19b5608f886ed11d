"""Time to accuracy: the model's default recipe in zoo against the tutorial recipe in the
tutorial's loop, both on the same digits with the same seed.

The goal is the test accuracy the tutorial program reaches after its recipe's epochs (10).
zoo then trains twice, testing after every epoch: with the tutorial recipe for as many epochs
(the loop's speed-up alone), and with the default recipe read from the registry, for all its
epochs (final_acc and total_s are that recipe's result; seconds is when it first reached the
goal). Seconds count from the start of a run to the end of the epoch that reached the goal,
test passes excluded on both sides (reported apart as eval_s); zoo's count includes its Trainer
set-up, validation and checkpoints. Times come from the first seed.

The equal-recipe accuracy check compares the tutorial recipe's final accuracy in both loops over
one seed per repeat (seed, seed + 1, ...): a seed sets the initial weights (the same on both
sides) and each loop's own shuffle, so one seed's difference is mostly shuffle luck.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from benchmarks.common import SectionResult, Settings, Target
from benchmarks.data import tutorial_datasets
from benchmarks.loops import TestEachEpoch, run_tutorial, run_zoo, warm_up
from zoo.registry import recipe_for

NAME = "time_to_accuracy"
LIMIT = 0.2
QUICK_EPOCHS = 2
SHOWN = ["model", "side", "recipe", "seed", "epochs", "acc", "seconds", "final_acc", "total_s",
         "eval_s", "zoo/tutorial"]


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
                "seed": settings.seed,
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
            })
        speed = rows[-1]["zoo/tutorial"]
        finals = {"tutorial loop": [goal], "zoo": [runs["zoo", "tutorial"].acc[-1]]}
        for seed in range(settings.seed + 1, settings.seed + settings.repeats):
            tutorial = run_tutorial(name, settings, seed, epochs["tutorial"], train_set, test_set)
            zoo = run_zoo(name, "tutorial", settings, seed, epochs["tutorial"])
            for side, log in (("tutorial loop", tutorial), ("zoo", zoo)):
                finals[side].append(log.acc[-1])
                rows.append({"model": name, "side": side,
                             "recipe": f"tutorial: {recipes['tutorial'].describe()}",
                             "seed": seed, "final_acc": log.acc[-1]})
        difference = statistics.mean(finals["zoo"]) - statistics.mean(finals["tutorial loop"])
        targets += [
            Target(NAME, "zoo default recipe / tutorial, seconds to its accuracy", name, speed,
                   LIMIT),
            Target(NAME, f"|zoo - tutorial| mean accuracy, same recipe, {epochs['tutorial']} "
                   f"epochs, seeds: {len(finals['zoo'])}", name, abs(difference),
                   accuracy_tolerance(finals["zoo"], finals["tutorial loop"], len(test_set))),
        ]
    notes = [
        "seconds: start of the run to the end of the epoch that reached goal_acc (the "
        "tutorial's last epoch), test passes excluded; eval_s: those test passes; first seed",
        "rows with a seed and final_acc alone: the tutorial recipe's other seeds, for the "
        "accuracy check",
        "accuracy target: two standard errors of the difference of the two sides' mean "
        "accuracies (spread across seeds, at least the test digits' binomial spread)",
    ]
    return SectionResult(NAME, rows, SHOWN, targets, notes)


def accuracy_tolerance(first: list[float], second: list[float], n: int) -> float:
    """Two standard errors of the difference of two mean accuracies, each a mean over seeds.

    Each run's variance is its side's sample variance across seeds, but never below the
    binomial variance of one score on `n` test digits (one seed has no spread of its own)."""
    def run_variance(scores: list[float]) -> float:
        p = statistics.mean(scores)
        spread = statistics.variance(scores) if len(scores) > 1 else 0.0
        return max(spread, p * (1 - p) / n)

    return 2 * math.sqrt(sum(run_variance(s) / len(s) for s in (first, second)))
