"""`zoo fit|validate|test|predict`: LightningCLI over zoo's run configuration.

What every run shares comes from `zoo.runs.run_config` as the parser's defaults; model,
datamodule and recipe names are parsed where they stand (`zoo.cli.names`), so the command line
and `--config` files apply left to right, as LightningCLI means. Parse errors and constructor
checks come out as one `ZooError` line (see `zoo.cli.parse_errors`).
"""

from __future__ import annotations

import os
import pydoc
import re
import signal
import sys
import threading
import warnings
from argparse import ArgumentError
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI, instantiate_class
from lightning.pytorch.plugins.environments import LightningEnvironment
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from zoo import checks
from zoo.building import load_pretrained
from zoo.callbacks import ConfusionMatrixCallback, LogSampleImages, RecallCeilingCallback
from zoo.checkpoints import checked_checkpoint, checkpoint_net, read_checkpoint, task_arguments
from zoo.cli.names import add_names, is_name, which_model
from zoo.cli.parse_errors import check_yaml_inputs, one_line
from zoo.cli.raw_inputs import add_raw_input_arguments, answer_raw_inputs, check_raw_input_options, raw_inputs
from zoo.datamodules.base import lacks_split, rows_seen
from zoo.errors import ZooError
from zoo.files import atomic_write
from zoo.logs import default_logger
from zoo.notice import metrics_line, quiet_lightning, say
from zoo.pretrained import headline, weights_card
from zoo.registry import MODELS, class_path
from zoo.runs import (
    EVAL_RUNS,
    TRAIN_RUNS,
    check_writable,
    checkpoint_run_dir,
    hold_run_dir,
    new_run_dir,
    run_config,
    run_config_file,
    write_failure,
)
from zoo.tasks import ClassificationTask, Task, card_labels, takes_num_classes
from zoo.training import (
    attach_test_callbacks,
    describe,
    final_test,
    kept_checkpoints,
    last_after_best,
    zoo_callbacks,
    zoo_plugins,
    zoo_profiler,
)
from zoo.weights_build import card_datamodule

RESUME_MAY_CHANGE = frozenset({
    "trainer.max_epochs", "trainer.max_steps", "trainer.max_time", "trainer.min_epochs", "trainer.min_steps",
    "trainer.enable_progress_bar", "trainer.enable_model_summary", "trainer.log_every_n_steps",
    "trainer.profiler", "trainer.default_root_dir", "trainer.limit_test_batches", "trainer.limit_predict_batches",
    "confusion_matrix.normalize", "sample_images.count",
})
"""Options a resumed run may set apart from the run's own: its length (a learning-rate schedule
planned for the run refuses another length itself), how it shows its progress and what the
final test reads. Every other option would make the resumed run differ from the run it
continues, so a resume refuses it."""
RESUME_BOOKKEEPING = frozenset({"config", "ckpt_path", "weights_only"})
"""Options that say how a command reads its inputs, not what the run is."""

EVALUATIONS = ("validate", "test", "predict")
PREDICT_DESCRIPTION = (
    "Answer your own inputs (image files or folders, surnames, a prompt, words, numbers) with a model's "
    "shipped weights or a --ckpt_path: a table of the answers, and with --output a CSV of them. With no "
    "inputs, predict over the datamodule's test split and save predictions.pt in the run folder."
)
"""What `zoo predict --help` opens with (Lightning's own line is of its Trainer.predict, cut short)."""
EVALUATED_SPLIT = {"validate": "val", "test": "test", "predict": "test"}
"""The datamodule split each evaluation reads (predict without inputs reads the test split)."""


