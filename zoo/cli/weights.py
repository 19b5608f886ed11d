"""`zoo weights build [NAME...]`: rebuild the pretrained weights shipped with zoo."""

from __future__ import annotations

import sys
from pathlib import Path

from zoo.cli.listing import check_indexed
from zoo.cli.parse_errors import OneLineParser, add_overwrite_argument
from zoo.pretrained import cards, measured_on
from zoo.registry import MODELS


def default_models() -> list[str]:
    """Every model whose card says zoo ships its weights."""
    return [name for name in MODELS.names() if MODELS.get(name).ships_weights]


def weights_main(argv: list[str]) -> None:
    parser = OneLineParser(
        prog="zoo weights", description="Build or list zoo's pretrained weights."
    )
    sub = parser.add_subparsers(dest="action", metavar="build|list", required=True)
    build = sub.add_parser("build", help="train and save weights (all models whose data zoo holds)")
    build.add_argument("names", nargs="*", help="models to build (default: those whose card ships weights)")
    build.add_argument(
        "--data-dir", "--data_dir", dest="data_dir", help="folder with the data files (default $ZOO_DATA_DIR)"
    )
    build.add_argument("--out", help="folder to write the weights and cards.json to (default: zoo's own, "
                       "whose shipped weights the build replaces)")
    add_overwrite_argument(build, "the weights and metrics files of the named models in --out")
    sub.add_parser("list", help="the shipped weights and their cards' figures")
    args = parser.parse_args(argv)
    for name in getattr(args, "names", []):  # `build`'s, checked before Lightning is imported
        check_indexed("model", name)
    from zoo.notice import metrics_line, quiet_lightning

    if args.action == "list":
        for name, card in cards().items():
            print(f"{name:24s} {card['sha256'][:12]}  {card['bytes']:>9,} bytes  {metrics_line(card['test'])} "
                  f"on {measured_on(card)}")
        return
    from zoo.weights_build import build_all

    quiet_lightning()
    folder = Path(args.out) if args.out else None
    build_all(args.names or default_models(), args.data_dir, folder, progress=sys.stderr.isatty(),
              overwrite=args.overwrite)
