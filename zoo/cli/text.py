"""`zoo names` and `zoo sample`: a trained names classifier or text model, from its checkpoint."""

from __future__ import annotations

import argparse

from zoo.checkpoints import load_checkpoint
from zoo.inference import require_model, top_countries


def format_top(name: str, top: list[tuple[str, float]], width: int) -> str:
    """One line: the name, then each country with its probability in percent."""
    return name.ljust(width) + "  " + "  ".join(f"{country} {100 * p:.1f}%" for country, p in top)


def names_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="zoo names", description="The likeliest countries of origin of surnames."
    )
    parser.add_argument("ckpt", help="checkpoint of a trained gru_names model")
    parser.add_argument("names", nargs="+", help="surnames, e.g. Nguyen Schmidt")
    parser.add_argument("--top", type=int, default=3, help="how many countries to show (3)")
    args = parser.parse_args(argv)
    model = load_checkpoint(args.ckpt)
    width = max(len(name) for name in args.names)
    for name, top in zip(args.names, top_countries(model, args.names, k=args.top), strict=True):
        print(format_top(name, top, width))


def sample_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="zoo sample", description="Text written by a trained character model."
    )
    parser.add_argument("ckpt", help="checkpoint of a trained char_rnn_shakespeare model")
    parser.add_argument("--prompt", default="\n", help="text to start from (a newline)")
    parser.add_argument("--length", type=int, default=300, help="characters to write (300)")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="below 1: safer, more repetitive text; above 1: wilder (0.8)")
    parser.add_argument("--seed", type=int, default=None, help="fix it to get the same text again")
    args = parser.parse_args(argv)
    model = load_checkpoint(args.ckpt)
    require_model(model, "char_rnn_shakespeare")
    print(args.prompt + model.sample(args.prompt, args.length, args.temperature, args.seed))  # type: ignore[operator]