def flat_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """Run-config sections as parser defaults: groups as dotted keys, model and data whole."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if key in ("trainer", "checkpoint"):
            flat |= {f"{key}.{name}": v for name, v in value.items()}
        else:
            flat[key] = value
    return flat


def saved_checkpoint_dir(checkpoint: dict[str, Any], ckpt_path: str) -> Path | None:
    """The run folder of a checkpoint in the spelling its ModelCheckpoint stored (Lightning
    compares that string on resume), when it is the folder the checkpoint lies in."""
    for key, state in checkpoint.get("callbacks", {}).items():
        dirpath = state.get("dirpath") if key.startswith("ModelCheckpoint") and isinstance(state, dict) else None
        if isinstance(dirpath, str) and Path(dirpath).resolve() == Path(ckpt_path).resolve().parent:
            return checkpoint_run_dir(Path(dirpath) / "last.ckpt")
    return checkpoint_run_dir(ckpt_path)


class ZooCLI(LightningCLI):
    """LightningCLI with zoo's run defaults, its checks before a run and a closing summary.

    Every run writes into a folder of its own, claimed before the Trainer is built: `fit` into
    `<root>/lightning_logs/version_N` (or, resuming from `RUN/checkpoints/last.ckpt`, into RUN),
    validate/test/predict into `<root>/eval/version_N`.
    """

    def __init__(self, defaults: dict[str, Any], started: list[ZooCLI] | None = None, **kwargs: Any) -> None:
        """`started` receives this CLI before it runs, so that its caller can still read its
        trainer and run folder when the run ends with an exception."""
        self.run_defaults = defaults
        self.checkpoint: dict[str, Any] = {}
        self.run_dir: Path | None = None
        self.scored = ""
        self.run_hold: int | None = None
        if started is not None:
            started.append(self)
        super().__init__(**kwargs)

    def add_core_arguments_to_parser(self, parser: Any) -> None:
        """LightningCLI's trainer, model and datamodule arguments, the model not required by the
        parser: a run without one is refused in zoo's words (`which_model`)."""
        parser.add_lightning_class_args(self.trainer_class, "trainer")
        parser.add_lightning_class_args(LightningModule, "model", subclass_mode=True, required=False)
        parser.add_lightning_class_args(LightningDataModule, "data", subclass_mode=True, required=False)

    def _prepare_subcommand_parser(self, klass: type, subcommand: str, **kwargs: Any) -> Any:
        """Each subcommand's parser, taught zoo's registry names once its arguments are all there."""
        parser = super()._prepare_subcommand_parser(klass, subcommand, **kwargs)
        add_names(parser)
        if subcommand == "predict":
            add_raw_input_arguments(parser)
        return parser

    def add_arguments_to_parser(self, parser: Any) -> None:
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.add_lightning_class_args(LogSampleImages, "sample_images")
        parser.add_argument(
            "--untrained",
            type=bool,
            default=False,
            help="validate, test or predict with freshly initialised weights instead of a --ckpt_path",
        )
        parser.add_argument(
            "--pretrained",
            type=bool,
            default=False,
            help="start from zoo's shipped weights of the model (see 'zoo list') instead of a --ckpt_path",
        )
        parser.add_argument(
            "--confusion_matrix.normalize",
            type=bool,
            default=False,
            help="draw the test's confusion matrix with each true class's row as fractions of its samples, "
                 "readable when the classes differ in size",
        )
        parser.set_defaults(flat_defaults(self.run_defaults))

    def normalized_confusion(self) -> bool:
        """Whether the test's confusion matrix shows each true class's row as fractions."""
        section = self.config[self.subcommand] if self.subcommand else self.config
        return bool(section.get("confusion_matrix.normalize"))

    def parse_arguments(self, parser: Any, args: Any) -> None:
        """Parse the command line given to `zoo` (which is sys.argv's tail, so no warning about
        passing both is due), with every parser error as one line."""
        check_yaml_inputs(list(args))
        try:
            self.config = parser.parse_args(args)
        except ArgumentError as err:
            raise ZooError(one_line(err, parser, list(args))) from None
        subcommand = self.config.get("subcommand")
        which_model(self.config[subcommand] if subcommand else self.config)
        if subcommand and self.config[subcommand].get("weights_only") is None:
            self.config[subcommand]["weights_only"] = True  # a checkpoint never runs code
        if subcommand == "predict":
            check_raw_input_options(self.config[subcommand])
        self.check_weights_given()
        self.check_seed()
        self.check_checkpoint_model()
        self.resume_as_run(parser, args)

    def check_seed(self) -> None:
        """Refuse a --seed_everything Lightning cannot seed with, in zoo's one line."""
        subcommand = self.config.get("subcommand")
        value = (self.config[subcommand] if subcommand else self.config).get("seed_everything")
        if value not in (None, True, False):
            checks.seed(value, "--seed_everything")

    def check_weights_given(self) -> None:
        """Evaluating random weights is almost always a forgotten --ckpt_path: ask for it. The
        shipped weights and a checkpoint are two sources of the same weights: take one."""
        subcommand = self.config.get("subcommand")
        section = self.config[subcommand] if subcommand else {}
        if section.get("pretrained") and section.get("ckpt_path"):
            raise ZooError(
                "--pretrained true and --ckpt_path both give the weights; pass one of them"
            )
        if subcommand not in EVALUATIONS:
            return
        if not section.get("ckpt_path") and not section.get("untrained") and not section.get("pretrained"):
            raise ZooError(
                f"{subcommand} needs trained weights; pass --ckpt_path RUN/checkpoints/best.ckpt "
                f"(written by 'zoo fit'), --pretrained true for zoo's shipped weights, or --untrained "
                f"true to {subcommand} the untrained model"
            )

    def check_checkpoint_model(self) -> None:
        """Validate the checkpoint (`zoo.checkpoints.checked_checkpoint`) and refuse one written by
        another model before LightningCLI reads its hyperparameters into this run (which would
        quietly swap the network)."""
        subcommand = self.config.get("subcommand")
        section = self.config.get(subcommand) if subcommand else None
        path = section.get("ckpt_path") if section else None
        if section is None or not path:
            return
        self.checkpoint = read_checkpoint(path)
        written_by = checkpoint_net(self.checkpoint, path)
        init = section.model.get("init_args") if section.get("model") else None
        wanted = init.get("net") if init else None
        if isinstance(wanted, str) and isinstance(written_by, dict):
            raise ZooError(
                f"checkpoint {path!r} was written by network {written_by['class_path']!r}, not model {wanted!r}; "
                f"leave out --model {wanted} (the checkpoint names its network), or pass a checkpoint of {wanted}"
            )
        if isinstance(wanted, str) and wanted != written_by:
            raise ZooError(
                f"checkpoint {path!r} was written by model {written_by!r}, not {wanted!r}; "
                f"pass --model {written_by}, or a checkpoint of {wanted}"
            )
        checked_checkpoint(self.checkpoint, path)
        states = self.checkpoint.get("callbacks", {})
        if subcommand == "fit" and not isinstance(states, dict):
            raise ZooError(
                f"checkpoint {path!r} holds callbacks of type {type(states).__name__}, not a mapping of their "
                "states, so training cannot resume from it; pass a last.ckpt written by 'zoo fit'"
            )

    def resume_as_run(self, parser: Any, args: Any) -> None:
        """A resumed run continues with its own options, the latest config file in its run folder,
        with the command line's on top; an option that differs from the run's (the model's: from
        the checkpoint's) is refused in one line, unless it is one a resume may change
        (`RESUME_MAY_CHANGE`). `--model NAME` only names the model, already checked to be the
        checkpoint's: it is left out, so that it does not reset the run's model options."""
        if self.config.get("subcommand") != "fit" or not self.checkpoint or not isinstance(args, list):
            return
        section = self.config.fit
        run_dir = saved_checkpoint_dir(self.checkpoint, section.ckpt_path)
        recorded_file = run_config_file(run_dir) if run_dir is not None else None
        if run_dir is None or recorded_file is None:
            return
        recorded = dict(self.parse_run_config(parser, recorded_file).items())
        hparams = self.checkpoint.get("hyper_parameters") or {}
        trained = recorded | {f"model.init_args.{k}": v for k, v in hparams.items()}
        at = args.index("fit") + 1
        merged = parser.parse_args([*args[:at], "--config", str(recorded_file), *without_model_names(args[at:])]).fit
        differ = [(key, value, trained[key]) for key, value in merged.items()
                  if key not in RESUME_BOOKKEEPING | RESUME_MAY_CHANGE and key in recorded
                  and recorded[key] != value and trained[key] != value]
        if differ:
            key, value, own = next((d for d in differ if d[0] == "recipe"), differ[0])
            option = "--" + key.replace(".init_args.", ".")
            raise ZooError(
                f"resuming run {str(run_dir)!r} with {option} {value}, but the run trains with {own}; resume "
                f"without {option} (the run keeps its own options), or start a new run without --ckpt_path "
                f"to train with {value}"
            )
        for key in RESUME_BOOKKEEPING:
            merged[key] = section.get(key)
        self.config.fit = merged

    @staticmethod
    def parse_run_config(parser: Any, path: Path) -> Any:
        """A run's config file as the `fit` options it holds."""
        try:
            return parser.parse_args(["fit", "--config", str(path)]).fit
        except ArgumentError as err:
            raise ZooError(
                f"run configuration {str(path)!r} cannot be read ({str(err).splitlines()[0]}); restore the "
                "file, or start a new run without --ckpt_path"
            ) from None

    def instantiate_classes(self) -> None:
        """LightningCLI's, after giving a classifier the datamodule's labels (`link_labels`), and
        with the datamodule's config kept for the checkpoints (`record_data`)."""
        self.link_labels()
        super().instantiate_classes()
        self.record_data()

    def record_data(self) -> None:
        """A training run's datamodule keeps its config (class path and arguments) as its
        hyperparameters, which Lightning saves in every checkpoint (`datamodule_hyper_parameters`):
        a network of one's own reads its raw inputs and its data from there. Only plain values, so
        the checkpoint still loads with `weights_only=True`; a datamodule that saves its own
        hyperparameters keeps them."""
        data = self.config[self.subcommand].get("data") if self.subcommand == "fit" else None
        if data is None or self.datamodule is None or self.datamodule.hparams:
            return
        config = data.clone().as_dict()
        arguments = {"_class_path": config["class_path"], **(config.get("init_args") or {})}
        if checks.is_plain(arguments):
            self.datamodule.save_hyperparameters(arguments, logger=False)

    def link_labels(self) -> None:
        """A classifier built without labels of its own takes the datamodule's (an image folder's
        class names), and its network as many outputs, when its network takes `num_classes`;
        otherwise `check_compatible` refuses a mismatch. Done here rather than by LightningCLI's
        `link_arguments`, which would take --model.labels off the command line, where a user may
        still set them. A network of one's own (`--model.net '{"class_path": ...}'`) takes the
        data's labels likewise. The labels go into the run's config.yaml."""
        subcommand = self.config.get("subcommand")
        section = self.config[subcommand] if subcommand else self.config
        model, data = section.get("model"), section.get("data")
        init = model.get("init_args") if model is not None else None
        if init is None or data is None or init.get("labels") is not None:
            return
        net = init.get("net")
        if isinstance(net, str):
            if net not in MODELS:
                return
            card = MODELS.get(net)
            if not issubclass(card.task, ClassificationTask) or not takes_num_classes(card.net):
                return
            own = list(card_labels(card))
        elif not is_classifier(model.get("class_path")):
            return
        else:
            own = []  # a network of one's own has no labels but the data's
        labels = getattr(instantiate_class((), data.clone().as_dict()), "labels", None)
        if labels is not None and list(labels) != own:
            init["labels"] = list(labels)

    def _parse_ckpt_path(self) -> None:
        """LightningCLI's reading of a checkpoint's hyperparameters into the run, from the checkpoint
        zoo has already read and checked (`check_checkpoint_model`) and under its task's class
        path, whoever saved it: `zoo fit` stores the class path, a Trainer of one's own does not."""
        subcommand = self.config.get("subcommand")
        if not subcommand or not self.checkpoint:
            return
        path = self.config[subcommand]["ckpt_path"]
        written = task_arguments(self.checkpoint, path)
        model = {"class_path": class_path(written.task), "init_args": written.arguments}
        self.config = self.parser.parse_object({subcommand: {"model": model}}, self.config)

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """Add zoo's callbacks (`zoo.training.zoo_callbacks`): its progress bar unless it is off
        or the user gave one, and no validation loop without validation data; its atomic
        checkpoint writer (`zoo.training.zoo_plugins`); and, unless the user chose a profiler,
        one that costs less per hook than Lightning's default (`zoo.training.NoProfiler`).

        They are added here, not to the parsed config, so a saved config.yaml stays free of them
        and still runs with `--trainer.enable_progress_bar false`."""
        section = self.config_init[self.subcommand] if self.subcommand else self.config_init
        trainer = section.trainer
        callbacks = zoo_callbacks(
            kwargs.get("callbacks", trainer.callbacks),
            kwargs.get("enable_progress_bar", trainer.enable_progress_bar),
            kwargs.get("log_every_n_steps", trainer.log_every_n_steps),
            kwargs.get("enable_checkpointing", trainer.enable_checkpointing),
        )
        kwargs["callbacks"] = callbacks
        kwargs["plugins"] = zoo_plugins(kwargs.get("plugins", trainer.plugins))
        kwargs["profiler"] = zoo_profiler(kwargs.get("profiler", trainer.profiler))
        if self.subcommand in EVALUATIONS:
            # An evaluation saves no checkpoints; the loaded checkpoint's ModelCheckpoint state
            # names the training run's folder, and Lightning's notice that it differs from this
            # run's says nothing a person evaluating can act on.
            warnings.filterwarnings("ignore", message="The dirpath has changed")
        self.start_from_shipped_weights()
        if raw_inputs(section):  # answered without the data, a Trainer's run or a run folder
            return super().instantiate_trainer(**kwargs | {"logger": False})
        self.check_data()  # before a run folder is claimed, and before reading the data ...
        self.load_data()
        self.check_data()  # ... and again with the labels read from its files
        self.check_split_present()
        if self.config_init[self.subcommand].get("pretrained") and self.subcommand in ("validate", "test"):
            self.scored = self.scored_rows()
        if self.subcommand:
            kwargs |= self.run_folder(section)
        trainer = super().instantiate_trainer(**kwargs)
        trainer.callbacks = last_after_best(trainer.callbacks)  # type: ignore[attr-defined]
        return trainer

    def _run_subcommand(self, subcommand: str) -> None:
        """LightningCLI's run of the subcommand; `zoo predict` with inputs answers them instead."""
        section = self.config_init[subcommand]
        if subcommand == "predict" and raw_inputs(section):
            answer_raw_inputs(self.model, section, self.trainer.strategy.root_device)
            return
        super()._run_subcommand(subcommand)

    def check_data(self) -> None:
        """The model fits the data: its input shape and its labels (`zoo.tasks.check_compatible`)."""
        if isinstance(self.model, Task):
            self.model.check_data(self.datamodule)

    def load_data(self) -> None:
        """Read (and so check) a zoo datamodule's data before a run folder is claimed: a bad
        file or an empty training split is refused with nothing written."""
        split_sizes = getattr(self.datamodule, "split_sizes", None)
        if callable(split_sizes):
            split_sizes()

    def check_split_present(self) -> None:
        """Evaluating an empty split (`--data.val_split 0`, say) would print no metrics at all:
        refuse it, naming the split, before a run folder is claimed."""
        split = EVALUATED_SPLIT.get(self.subcommand or "")
        if split is None or not lacks_split(self.datamodule, split):
            return
        raise ZooError(
            f"the data holds no {split} split to {self.subcommand} on; give it one "
            f"(e.g. --data.{split}_split 0.1) or run a command on a split the data has"
        )

    def start_from_shipped_weights(self) -> None:
        """With `--pretrained true`, the model's network starts from zoo's shipped weights
        (hash-checked safetensors); said in one line with what they were trained on, except
        before answering one's own inputs, whose table stays alone on stdout."""
        subcommand = self.config.get("subcommand")
        if not subcommand or not self.config[subcommand].get("pretrained"):
            return
        name = getattr(self.model, "zoo_name", "")
        load_pretrained(self.model.get_submodule("net"), name)
        if raw_inputs(self.config[subcommand]):
            return
        card = weights_card(name)
        sizes = card["data"]["split_sizes"]
        say(
            f"shipped {name} weights, trained on {card['data']['datamodule']} {sizes['train']:,}/{sizes['val']:,}/"
            f"{sizes['test']:,} (train/val/test); their card: {headline(card)}"
        )

    def scored_rows(self) -> str:
        """Which rows an evaluation of the shipped weights scores, and how many of them those weights
        trained on (rebuilt from their card's split of the same data files): a figure on rows a
        model trained on is not a test of it, and the line of figures says so."""
        split = EVALUATED_SPLIT[self.subcommand or ""]
        rows = getattr(self.datamodule, "splits", {}).get(split)
        name = getattr(self.model, "zoo_name", "")
        if rows is None:
            return ""
        count = len(rows[-1])
        what = f"{count:,} {getattr(self.datamodule, 'zoo_name', 'data')} {split} row{'s' if count != 1 else ''}"
        data = self.config[self.subcommand].get("data")
        data_dir = data.get("init_args", {}).get("data_dir") if data else None
        trained = card_datamodule(name, data_dir)
        if type(trained) is not type(self.datamodule):
            return f"{what} (not the data these weights trained on: not checked for rows they saw)"
        trained.setup()
        seen = rows_seen(trained.splits["train"], rows)
        if not seen:
            return f"{what}, none seen in training by these weights"
        how_many = "all" if seen == count else f"{seen:,} of them"
        return f"{what}, {how_many} seen in training by these weights (a measure of fit, not a test)"

    def run_folder(self, section: Any) -> dict[str, Any]:
        """Claim this run's folder and check it (and the checkpoint folder) can be written;
        the Trainer arguments that send the default logger, or with `--trainer.logger false`
        the checkpoints and config.yaml, there. A logger of the user's own decides for itself."""
        trainer = section.trainer
        logger = trainer.get("logger")
        if trainer.get("fast_dev_run") or not (logger is None or isinstance(logger, bool)):
            return {}
        root = Path(trainer.get("default_root_dir") or os.getcwd())
        fitting = self.subcommand == "fit"
        ckpt_path = section.get("ckpt_path")
        resumed = saved_checkpoint_dir(self.checkpoint, ckpt_path) if fitting and ckpt_path else None
        run_dir = resumed or new_run_dir(root / (TRAIN_RUNS if fitting else EVAL_RUNS))
        if fitting and first_process():
            self.run_hold = hold_run_dir(run_dir)
        if resumed:
            # A resumed run keeps the run's config.yaml and saves its own beside it.
            resumes = 1
            while (run_dir / f"config_resume_{resumes}.yaml").exists():
                resumes += 1
            self.save_config_kwargs["config_filename"] = f"config_resume_{resumes}.yaml"
        check_writable(run_dir)
        if fitting and trainer.get("enable_checkpointing") is not False:
            checkpoint = section.get("checkpoint")
            dirpath = getattr(checkpoint, "dirpath", None) or run_dir / "checkpoints"
            check_writable(dirpath, "checkpoint folder")
            if resumed:
                # Lightning's notice that the folder holds checkpoints already: they are this run's.
                warnings.filterwarnings("ignore", message=re.escape(f"Checkpoint directory {dirpath} exists"))
        self.run_dir = run_dir
        if logger is False:
            return {"default_root_dir": str(run_dir)}
        return {"logger": default_logger(run_dir)}

    def release_run_dir(self) -> None:
        """Let the run folder go (`zoo.runs.hold_run_dir`), once the command is over."""
        if self.run_hold is not None:
            os.close(self.run_hold)
            self.run_hold = None

    def _check(self) -> None:
        say(describe(self.model))

    def before_fit(self) -> None:
        self._check()
        seed = self.config[self.subcommand].get("seed_everything")
        say(f"seed {seed}; data seed {getattr(self.datamodule, 'seed', 'n/a')}")
        strategy = self.trainer.strategy
        processes = self.trainer.world_size
        say(f"{processes} process{'es' if processes > 1 else ''} on {strategy.root_device.type} "
            f"({type(strategy).__name__})")

    def before_validate(self) -> None:
        self._check()

    def before_test(self) -> None:
        self._check()
        attach_test_callbacks(self.trainer, self.normalized_confusion())

    def before_predict(self) -> None:
        self._check()

    def after_fit(self) -> None:
        trainer = self.trainer
        if trainer.interrupted:
            return
        metrics, best = final_test(trainer, self.model, self.datamodule, self.normalized_confusion())
        tested = "the best checkpoint" if best else "the final weights"
        say(f"test of {tested}: {metrics_line(metrics)}" if metrics else "no test split in the data: nothing tested")
        if best:
            say(f"best checkpoint: {best}")
        self.say_confusion_matrix()
        if trainer.logger is not None and trainer.logger.log_dir:
            log_dir = trainer.logger.log_dir
            say(f"logs: {log_dir} (tensorboard --logdir {log_dir})")

    def say_eval_folder(self) -> None:
        if self.run_dir is not None:
            say(f"results in {self.run_dir}")
        self.say_confusion_matrix()

    def say_confusion_matrix(self) -> None:
        for callback in self.trainer.callbacks:  # type: ignore[attr-defined]
            if isinstance(callback, ConfusionMatrixCallback) and callback.path is not None:
                say(f"confusion matrix: {callback.path}")
            if isinstance(callback, RecallCeilingCallback):
                for line in callback.lines:
                    say(line)

    def after_validate(self) -> None:
        on = f" on {self.scored}" if self.scored else ""
        say(f"validation{on}: {metrics_line(dict(self.trainer.callback_metrics))}")
        self.say_eval_folder()

    def after_test(self) -> None:
        on = f" on {self.scored}" if self.scored else ""
        say(f"test{on}: {metrics_line(dict(self.trainer.callback_metrics))}")
        self.say_eval_folder()

    def after_predict(self) -> None:
        predictions = self.trainer.predict_loop.predictions
        if not predictions or not isinstance(predictions[0], torch.Tensor):
            return
        stacked = torch.cat(predictions)
        root = Path(self.trainer.log_dir or self.trainer.default_root_dir)
        root.mkdir(parents=True, exist_ok=True)
        path = root / "predictions.pt"
        # Through a Python file: saved to a path, a full disk is a RuntimeError naming no file.
        with atomic_write(path) as temporary, open(temporary, "wb") as file:
            torch.save(stacked, file)
        say(f"{len(stacked)} predictions of shape {tuple(stacked.shape[1:])} saved to {path}")


