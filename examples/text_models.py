"""The two text models from Python: surnames to countries (gru_names) and text from a prompt
(char_rnn_shakespeare).

    python examples/text_models.py                          # pretrained weights where zoo ships them
    python examples/text_models.py Nguyen Schmidt --prompt "JULIET:" --length 300
    python examples/text_models.py --quick --data-dir DATA  # a very short training instead

Each model comes with zoo's pretrained weights when `zoo/weights/cards.json` has them (and
--quick is not given); otherwise it is trained briefly on the tutorials' files, which need
--data-dir or $ZOO_DATA_DIR naming a folder with names_train.csv.gz and shakespeare.txt.gz.
A few batches teach little: --quick shows the calls, not what the models can do.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import lightning.pytorch as pl

from zoo import build
from zoo.notice import quiet_lightning
from zoo.pretrained import cards, headline
from zoo.training import fit

DATA_FILES = {"gru_names": "names_train.csv.gz", "char_rnn_shakespeare": "shakespeare.txt.gz"}
SURNAMES = ["Nguyen", "Schmidt", "Rossi", "Tanaka", "O'Brien", "Müller"]


def load(name: str, quick: bool, data_dir: Path | None, batches: int) -> pl.LightningModule:
    """Model `name` with zoo's shipped weights, or after `batches` training batches."""
    shipped = cards().get(name)
    if shipped and not quick:
        print(f"{name}: pretrained weights ({headline(shipped)} on its card)")
        return build(name, pretrained=True).eval()
    run = fit(name, data_kwargs={"data_dir": str(data_dir)}, seed=0, test=False, max_epochs=1,
              limit_train_batches=batches, limit_val_batches=1, num_sanity_val_steps=0, logger=False,
              enable_checkpointing=False, enable_progress_bar=False)
    print(f"{name}: trained for {batches} batches on {data_dir / DATA_FILES[name]}")
    return run.model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("surnames", nargs="*", default=SURNAMES, help="surnames to place (a few defaults)")
    parser.add_argument("--prompt", default="ROMEO:", help="text to continue (ROMEO:)")
    parser.add_argument("--length", type=int, default=200, help="characters to write (200)")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature (0.8)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (0)")
    parser.add_argument("--data-dir", default=os.environ.get("ZOO_DATA_DIR"),
                        help="folder with the tutorials' files (default $ZOO_DATA_DIR)")
    parser.add_argument("--batches", type=int, default=50, help="training batches when training (50)")
    parser.add_argument("--quick", action="store_true", help="train 5 batches each, even with weights shipped")
    args = parser.parse_args()
    quiet_lightning()
    batches = 5 if args.quick else args.batches

    to_train = [n for n in DATA_FILES if args.quick or n not in cards()]
    data_dir = Path(args.data_dir) if args.data_dir else None
    missing = [DATA_FILES[n] for n in to_train if data_dir is None or not (data_dir / DATA_FILES[n]).is_file()]
    if missing:
        where = f"in {data_dir}" if data_dir else "(no --data-dir or $ZOO_DATA_DIR given)"
        print(f"text_models.py: training needs {', '.join(missing)} {where}; "
              "pass --data-dir DIR or set ZOO_DATA_DIR", file=sys.stderr)
        sys.exit(2)

    names_model = load("gru_names", args.quick, data_dir, batches)
    print(f"{'surname':<10}  top 3 countries")
    for row in names_model.answer(args.surnames, k=3):
        print(f"{row.input:<10}  " + "  ".join(f"{country} {100 * p:.1f}%" for country, p in row.top))

    text_model = load("char_rnn_shakespeare", args.quick, data_dir, batches)
    text = text_model.sample(args.prompt, args.length, args.temperature, args.seed)
    print(f"--- {args.prompt!r} continued ({args.length} characters, temperature {args.temperature}, "
          f"seed {args.seed}) ---")
    print(args.prompt + text)


if __name__ == "__main__":
    main()
