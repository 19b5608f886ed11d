"""`zoo names` and `zoo sample`: deprecated spellings of `zoo predict --ckpt_path CKPT INPUT...`
for a surname classifier and a language model, kept with their arguments and output; each run
says what replaces it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zoo.cli.parse_errors import OneLineParser, add_overwrite_argument
from zoo.notice import notice

if TYPE_CHECKING:
    from zoo.tasks import Task


def format_top(name: str, top: list[tuple[str, float]], width: int) -> str:
    """One line: the name, then each country with its probability in percent."""
    return name.ljust(width) + "  " + "  ".join(f"{country} {100 * p:.1f}%" for country, p in top)


def loaded(ckpt: str, kind: str, command: str) -> Task:
    """The checkpoint's model, refused unless its card's inputs are of `kind`."""
    from zoo.checkpoints import load_model
    from zoo.errors import ZooError
    from zoo.tasks import Task

    model = load_model(None, ckpt)
    assert isinstance(model, Task)
    takes = model.raw_inputs.kind
    if takes != kind:
        raise ZooError(f"'zoo {command}' needs a model that takes {kind}, but {ckpt!r} holds {model.zoo_name}, "
                       f"which takes {takes}; use 'zoo predict --ckpt_path {ckpt} INPUT...'")
    return model


def names_main(argv: list[str]) -> None:
    parser = OneLineParser(prog="zoo names", description="Deprecated: use 'zoo predict --ckpt_path CKPT NAME...'. "
                           "The likeliest countries of origin of surnames.")
    parser.add_argument("ckpt", help="checkpoint of a trained surname classifier")
    parser.add_argument("names", nargs="+", help="surnames, e.g. Nguyen Schmidt")
    parser.add_argument("--top", type=int, default=3, help="how many countries to show (3)")
    parser.add_argument("--output", help="also write the answers to this CSV file")
    add_overwrite_argument(parser)
    args = parser.parse_args(argv)
    notice(f"'zoo names' is deprecated; use 'zoo predict --ckpt_path {args.ckpt} NAME...'")
    from zoo.answers import write_csv
    from zoo.files import output_path

    output = output_path(args.output, "--output", [args.ckpt, *args.names], args.overwrite) if args.output else None
    model = loaded(args.ckpt, "names", "names")
    rows = model.answer(args.names, k=args.top)
    width = max(len(name) for name in args.names)
    for row in rows:
        print(format_top(row.input, row.top, width))
    if output:
        print(f"zoo: predictions saved to {write_csv(rows, output)}")


def sample_main(argv: list[str]) -> None:
    parser = OneLineParser(prog="zoo sample", description="Deprecated: use 'zoo predict --ckpt_path CKPT PROMPT'. "
                           "Text written by a trained character model.")
    parser.add_argument("ckpt", help="checkpoint of a trained language model")
    parser.add_argument("--prompt", default="\n", help="text to start from (a newline)")
    parser.add_argument("--length", type=int, default=300, help="characters to write (300)")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="below 1: safer, more repetitive text; above 1: wilder (0.8)")
    parser.add_argument("--seed", type=int, default=None, help="fix it to get the same text again")
    args = parser.parse_args(argv)
    notice(f"'zoo sample' is deprecated; use 'zoo predict --ckpt_path {args.ckpt} PROMPT --length N'")
    model = loaded(args.ckpt, "prompt", "sample")
    (row,) = model.answer([args.prompt], length=args.length, temperature=args.temperature, seed=args.seed)
    print(row.input + row.prediction)