def is_classifier(task_path: Any) -> bool:
    """Whether a task class path from the command line (already imported by the parser) names a
    classifier."""
    task = pydoc.locate(task_path) if isinstance(task_path, str) else None
    return isinstance(task, type) and issubclass(task, ClassificationTask)


def without_model_names(args: list[str]) -> list[str]:
    """A command line less its `--model NAME` options (a registry name, not a class path or a
    config)."""
    kept: list[str] = []
    for arg in args:
        if kept and kept[-1] == "--model" and is_name(arg):
            kept.pop()
        elif not (arg.startswith("--model=") and is_name(arg.removeprefix("--model="))):
            kept.append(arg)
    return kept


def first_process() -> bool:
    """Whether this is the first process of a run (global rank 0, as Lightning reads it from the
    environment before the Trainer starts): the one that holds the run folder; the other ranks
    of a DDP run start later, in the same folder, and hold nothing."""
    return getattr(rank_zero_only, "rank", 0) == 0 and LightningEnvironment().node_rank() == 0


def on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM outside a Trainer's run stops zoo as Lightning stops a run (SIGTERMException).
    While a Trainer runs, Lightning's own handler is installed and calls this one after it has
    noted the signal: there the stopping is Lightning's, at the end of the step."""
    if signal.getsignal(signal.SIGTERM) is on_sigterm:
        raise SIGTERMException


