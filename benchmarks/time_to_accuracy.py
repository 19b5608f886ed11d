"""Time to accuracy: the model's default recipe in zoo against the tutorial recipe in the
tutorial's loop, both on the same digits with the same first seed.

The goal is the test accuracy the tutorial program reaches after its recipe's epochs (10).
zoo trains with the default recipe read from the registry, tests after every epoch and stops
once it reaches the goal. Seconds count from the start of a run to the end of the epoch that
got there, test passes excluded on both sides (reported apart as eval_s); zoo's count includes
its Trainer set-up, validation and checkpoints.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import SectionResult, Settings, Target
from benchmarks.data import tutorial_datasets
from benchmarks.loops import TestEachEpoch, run_tutorial, run_zoo, warm_up
from zoo.registry import recipe_for

NAME = "time_to_accuracy"
LIMIT = 0.2
QUICK_EPOCHS = 2
SHOWN = ["model", "side", "recipe", "epochs", "acc", "seconds", "eval_s", "zoo/tutorial"]


def run(settings: Settings) -> SectionResult:
    rows: list[dict[str, Any]] = []
    targets: list[Target] = []
    for name in settings.models:
        tutorial_recipe, default_recipe = recipe_for(name, "tutorial"), recipe_for(name, "default")
        tutorial_epochs, default_epochs = tutorial_recipe.max_epochs, default_recipe.max_epochs
        if settings.quick:
            tutorial_epochs, default_epochs = QUICK_EPOCHS, QUICK_EPOCHS
        train_set, test_set = tutorial_datasets(name, settings)
        warm_up(name, settings, train_set, test_set)

        reference = run_tutorial(name, settings, settings.seed, tutorial_epochs, train_set,
                                 test_set)
        goal = reference.acc[-1]
        tutorial_s = reference.time_to(len(reference.ends) - 1)

        tester = TestEachEpoch(settings.device, goal)
        zoo = run_zoo(name, "default", settings, settings.seed, default_epochs, callbacks=[tester],
                      test=False)
        zoo.eval_s, zoo.acc = tester.eval_s, tester.acc
        reached = next((i for i, acc in enumerate(zoo.acc) if acc >= goal), None)
        zoo_s = zoo.time_to(reached) if reached is not None else None

        common = {"model": name, "goal_acc": goal, "seeds": 1}
        rows.append(common | {
            "side": "tutorial loop",
            "recipe": f"tutorial: {tutorial_recipe.describe()}",
            "epochs": tutorial_epochs,
            "acc": goal,
            "seconds": tutorial_s,
            "eval_s": sum(reference.eval_s),
            "acc_per_epoch": " ".join(f"{a:.4f}" for a in reference.acc),
        })
        rows.append(common | {
            "side": "zoo",
            "recipe": f"default: {default_recipe.describe()}",
            "epochs": reached + 1 if reached is not None else f"not in {default_epochs}",
            "acc": zoo.acc[reached] if reached is not None else max(zoo.acc),
            "seconds": zoo_s,
            "eval_s": sum(zoo.eval_s),
            "acc_per_epoch": " ".join(f"{a:.4f}" for a in zoo.acc),
            "zoo/tutorial": zoo_s / tutorial_s if zoo_s is not None else None,
        })
        targets.append(Target(NAME, "zoo default recipe / tutorial, seconds to its accuracy",
                              name, rows[-1]["zoo/tutorial"], LIMIT))
    notes = [
        "seconds: start of the run to the end of the epoch that reached the goal (the "
        "tutorial's last epoch), test passes excluded; eval_s: those test passes; one seed",
    ]
    return SectionResult(NAME, rows, SHOWN, targets, notes)
