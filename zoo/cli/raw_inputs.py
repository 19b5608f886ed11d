"""`zoo predict` on a person's own inputs: image files, surnames, a prompt, words, numbers, of the
kind the model's card names. The same parser as `zoo predict` over a datamodule (LightningCLI's):
inputs may stand beside any of its options, and with none the datamodule's test split is used.
"""

from __future__ import annotations

from typing import Any

from zoo.errors import ZooError

OPTIONS: dict[str, tuple[Any, Any, str]] = {
    "top": (int, 3, "how many likeliest labels to show"),
    "output": (str | None, None, "also write the answers to this CSV file"),
    "overwrite": (bool, False, "replace an existing --output file (never a checkpoint, a weights file or an input)"),
    "length": (int, 200, "characters a prompt is continued by"),
    "temperature": (float, 0.8, "sampling temperature, > 0"),
    "seed": (int | None, None, "sampling seed: the same seed, the same text"),
}
"""The options that belong to inputs (a prediction over a datamodule takes none): each one's type,
default and help."""


def add_raw_input_arguments(parser: Any) -> None:
    """The inputs (positional, anywhere on the line) and their options, on `zoo predict`'s parser."""
    parser.add_argument("inputs", nargs="*", default=[],
                        help="your own inputs, of the kind the model's card names ('zoo list --json'): image files or "
                             "folders, surnames, a prompt, words, numbers; one starting with '-' goes after '--'. "
                             "None: predict over the datamodule's test split")
    for name, (kind, default, text) in OPTIONS.items():
        parser.add_argument(f"--{name}", type=kind, default=default, help=text)


def raw_inputs(section: Any) -> list[str]:
    """The inputs given to `zoo predict`, none for other commands."""
    return list(section.get("inputs") or [])


def check_raw_input_options(section: Any) -> None:
    """Before any work: the output file can be written and replaces nothing it must not, options
    of inputs come with inputs, and the shipped weights answer when no checkpoint is given."""
    from zoo.files import output_path

    inputs = raw_inputs(section)
    if not inputs:
        if section.get("output"):
            raise ZooError("--output writes the answers to your own inputs; give inputs, or leave --output out "
                           "(a prediction over the data saves predictions.pt in its run folder)")
        return
    if section.get("output"):
        output_path(section["output"], "--output", [*inputs, section.get("ckpt_path")], section["overwrite"])
    if not section.get("ckpt_path") and not section.get("untrained"):
        section["pretrained"] = True  # your own inputs are answered by zoo's shipped weights by default


def answer_raw_inputs(model: Any, section: Any, device: Any) -> None:
    """Print the answers to the inputs (a table; written text as text) and write the CSV, from the
    checkpoint's model when one is given (loaded the safe way), else `model` as built (shipped
    weights or untrained)."""
    from zoo.answers import format_table, format_text, write_csv
    from zoo.checkpoints import load_checkpoint
    from zoo.tasks import LanguageModelTask

    if section.get("ckpt_path"):
        model = load_checkpoint(section["ckpt_path"])
    model = model.to(device)
    if isinstance(model, LanguageModelTask):
        rows = model.answer(raw_inputs(section), length=section["length"], temperature=section["temperature"],
                            seed=section["seed"])
        print(format_text(rows))
    else:
        rows = model.answer(raw_inputs(section), k=section["top"])
        print(format_table(rows))
    if section.get("output"):
        print(f"zoo: predictions saved to {write_csv(rows, section['output'])}")