def stopped(cli: ZooCLI | None, how: str, code: int) -> SystemExit:
    """Say in one line which checkpoints a stopped run keeps; the exit to raise."""
    trainer = getattr(cli, "trainer", None)
    kept = kept_checkpoints(trainer) if trainer is not None else []
    print(f"zoo: {how}; saved: {', '.join(kept) or 'no checkpoint yet'}", file=sys.stderr, flush=True)
    return SystemExit(code)


def run(args: list[str]) -> None:
    """Run one Lightning command with the run configuration of its registered model, with
    Lightning's informational lines off: zoo prints the seed, the model and the results.

    Ctrl+C and SIGTERM end it keeping the checkpoints saved so far (exit 130 and 143); a file
    it cannot write (a full disk, its run folder deleted) ends it in one line (`write_failure`)."""
    quiet_lightning()
    started: list[ZooCLI] = []
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if main_thread else None
    try:
        ZooCLI(
            run_config(),
            started=started,
            model_class=LightningModule,
            datamodule_class=LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=args,
            auto_configure_optimizers=False,
            parser_kwargs={"exit_on_error": False, "predict": {"description": PREDICT_DESCRIPTION}},
        )
    except SIGTERMException:
        raise stopped(started[-1] if started else None, "terminated (SIGTERM)", 143) from None
    except SystemExit as stop:
        # Lightning answers Ctrl+C by saving nothing more, tearing down and exiting 1: say what
        # the run keeps and exit as an interrupted program does. Asked here, after the fact,
        # rather than by a callback, which would cost every training step a call to each hook.
        cli = started[-1] if started else None
        trainer = getattr(cli, "trainer", None)
        if stop.code == 1 and trainer is not None and trainer.interrupted:
            raise stopped(cli, "interrupted", 130) from None
        raise
    except Exception as err:
        failure = write_failure(err, started[-1].run_dir if started else None)
        if failure is None:
            raise
        raise failure from None
    finally:
        for cli in started:
            cli.release_run_dir()
        if main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            # Left to the interpreter's exit, gloo's threads now and then abort a finished node
            # ("terminate called without an active exception", exit -6).
            torch.distributed.destroy_process_group()
