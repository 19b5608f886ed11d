"""Tasks: what training a network means for each kind of problem, written once.

A task is the LightningModule that `zoo.build` returns. It holds the plain network as `net`
(a module, or a registered model's name to build it from), and owns the loss, the metrics, the optimiser, the schedule
and the logging, so a network's state dict is the same in zoo and in a hand-written loop. It also
turns the network's outputs into answer rows (`answer`), reading raw inputs as the model's card
says (`zoo.inputs`). Every hyperparameter is a plain value, so a checkpoint loads with
`weights_only=True`.
"""

from __future__ import annotations

import inspect
import math
import random
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

import lightning.pytorch as pl
import torch
import torchmetrics
from lightning.pytorch.callbacks import EarlyStopping
from lightning.pytorch.trainer.states import TrainerFn
from torch import Tensor, nn

from zoo import checks
from zoo.answers import Row, check_finite
from zoo.building import build_net
from zoo.errors import ZooError
from zoo.inputs import Inputs
from zoo.metrics import BitsPerCharacter, class_metrics
from zoo.registry import MODELS, ModelCard
from zoo.text import CharVocab

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}
SCHEDULERS = ("onecycle", "cosine")
EVAL_STAGES = ("val", "test")


RANDOM_STATE = "zoo_random_state"


