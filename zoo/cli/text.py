"""`zoo names` and `zoo sample`: `zoo predict` for a gru_names or char_rnn_shakespeare checkpoint,
with their own arguments and output kept."""

from __future__ import annotations

from zoo.cli.parse_errors import OneLineParser


def format_top(name: str, top: list[tuple[str, float]], width: int) -> str:
    """One line: the name, then each country with its probability in percent."""
    return name.ljust(width) + "  " + "  ".join(f"{country} {100 * p:.1f}%" for country, p in top)


def names_main(argv: list[str]) -> None:
    parser = OneLineParser(prog="zoo names", description="The likeliest countries of origin of surnames.")
    parser.add_argument("ckpt", help="checkpoint of a trained gru_names model")
    parser.add_argument("names", nargs="+", help="surnames, e.g. Nguyen Schmidt")
    parser.add_argument("--top", type=int, default=3, help="how many countries to show (3)")
    parser.add_argument("--output", help="also write the answers to this CSV file")
    args = parser.parse_args(argv)
    from zoo.inference import load_checkpoint, output_path, predict, require_model, write_csv

    output = output_path(args.output, "--output", [args.ckpt, *args.names]) if args.output else None
    model = load_checkpoint(args.ckpt)
    require_model(model, "gru_names")
    rows = predict(model, args.names, k=args.top)
    width = max(len(name) for name in args.names)
    for row in rows:
        print(format_top(row.input, row.top, width))
    if output:
        print(f"zoo: predictions saved to {write_csv(rows, output)}")


def sample_main(argv: list[str]) -> None:
    parser = OneLineParser(prog="zoo sample", description="Text written by a trained character model.")
    parser.add_argument("ckpt", help="checkpoint of a trained char_rnn_shakespeare model")
    parser.add_argument("--prompt", default="\n", help="text to start from (a newline)")
    parser.add_argument("--length", type=int, default=300, help="characters to write (300)")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="below 1: safer, more repetitive text; above 1: wilder (0.8)")
    parser.add_argument("--seed", type=int, default=None, help="fix it to get the same text again")
    args = parser.parse_args(argv)
    from zoo.inference import load_checkpoint, predict, require_model

    model = load_checkpoint(args.ckpt)
    require_model(model, "char_rnn_shakespeare")
    (row,) = predict(model, [args.prompt], length=args.length, temperature=args.temperature, seed=args.seed)
    print(row.input + row.prediction)
