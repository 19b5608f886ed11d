"""`zoo predict --model NAME INPUT...`: a trained model on your own inputs, as a table (and CSV).

`zoo predict` with no inputs stays LightningCLI's prediction over a datamodule; `zoo names` and
`zoo sample` are this command with their old arguments.
"""

from __future__ import annotations

import argparse
import re

from zoo.cli.parse_errors import OneLineParser

LIGHTNING_OPTIONS = ("--trainer", "--data", "--config", "--print_config", "--seed_everything", "--model.",
                     "--optimizer", "--lr_scheduler", "--return_predictions", "--recipe")
NUMBER = re.compile(r"^-\d|^-\.\d")


def parser() -> OneLineParser:
    p = OneLineParser(
        prog="zoo predict",
        description="Predict with a trained model on your own inputs, of the kind its card names "
        "('zoo list --json' shows each model's): image files or folders (digits are prepared as "
        "MNIST's were), surnames, a prompt to continue, words, or numbers.",
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="what to predict on")
    p.add_argument("--model", help="a registered model name (see zoo list)")
    p.add_argument("--ckpt_path", help="checkpoint to load (default: zoo's pretrained weights)")
    p.add_argument("--top", type=int, default=3, help="how many likeliest labels to show (3)")
    p.add_argument("--output", help="also write the table to this CSV file")
    p.add_argument("--length", type=int, default=200, help="characters a prompt is continued by (200)")
    p.add_argument("--temperature", type=float, default=0.8, help="sampling temperature, > 0 (0.8)")
    p.add_argument("--seed", type=int, default=None, help="sampling seed: the same seed, the same text")
    return p


VALUE_OPTIONS = {"--model", "--ckpt_path", "--top", "--output", "--length", "--temperature", "--seed"}


def split_inputs(argv: list[str]) -> tuple[list[str], list[str]]:
    """(options, inputs): an input may start with '-' when it is a number ('-0.5,1,...')."""
    options: list[str] = []
    inputs: list[str] = []
    rest = iter(argv)
    for arg in rest:
        if arg == "--":
            inputs.extend(rest)
        elif arg in VALUE_OPTIONS:
            options += [arg, *([value] if (value := next(rest, None)) is not None else [])]
        elif arg.startswith("-") and not NUMBER.match(arg):
            options.append(arg)
        else:
            inputs.append(arg)
    return options, inputs


def predicts_inputs(argv: list[str]) -> bool:
    """True for `zoo predict` command lines that name inputs and no LightningCLI option, which
    this command answers; others (`--ckpt_path C` alone, `--data ...`) go to LightningCLI."""
    return not any(a.startswith(LIGHTNING_OPTIONS) for a in argv) and bool(split_inputs(argv)[1])


def parse(argv: list[str]) -> argparse.Namespace:
    """The options, with every input after '--' so that argparse takes none for an option."""
    options, inputs = split_inputs(argv)
    return parser().parse_args([*options, "--", *inputs])


def predict_main(argv: list[str]) -> None:
    args = parse(argv)
    from zoo.answers import format_table, write_csv
    from zoo.checkpoints import load_model
    from zoo.files import output_path

    output = output_path(args.output, "--output", [*args.inputs, args.ckpt_path]) if args.output else None
    model = load_model(args.model, args.ckpt_path)
    rows = model.answer(args.inputs, k=args.top, length=args.length, temperature=args.temperature, seed=args.seed)
    print(format_table(rows))
    if output:
        print(f"zoo: predictions saved to {write_csv(rows, output)}")