def random_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state: Mapping[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def shapes_fit(expected: tuple[int | None, ...], actual: tuple[int | None, ...]) -> bool:
    """Equal shapes, where None on either side matches any size (variable-length sequences)."""
    return len(expected) == len(actual) and all(
        e is None or a is None or e == a for e, a in zip(expected, actual, strict=True)
    )


def check_compatible(model: pl.LightningModule, datamodule: pl.LightningDataModule | None) -> None:
    """Refuse a model that does not fit the data (input shape, classes) before anything runs."""
    name = getattr(model, "zoo_name", "")
    data_shape = getattr(datamodule, "input_shape", None)
    if not name or data_shape is None:
        return
    card = MODELS.get(name)
    data_name = getattr(datamodule, "zoo_name", type(datamodule).__name__)
    if not shapes_fit(card.input_shape, tuple(data_shape)):
        raise ZooError(
            f"model {name!r} expects inputs of shape {fmt_shape(card.input_shape)} but datamodule "
            f"{data_name!r} gives {fmt_shape(tuple(data_shape))}; use --data {card.datamodule} "
            "or a model made for this data"
        )
    data_labels = getattr(datamodule, "labels", None)
    model_labels = getattr(model, "labels", None)
    if data_labels is None or model_labels is None or list(data_labels) == list(model_labels):
        return
    raise ZooError(
        f"the data's labels differ from those of model {name!r} ({label_difference(data_labels, model_labels)}); "
        "build the model with --model.labels set to the data's, or use the data the model was made for"
    )


def label_difference(data_labels: Sequence[str], model_labels: Sequence[str]) -> str:
    """Which labels only one side has, or, when both have the same ones, that their order differs."""
    only_data = [label for label in data_labels if label not in model_labels]
    only_model = [label for label in model_labels if label not in data_labels]
    parts = [f"only the data has {short(only_data)}"] if only_data else []
    parts += [f"only the model has {short(only_model)}"] if only_model else []
    if not parts:
        order = f"data {short(data_labels)}, model {short(model_labels)}"
        return f"the same {len(data_labels)} labels in another order: {order}"
    return " and ".join(parts)


def short(labels: Sequence[str], shown: int = 5) -> str:
    items = [repr(label) for label in labels[:shown]]
    return ", ".join(items) + (", ..." if len(labels) > shown else "")


def fmt_shape(shape: tuple[int | None, ...]) -> str:
    return "x".join("N" if s is None else str(s) for s in shape)


def network_config(value: Any) -> dict[str, Any] | None:
    """A network's `{class_path, init_args}` as LightningCLI records it (its `dict_kwargs` among the
    init_args), as a plain dict; None for anything else (a network built in Python records none)."""
    if not isinstance(value, Mapping) or not isinstance(value.get("class_path"), str):
        return None
    init_args = {**(value.get("init_args") or {}), **(value.get("dict_kwargs") or {})}
    return {"class_path": value["class_path"], "init_args": dict(init_args)}


def card_labels(card: ModelCard) -> tuple[str, ...]:
    """A registered classifier's labels: its card's, else "0".."C-1" for its C outputs."""
    return card.labels or tuple(str(i) for i in range(int(card.output_shape[-1] or 0)))


def takes_num_classes(net: type) -> bool:
    """True for a network whose output layer is sized by a `num_classes` argument."""
    return "num_classes" in inspect.signature(net).parameters


class Task(pl.LightningModule):
    """Shared training logic. Subclasses choose the loss, the metrics and what predict returns.

    Batches are tuples whose last tensor is the target and whose others are the network's
    inputs; prediction batches hold the inputs alone.
    """

    answers = "the network's output values"
    """What an answer row holds (`answer`), for the docs and `zoo list`."""

    def __init__(
        self,
        net: str | nn.Module,
        net_args: dict[str, Any] | None = None,
        optimizer: str = "adam",
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        scheduler: str | None = None,
        stop_below: float | None = None,
        compile: bool = False,
        inputs: Inputs | None = None,
    ) -> None:
        """`net` is a network, or the name of a registered model whose network is built with
        `net_args`; `inputs` says what raw inputs an unregistered network answers (a registered
        one's card says it). A network LightningCLI built from its `{class_path, init_args}`
        keeps that config as the `net` hyperparameter, so its checkpoint rebuilds it."""
        super().__init__()
        if optimizer not in OPTIMIZERS:
            raise ZooError(
                f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}"
            )
        if scheduler is not None and scheduler not in SCHEDULERS:
            raise ZooError(
                f"unknown scheduler {scheduler!r}; choose one of: {', '.join(SCHEDULERS)} or none"
            )
        if not lr > 0:
            raise ZooError(f"lr must be positive, got {lr}; pass e.g. --model.lr 0.01")
        if momentum < 0 or weight_decay < 0:
            raise ZooError(
                f"momentum and weight_decay must be 0 or more, got {momentum} and {weight_decay}"
            )
        if isinstance(net, nn.Module):
            self.save_hyperparameters(ignore=["net", "inputs"])  # the network's weights are in the state dict
            if "_instantiator" in self.hparams:  # LightningCLI built it, and gives its config as `net`
                self.save_hyperparameters(ignore=["inputs"])
            self.hparams["net"] = network_config(self.hparams.get("net"))
            self.net = net
        else:
            self.save_hyperparameters(ignore=["inputs"])
            self.net = build_net(net, **self.net_args())
        self.own_inputs = inputs
        self.checked_data: int | None = None
        self.metrics = nn.ModuleDict(
            {
                stage: torchmetrics.MetricCollection(dict(self.make_metrics()), prefix=f"{stage}/")
                for stage in EVAL_STAGES
            }
        )

    @property
    def zoo_name(self) -> str:
        """The registered model's name; empty for a network of one's own."""
        net = self.hparams["net"]
        return net if isinstance(net, str) else ""

    @property
    def display_name(self) -> str:
        """The registered model's name, else its network's class name."""
        return self.zoo_name or type(self.net).__name__

    @property
    def raw_inputs(self) -> Inputs:
        """What raw inputs this model answers: its card's, or those it was given."""
        inputs = self.own_inputs or (MODELS.get(self.zoo_name).inputs if self.zoo_name else None)
        if inputs is None:
            raise ZooError(
                f"model {self.display_name} does not say what raw inputs it takes; "
                "give it inputs=... (see zoo.inputs), or predict over a datamodule with --data"
            )
        return inputs

    def answer(self, raw: Sequence[Any], k: int = 3) -> list[Row]:
        """An answer row for each raw input (a folder of images: each of its files), read as
        `raw_inputs` says: the likeliest `k` labels of a classifier (of two, a binary one's), a
        value. A model that writes text takes how to write it too (`LanguageModelTask.answer`)."""
        inputs = self.raw_inputs
        items = inputs.expand(self.given(raw, k))
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                return self.answer_rows(((batch, self.prediction(self(*(t.to(self.device) for t in tensors))).cpu())
                                         for batch, tensors in inputs.batches(items)), k)
        finally:
            self.train(was_training)

    def given(self, raw: Sequence[Any], k: int) -> Sequence[Any]:
        """The raw inputs to answer, refused in one line when there are none or `k` is not a count."""
        if not raw:
            raise ZooError("no inputs given; pass at least one input after the options")
        checks.whole(k, "--top (labels to show)", 1)
        return raw

    def answer_rows(self, answered: Iterable[tuple[Sequence[Any], Tensor]], k: int) -> list[Row]:
        """The rows of batches of raw inputs and their answers (`prediction`s), by whatever ran
        the network: this model, or its exported file (`zoo serve --runtime onnxruntime`); an
        answer that is not a finite number is refused."""
        rows: list[Row] = []
        for items, answers in answered:
            for item, row in zip(items, answers, strict=True):
                check_finite(row, str(item), self.display_name)
            rows += self.rows([str(item) for item in items], answers, k)
        return rows

    def rows(self, items: Sequence[str], predictions: Tensor, k: int) -> list[Row]:
        """Answer rows from a batch of `prediction`s: each value, space-separated."""
        return [Row(item, " ".join(f"{v:.6g}" for v in p.reshape(-1).tolist()))
                for item, p in zip(items, predictions, strict=True)]

    def net_args(self) -> dict[str, Any]:
        """The network's constructor arguments: `net_args` as given."""
        return dict(self.hparams["net_args"] or {})

    def forward(self, *inputs: Tensor) -> Tensor:
        output: Tensor = self.net(*inputs)
        return output

    def make_metrics(self) -> Mapping[str, torchmetrics.Metric]:
        raise NotImplementedError

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def prediction(self, output: Tensor) -> Tensor:
        """What predict_step returns for a batch of raw outputs."""
        return output

    def metric_pair(self, output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """The (prediction, target) pair the metrics compare."""
        return output, target

    def split(self, batch: Sequence[Tensor]) -> tuple[tuple[Tensor, ...], Tensor]:
        return tuple(batch[:-1]), batch[-1]

    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        inputs, target = self.split(batch)
        loss = self.loss(self(*inputs), target)
        if self._logs_this_step(batch_idx):
            self.log("train/loss", loss, prog_bar=True)
        return loss

    def _logs_this_step(self, batch_idx: int) -> bool:
        """Log the training loss only on the steps the Trainer writes to its logger (every
        `log_every_n_steps`) and on each epoch's last batch (for the progress bar and early
        stopping): a `self.log` call costs about 0.4 ms, a fifth of an MLP step at batch 64."""
        trainer = self.trainer
        every = max(getattr(trainer, "log_every_n_steps", 50), 1)
        return batch_idx + 1 == trainer.num_training_batches or (self.global_step + 1) % every == 0

    def _evaluate(self, batch: tuple[Tensor, ...], stage: str) -> dict[str, Tensor]:
        """The loss, with the outputs and targets it came from (test callbacks such as the
        confusion matrix read them rather than running the network again)."""
        inputs, target = self.split(batch)
        output = self(*inputs)
        loss = self.loss(output, target)
        metrics = cast(torchmetrics.MetricCollection, self.metrics[stage])
        metrics.update(*self.metric_pair(output, target))
        batch_size = len(target)
        self.log(f"{stage}/loss", loss, prog_bar=True, batch_size=batch_size, sync_dist=True)
        self.log_dict(metrics, prog_bar=True, batch_size=batch_size)
        return {"loss": loss, "output": output.detach(), "target": target}

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> dict[str, Tensor]:
        return self._evaluate(batch, "val")

    def test_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> dict[str, Tensor]:
        return self._evaluate(batch, "test")

    def predict_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        return self.prediction(self(*batch))

    def check_data(self, datamodule: pl.LightningDataModule | None) -> None:
        """`check_compatible`, once per datamodule whose labels are known: `zoo fit` and
        `zoo.training.fit` check before a run folder is claimed, and `setup` checks a Trainer of the
        user's own (by then a datamodule that reads its labels from its files has read them)."""
        if datamodule is not None and id(datamodule) != self.checked_data:
            check_compatible(self, datamodule)
            if getattr(datamodule, "labels", None) is not None or not hasattr(datamodule, "labels"):
                self.checked_data = id(datamodule)  # else checked again once the data is read

    def setup(self, stage: str) -> None:
        self.check_data(getattr(self.trainer, "datamodule", None) if self._trainer else None)
        self.use_channels_last()
        if self.hparams["compile"] and not hasattr(self.forward, "_torchdynamo_orig_callable"):
            self.forward = torch.compile(self.forward)  # type: ignore[method-assign]

    def use_channels_last(self) -> None:
        """Store convolution weights channels-last (a no-op for other layers): measured here at
        25-30 % less CPU time per training step for the MNIST CNNs, with the same results."""
        self.to(memory_format=torch.channels_last)

    def configure_optimizers(self) -> Any:
        h = self.hparams
        kwargs: dict[str, Any] = {"lr": h["lr"], "weight_decay": h["weight_decay"]}
        if h["optimizer"] == "sgd":
            kwargs["momentum"] = h["momentum"]
        optimizer = OPTIMIZERS[h["optimizer"]](self.parameters(), **kwargs)
        if h["scheduler"] is None:
            return optimizer
        estimated = self.trainer.estimated_stepping_batches
        if not math.isfinite(estimated):
            raise ZooError(
                f"the {h['scheduler']!r} schedule needs a run of known length, but this one has no end; "
                "set --trainer.max_epochs N or --trainer.max_steps N, or pass --model.scheduler null"
            )
        steps = int(estimated)
        scheduler: torch.optim.lr_scheduler.LRScheduler
        if h["scheduler"] == "onecycle":
            scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=h["lr"], total_steps=steps)
        else:
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Name the model in every checkpoint, and keep torch's and Python's random generators
        there, so dropout and other random layers continue on resume as in the uninterrupted
        run (Lightning stores the model, optimiser and loops; the data order is the
        datamodule's own state). Kept here, not in a callback: a callback costs every training
        step a call to each of its hooks."""
        checkpoint["zoo_model"] = self.zoo_name
        checkpoint[RANDOM_STATE] = random_state()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore the random generators when training resumes; loading a checkpoint to
        evaluate or predict leaves the caller's generators alone."""
        if self._trainer is None or self.trainer.state.fn != TrainerFn.FITTING:
            return
        self.check_schedule_length(checkpoint)
        if RANDOM_STATE in checkpoint:
            restore_random_state(checkpoint[RANDOM_STATE])

    def check_schedule_length(self, checkpoint: Mapping[str, Any]) -> None:
        """A resumed run continues its schedule, planned for the length the run started with;
        a run made longer (or shorter) would step a one-cycle schedule past its end, or
        restart a cosine one: refuse it before any step."""
        schedules = checkpoint.get("lr_schedulers") or [{}]
        planned = schedules[0].get("total_steps", schedules[0].get("T_max"))
        if planned is None:
            return
        steps = self.trainer.estimated_stepping_batches
        if steps != planned:
            raise ZooError(
                f"this checkpoint's {self.hparams['scheduler']} schedule was planned for {planned} steps, but "
                f"resuming it as given runs {steps}; resume with the run's own --trainer.max_epochs and batch "
                "limits (see its config.yaml), or train longer in a new run"
            )

    def configure_callbacks(self) -> list[pl.Callback]:
        """With `stop_below`, end training once an epoch's last training loss is under it.

        The tutorials' `if loss < 1: break`. Patience is unlimited: only the threshold (or a
        non-finite loss) stops training, never a lack of improvement. Not strict: an epoch cut
        short by `max_steps` may end before its last batch logged the loss. Only while fitting,
        so a test after the fit does not attach it a second time.
        """
        if self.hparams["stop_below"] is None or self.trainer.state.fn != TrainerFn.FITTING:
            return []
        return [
            EarlyStopping(
                monitor="train/loss",
                mode="min",
                stopping_threshold=self.hparams["stop_below"],
                patience=sys.maxsize,
                check_on_train_epoch_end=True,
                strict=False,
            )
        ]


class ClassificationTask(Task):
    """Cross-entropy over class logits; accuracy, balanced accuracy and macro F1; predict returns
    class probabilities.

    Outputs may carry extra leading dimensions (one prediction per sequence position): logits
    of shape (..., C) are scored against targets of shape (...). `labels` names the classes
    (default: the model card's, else "0".."C-1"); a network that takes `num_classes` is built
    with as many outputs as there are labels. `label_smoothing` softens the training targets
    only: validation and test losses stay the plain cross-entropy, comparable across recipes;
    so do `logit_adjust` and `class_weight`, the remedies for imbalanced classes (see
    `fit_class_prior`).
    """

    def __init__(
        self,
        labels: Sequence[str] | None = None,
        label_smoothing: float = 0.0,
        logit_adjust: float = 0.0,
        class_weight: float = 0.0,
        **task: Any,
    ) -> None:
        net = task.get("net")
        if isinstance(net, nn.Module):
            if labels is None:
                raise ZooError(f"a {type(self).__name__} of network {type(net).__name__} needs labels naming "
                               "its classes; pass labels=[...], one per output, e.g. [str(i) for i in range(10)] "
                               "(on the command line --model.labels, or --data NAME, whose labels it takes)")
            self.labels = tuple(labels)
        else:
            card = MODELS.get(str(net))
            self.labels = tuple(labels) if labels is not None else card_labels(card)
            outputs = card.output_shape[-1]
            if not takes_num_classes(card.net) and outputs is not None and len(self.labels) != outputs:
                raise ZooError(
                    f"model {card.name!r} has {outputs} outputs fixed by its network, so it cannot be built with "
                    f"{len(self.labels)} labels; pass {outputs} labels, or a model whose network takes num_classes"
                )
        if len(self.labels) < 2:
            raise ZooError(f"a classifier needs at least 2 labels, got {list(self.labels)}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ZooError(f"label_smoothing must be in [0, 1), got {label_smoothing}; pass e.g. 0.1")
        if logit_adjust < 0 or class_weight < 0:
            raise ZooError(
                f"logit_adjust and class_weight must be 0 or more, got {logit_adjust} and {class_weight}; "
                "pass e.g. --model.logit_adjust 1"
            )
        super().__init__(**task)
        self.hparams["labels"] = list(self.labels)
        self.register_buffer("log_prior", torch.zeros(self.num_classes), persistent=False)
        self.register_buffer("class_weights", torch.ones(self.num_classes), persistent=False)

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def net_args(self) -> dict[str, Any]:
        args = super().net_args()
        if self.hparams["net"] and takes_num_classes(MODELS.get(self.hparams["net"]).net):
            args.setdefault("num_classes", len(self.labels))
        return args

    answers = "the likeliest labels with their probabilities (one label per position for sequences)"
    log_prior: Tensor
    class_weights: Tensor
    per_class_metrics = True
    """Report balanced accuracy and macro F1 beside accuracy (see `zoo.metrics.class_metrics`)."""

    def make_metrics(self) -> Mapping[str, torchmetrics.Metric]:
        return class_metrics(self.num_classes, self.per_class_metrics)

    def metric_pair(self, output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """Class scores are the output's last dimension; an output shaped otherwise (classes in
        dimension 1, as a segmentation network gives them) would be scored over the wrong axis."""
        if output.shape[-1] != self.num_classes or output.shape[:-1] != target.shape:
            raise ZooError(
                f"model {self.display_name} gave outputs of shape {tuple(output.shape)} for "
                f"targets of shape {tuple(target.shape)}, but a classifier of {self.num_classes} classes needs "
                f"(..., {self.num_classes}) scores for (...) targets; put the class scores in the last dimension"
            )
        return output.reshape(-1, output.shape[-1]), target.reshape(-1)

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        logits, target = self.metric_pair(output, target)
        if not self.training:
            return nn.functional.cross_entropy(logits, target)
        h = self.hparams
        return nn.functional.cross_entropy(
            logits + h["logit_adjust"] * self.log_prior,
            target,
            weight=self.class_weights if h["class_weight"] else None,
            label_smoothing=h["label_smoothing"],
        )

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if stage == "fit" and (self.hparams["logit_adjust"] or self.hparams["class_weight"]):
            self.fit_class_prior(self.trainer.datamodule)  # type: ignore[attr-defined]

    def fit_class_prior(self, datamodule: pl.LightningDataModule | None) -> None:
        """For training against class imbalance, from the training split's class counts:
        `logit_adjust` tau adds tau * log(prior) to the logits in the training loss (Menon et al.
        2021, "Long-tail learning via logit adjustment"), so the network's own logits learn to
        favour rare classes; `class_weight` p weighs each class's loss by count^-p (1: inverse
        frequency), scaled to average 1 over the training rows. Evaluation uses the plain loss."""
        train = getattr(datamodule, "splits", {}).get("train")
        if train is None:
            raise ZooError(
                "logit_adjust and class_weight need the training split's class counts, which this data "
                "does not hold in memory; use a zoo datamodule, or leave both at 0"
            )
        counts = torch.bincount(train[-1].flatten().cpu(), minlength=self.num_classes).clamp(min=1).double()
        prior = counts / counts.sum()
        weights = counts ** -self.hparams["class_weight"]
        self.log_prior.copy_(prior.log())
        self.class_weights.copy_(weights / (prior * weights).sum())

    def prediction(self, output: Tensor) -> Tensor:
        return output.softmax(dim=-1)

    def rows(self, items: Sequence[str], predictions: Tensor, k: int) -> list[Row]:
        """Each input's likeliest `k` labels (a prediction per sequence position: the labels
        written, one per position)."""
        if predictions.dim() > 2:
            return [Row(item, "".join(self.labels[i] for i in p.argmax(dim=-1).reshape(-1).tolist()))
                    for item, p in zip(items, predictions, strict=True)]
        top = predictions.topk(min(k, self.num_classes), dim=-1)
        rows = []
        for item, ids, probs in zip(items, top.indices.tolist(), top.values.tolist(), strict=True):
            labels = [(self.labels[i], p) for i, p in zip(ids, probs, strict=True)]
            rows.append(Row(item, labels[0][0], labels[0][1], labels))
        return rows


MAX_SAMPLE_LENGTH = 10_000
"""The most characters `sample` writes in one call (about five pages)."""
MIN_TEMPERATURE = 0.01
"""Below this, sampling is the argmax in all but name (a score gap of 0.5 becomes a factor e^50);
far below it (1e-40), scores divided by the temperature overflow float32 and sampling breaks."""


class LanguageModelTask(ClassificationTask):
    """Next-token classification over a vocabulary (the labels, one character each); also
    reports bits per character and writes text by sampling from the network's `step`."""

    answers = "the prompt's continuation, drawn character by character"
    per_class_metrics = False
    """A vocabulary's rare characters are no group to serve: accuracy and bits per character."""

    def make_metrics(self) -> Mapping[str, torchmetrics.Metric]:
        return {**super().make_metrics(), "bpc": BitsPerCharacter()}

    def answer(self, raw: Sequence[Any], k: int = 3, length: int = 200, temperature: float = 0.8,
               seed: int | None = None) -> list[Row]:
        """Each prompt continued by `length` characters (see `sample`)."""
        return [Row(str(prompt), self.sample(str(prompt), length, temperature, seed)) for prompt in self.given(raw, k)]

    def sample(
        self,
        prompt: str = "\n",
        length: int = 300,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> str:
        """`length` characters written after `prompt`, each drawn from softmax(logits / T).

        Lower temperatures write more probable, more repetitive text. The same seed gives the same
        text; no seed draws a fresh one.
        """
        return "".join(self.write(prompt, length, temperature, seed))

    def write(self, prompt: str, length: int, temperature: float, seed: int | None = None) -> Iterator[str]:
        """`sample`'s characters one at a time, as they are drawn (`zoo serve` streams them); the
        prompt, length, temperature and seed are checked before the first is drawn."""
        if not checks.text(prompt, "the prompt", "pass e.g. 'ROMEO:'"):
            raise ZooError("the prompt is empty; give at least one character, e.g. 'ROMEO:'")
        checks.whole(length, "length (characters to write)", 0, MAX_SAMPLE_LENGTH)
        checks.number(temperature, "temperature", MIN_TEMPERATURE, example="0.8")
        if seed is not None:
            checks.seed(seed, "the sampling seed (--seed)")
        vocab = CharVocab("".join(self.labels))
        ids = vocab.encode(prompt, what="prompt").to(self.device)
        return self.draw(prompt, ids, length, temperature, seed)

    def draw(self, prompt: str, ids: Tensor, length: int, temperature: float, seed: int | None) -> Iterator[str]:
        """The characters after `prompt` (as `ids`), drawn lazily (a generator, so `write` checks first)."""
        generator = torch.Generator(device=self.device)
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        step = cast(Any, self.net).step
        with torch.no_grad():
            logits, hidden = step(ids.unsqueeze(0))
            for _ in range(length):
                if not torch.isfinite(logits[0, -1]).all():
                    raise ZooError(f"model {self.zoo_name} gave non-finite scores after {prompt!r}; "
                                   "its weights are broken: retrain it or load another checkpoint")
                probs = (logits[0, -1] / temperature).softmax(dim=-1)
                next_id = torch.multinomial(probs, 1, generator=generator)
                yield self.labels[int(next_id)]
                logits, hidden = step(next_id.view(1, 1), hidden)


REDUCTIONS = ("mean", "sum")


class PointwiseLossTask(Task):
    """A loss comparing each output with a target of the same shape, averaged or summed.

    `reduction='sum'` is the tutorials' `size_average=False`: the gradient grows with the batch,
    so the same learning rate takes larger steps. Targets are cast to the output's dtype and
    shape, so (N,) and (N, 1) targets both work.
    """

    def __init__(self, reduction: str = "mean", **task: Any) -> None:
        if reduction not in REDUCTIONS:
            raise ZooError(
                f"unknown reduction {reduction!r}; choose one of: {', '.join(REDUCTIONS)}"
            )
        super().__init__(**task)

    def pointwise_loss(self, output: Tensor, target: Tensor, reduction: str) -> Tensor:
        raise NotImplementedError

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        target = target.to(output.dtype).view_as(output)
        return self.pointwise_loss(output, target, self.hparams["reduction"])




class RegressionTask(PointwiseLossTask):
    """Mean squared error on raw outputs; mean absolute error as the metric; predict returns
    the outputs themselves."""

    def make_metrics(self) -> dict[str, torchmetrics.Metric]:
        return {"mae": torchmetrics.MeanAbsoluteError()}

    def metric_pair(self, output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        return output, target.view_as(output)

    def pointwise_loss(self, output: Tensor, target: Tensor, reduction: str) -> Tensor:
        return nn.functional.mse_loss(output, target, reduction=reduction)


class BinaryTask(PointwiseLossTask):
    """Binary cross-entropy on probabilities: the model ends in a sigmoid, as the tutorials'
    models do before their `BCELoss`. Accuracy (threshold 0.5) and AUROC as metrics; predict
    returns P(class 1)."""

    answers = "class 0 or 1 with its probability; label 1's probability in the top-k is P(class 1)"

    def make_metrics(self) -> dict[str, torchmetrics.Metric]:
        return {
            "acc": torchmetrics.classification.BinaryAccuracy(),
            "auroc": torchmetrics.classification.BinaryAUROC(),
        }

    def metric_pair(self, output: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        return output.reshape(-1), target.reshape(-1).long()

    def rows(self, items: Sequence[str], predictions: Tensor, k: int) -> list[Row]:
        """Each input's class (1 from P(class 1) = 0.5 up) with that class's probability, then the
        `k` likelier of the two classes with theirs."""
        rows = []
        for item, p in zip(items, predictions.reshape(len(items), -1)[:, 0].tolist(), strict=True):
            top = sorted([("1", p), ("0", 1 - p)], key=lambda c: -c[1])
            rows.append(Row(item, top[0][0], top[0][1], top[:k]))
        return rows

    def pointwise_loss(self, output: Tensor, target: Tensor, reduction: str) -> Tensor:
        # CUDA's autocast refuses binary_cross_entropy on probabilities (bf16-mixed would
        # raise), so the loss leaves autocast and is computed in float32 on every device.
        with torch.autocast(output.device.type, enabled=False):
            return nn.functional.binary_cross_entropy(
                output.float(), target.float(), reduction=reduction
            )

