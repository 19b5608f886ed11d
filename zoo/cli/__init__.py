"""The `zoo` command: `zoo list` answers from the model index; fit/validate/test/predict run
LightningCLI; every user mistake ends as one `zoo: error:` line and exit code 2."""

from __future__ import annotations

import importlib
import os
import sys

from zoo.errors import ZooError
from zoo.files import full_disk
from zoo.registry import unknown_name_message

LIGHTNING_COMMANDS = ("fit", "validate", "test", "predict")
NAMED_OPTIONS = {"--model": "model", "--data": "datamodule"}
"""The Lightning commands' options that take a registry name, and the kind of name each takes."""

HELP = """\
usage: zoo COMMAND [options]

Train, evaluate and list the PyTorch tutorial models.

commands:
  list [PATTERN] [--json] [--data]   the models (or datamodules) with their metadata
  show NAME                          print a model's layers and named parameters
  plot LOG_DIR [--metric val/acc]    plot a run's metric per epoch to a PNG
  fit --model NAME [--recipe R]      train; the model's datamodule and recipe are the defaults
  validate|test|predict --ckpt_path CKPT
                                     evaluate or predict with a checkpoint (it knows its model)
  predict --model NAME INPUT... [--ckpt_path CKPT] [--top K] [--output FILE.csv]
                                     predict on your own inputs, of the kind the model's card names
  export --model NAME --format onnx|onnx_int8|pt2|torchscript --out FILE [--ckpt_path CKPT]
                                     raw input to answer, for onnxruntime or torch.export.load
  serve [--model NAME ...] [--ckpt_path C ...] [--host H] [--port P]
                                     every model as a web service, and a page to draw digits
  weights build [NAME...] [--out DIR]
                                     train and save the pretrained weights zoo ships
  weights list                       the shipped weights: sha256, size, test metrics

Every Lightning option works after the command: --trainer.*, --model.*, --data.*,
--config FILE, --print_config, applied left to right. 'zoo fit --help' lists them all.

examples:
  zoo list "*mnist*"
  zoo fit --model inception_mnist
  zoo fit --model cnn_mnist --recipe tutorial --trainer.max_epochs 3
  zoo test --ckpt_path runs/cnn_mnist/.../best.ckpt
"""


EXTRA_COMMANDS: dict[str, str] = {
    "list": "zoo.cli.listing:print_listing",
    "show": "zoo.cli.inspect:show_command",
    "plot": "zoo.cli.inspect:plot_command",
    "export": "zoo.cli.export:export_main",
    "weights": "zoo.cli.weights:weights_main",
    "serve": "zoo.serve.command:serve_main",
}


def run_extra_command(name: str, argv: list[str]) -> None:
    """Import a command's module only when it runs, so `zoo list` stays instant."""
    module, function = EXTRA_COMMANDS[name].split(":")
    getattr(importlib.import_module(module), function)(argv)


def zoo_error_in(err: BaseException) -> ZooError | None:
    """The ZooError behind an exception: jsonargparse and Lightning re-raise a constructor's
    error inside their own, with the original as its cause."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ZooError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def run_lightning_command(args: list[str]) -> None:
    """Hand the command line to LightningCLI (imported only now: it takes seconds), once the
    registry names on it are known to the saved index, so a misspelt one costs no such wait."""
    from zoo.cli.listing import check_indexed
    from zoo.cli.parse_errors import option_values

    for key, value in option_values(args[1:]):
        if key in NAMED_OPTIONS:
            check_indexed(NAMED_OPTIONS[key], value)
    from zoo.cli.lightning import run

    run(args)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if not args or args[0] in ("-h", "--help", "help"):
            print(HELP, end="")
        elif args[0] in EXTRA_COMMANDS:
            run_extra_command(args[0], args[1:])
        elif args[0] in LIGHTNING_COMMANDS:
            run_lightning_command(args)
        else:
            commands = [*EXTRA_COMMANDS, *LIGHTNING_COMMANDS]
            raise ZooError(unknown_name_message("command", args[0], commands, "zoo --help", cutoff=0.6))
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except BrokenPipeError:
        # The reader of our output went away (`zoo list --json | head -1`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None
    except Exception as err:
        found = zoo_error_in(err) or full_disk(err)
        if found is None:
            raise
        print(f"zoo: error: {found}", file=sys.stderr)
        raise SystemExit(2) from None
