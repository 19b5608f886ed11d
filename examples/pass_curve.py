"""P(pass) against hours studied, from a trained logistic_regression (002 lines 234-250).

    python examples/pass_curve.py                      # train with the default recipe
    python examples/pass_curve.py --recipe tutorial    # the tutorial's 100 steps at lr 0.01
    python examples/pass_curve.py --ckpt runs/logistic_regression/.../best.ckpt
    python examples/pass_curve.py --plot pass_curve.png
    python examples/pass_curve.py --quick              # 20 full-batch steps instead of the recipe's

Prints P(pass) for 0..10 hours and where the curve crosses 0.5; --plot also saves the figure.
"""

from __future__ import annotations

import argparse
import sys

from zoo import ZooError, load_checkpoint
from zoo.curves import crossing, curve_table, plot_curve, probability_curve
from zoo.training import fit

QUICK_EPOCHS = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="default", help="recipe to train with (default)")
    parser.add_argument("--ckpt", help="use this checkpoint instead of training")
    parser.add_argument("--plot", help="save the curve to this image file (e.g. curve.png)")
    parser.add_argument("--quick", action="store_true", help="20 full-batch steps (the crossing is rougher)")
    args = parser.parse_args()

    if args.ckpt:
        model = load_checkpoint(args.ckpt)
    else:
        model = fit(
            "logistic_regression",
            args.recipe,
            test=False,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            **({"max_epochs": QUICK_EPOCHS} if args.quick else {}),
        ).model
    hours, probs = probability_curve(model, 0.0, 10.0)
    print(curve_table(hours, probs, label="hours"))
    cross = crossing(hours, probs)
    print("never crosses 0.5" if cross is None else f"P(pass) crosses 0.5 at {cross:.2f} h")
    if args.plot:
        print(f"plot saved to {plot_curve(hours, probs, args.plot)}")


if __name__ == "__main__":
    try:
        main()
    except ZooError as err:
        sys.exit(f"pass_curve.py: error: {err}")
