"""One model under its tutorial, default and accurate recipes, over a few seeds: accuracy and time.

    python examples/compare_recipes.py                          # cnn_mnist, seeds 0 1 2
    python examples/compare_recipes.py --model lenet_mnist --seeds 0 1 2 3 4
    python examples/compare_recipes.py --plot recipes.png       # accuracy against seconds
    python examples/compare_recipes.py --quick --plot r.png     # 1 seed, 10 batches of 1 epoch

Each run is `zoo.training.fit(model, recipe, seed=...)`, as `zoo fit --recipe ...` trains, and
tests its last weights. Prints every run and the median per recipe as pandas tables; --plot
saves test accuracy against training seconds (matplotlib, no display needed).
--quick shows the mechanics only: its accuracies say nothing about the recipes.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from zoo import model_card
from zoo.notice import quiet_lightning
from zoo.training import fit

RECIPES = ("tutorial", "default", "accurate")


def run_once(model: str, recipe: str, seed: int, source: str, limits: dict[str, int]) -> dict[str, object]:
    started = time.perf_counter()
    run = fit(model, recipe, seed=seed, data_kwargs={"source": source}, logger=False,
              enable_checkpointing=False, enable_progress_bar=False, **limits)
    seconds = time.perf_counter() - started
    return {"recipe": recipe, "seed": seed, "epochs": run.trainer.current_epoch,
            "test_acc": run.test["test/acc"], "seconds": seconds}


def plot(table: pd.DataFrame, model: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for recipe, runs in table.groupby("recipe", sort=False):
        axes.scatter(runs["seconds"], runs["test_acc"], label=recipe)
    axes.set_xlabel("training seconds")
    axes.set_ylabel("test accuracy")
    axes.set_title(f"{model}: recipes over {table['seed'].nunique()} seeds")
    axes.legend()
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn_mnist", help="a model with these three recipes (cnn_mnist)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (0 1 2)")
    parser.add_argument("--plot", help="save accuracy against seconds to this image file")
    parser.add_argument("--quick", action="store_true", help="seed 0, 1 epoch of 10 batches, embedded digits")
    args = parser.parse_args()
    quiet_lightning()
    missing = [r for r in RECIPES if r not in model_card(args.model).recipes]
    if missing:
        parser.error(f"{args.model} has no {', '.join(missing)} recipe; try cnn_mnist or lenet_mnist")
    seeds = [0] if args.quick else args.seeds
    limits = {"max_epochs": 1, "limit_train_batches": 10} if args.quick else {}
    source = "embedded" if args.quick else "auto"

    rows = [run_once(args.model, recipe, seed, source, limits) for recipe in RECIPES for seed in seeds]
    table = pd.DataFrame(rows)
    print(f"{args.model} on {torch.get_num_threads()} CPU threads, torch {torch.__version__}"
          + (" (--quick: 10 batches per run)" if args.quick else ""))
    print(table.to_string(index=False, formatters={"test_acc": "{:.4f}".format, "seconds": "{:.1f}".format}))
    summary = table.groupby("recipe", sort=False).agg(
        seeds=("seed", "count"), median_acc=("test_acc", "median"), median_seconds=("seconds", "median"))
    print()
    print(summary.to_string(formatters={"median_acc": "{:.4f}".format, "median_seconds": "{:.1f}".format}))
    if args.plot:
        plot(table, args.model, args.plot)
        print(f"plot saved to {args.plot}")


if __name__ == "__main__":
    main()
