"""The `zoo` command: `zoo list` answers from the model index; the rest runs LightningCLI."""

from __future__ import annotations

import importlib
import sys

from zoo.errors import ZooError

LIGHTNING_COMMANDS = ("fit", "validate", "test", "predict")

HELP = """\
usage: zoo COMMAND [options]

Train, evaluate and list the PyTorch tutorial models.

commands:
  list [PATTERN] [--json] [--data]   the models (or datamodules) with their metadata
  show NAME                          print a model's layers and named parameters
  plot LOG_DIR [--metric val/acc]    plot a run's metric per epoch to a PNG
  fit --model NAME [--recipe R]      train; the model's datamodule and recipe are the defaults
  validate|test|predict --model NAME --ckpt_path CKPT
                                     evaluate or predict with a checkpoint
  names CKPT NAME... [--top K]       likeliest countries of surnames (a gru_names checkpoint)
  sample CKPT [--prompt P] [--length N] [--temperature T] [--seed S]
                                     text from a char_rnn_shakespeare checkpoint

Every Lightning option works after the command: --trainer.*, --model.*, --data.*,
--config FILE, --print_config. 'zoo fit --help' lists them all.

examples:
  zoo list "*mnist*"
  zoo fit --model inception_mnist
  zoo fit --model cnn_mnist --recipe tutorial --trainer.max_epochs 3
  zoo test --model cnn_mnist --ckpt_path runs/cnn_mnist/.../best.ckpt
"""


EXTRA_COMMANDS: dict[str, str] = {
    "list": "zoo.listing:print_listing",
    "show": "zoo.inspect_commands:show_command",
    "plot": "zoo.inspect_commands:plot_command",
    "names": "zoo.sequence_commands:names_main",
    "sample": "zoo.sequence_commands:sample_main",
}


def run_extra_command(name: str, argv: list[str]) -> None:
    """Import a command's module only when it runs, so `zoo list` stays instant."""
    module, function = EXTRA_COMMANDS[name].split(":")
    getattr(importlib.import_module(module), function)(argv)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if not args or args[0] in ("-h", "--help", "help"):
            print(HELP, end="")
        elif args[0] in EXTRA_COMMANDS:
            run_extra_command(args[0], args[1:])
        elif args[0] in LIGHTNING_COMMANDS:
            import warnings

            from zoo.lightning_cli import run_lightning_cli

            warnings.filterwarnings("ignore", message=".*LeafSpec.*is deprecated")
            warnings.filterwarnings("ignore", message="LightningCLI's args parameter")

            run_lightning_cli(args)
        else:
            commands = [*EXTRA_COMMANDS, *LIGHTNING_COMMANDS]
            from zoo.registry import unknown_name_message

            raise ZooError(unknown_name_message("command", args[0], commands, "zoo --help", cutoff=0.6))
    except ZooError as err:
        print(f"zoo: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
