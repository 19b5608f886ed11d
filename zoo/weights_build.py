"""`zoo weights build`: train each model with its `pretrained` recipe (else its default one),
test it, and write its network's weights as safetensors with a card beside them."""

from __future__ import annotations

import datetime
import json
import platform
import time
from pathlib import Path
from typing import Any, cast

import lightning
import torch
from safetensors.torch import save
from torchmetrics.functional import confusion_matrix

from zoo.building import build
from zoo.callbacks import EpochMetrics, class_recall
from zoo.datamodules.base import TensorBatches, TensorDataModule, rows_seen
from zoo.errors import ZooError
from zoo.files import OVERWRITE, atomic_write
from zoo.notice import say
from zoo.pretrained import CARDS_FILE, cards, headline, sha256, weights_card, weights_dir
from zoo.registry import MODELS, recipe_for
from zoo.runs import check_writable
from zoo.tasks import ClassificationTask, LanguageModelTask
from zoo.training import Run, fit, run_datamodule

WEIGHTS_RECIPE = "pretrained"
METRICS_SUFFIX = ".metrics.json"
"""Each model's per-epoch training metrics lie beside its weights, in `<name>.metrics.json`."""
SEED = 0
"""Every model's weights come from this one seed: a recipe must work from any seed, so none is
chosen per model."""


def weights_recipe(name: str) -> str:
    return WEIGHTS_RECIPE if WEIGHTS_RECIPE in MODELS.get(name).recipes else "default"


def train(
    name: str, recipe: str, seed: int, data: TensorDataModule, progress: bool = False,
    callbacks: list[lightning.pytorch.Callback] | None = None,
) -> Run:
    """A CPU run of `name` with `recipe` on `data`, as `zoo fit` configures it, untested; quiet
    but for zoo's progress bar when `progress` (a person watching a build of many minutes)."""
    return fit(
        name,
        recipe=recipe,
        seed=seed,
        datamodule=data,
        test=False,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=progress,
        callbacks=callbacks,
        accelerator="cpu",
        devices=1,
    )


def score(
    trainer: lightning.pytorch.Trainer, model: lightning.pytorch.LightningModule, data: TensorDataModule, split: str
) -> dict[str, float]:
    """The model's metrics on one split of the data, named after that split ('train/acc')."""
    data.setup()
    batches = TensorBatches(data.splits[split], data.eval_batch_size)
    (results,) = trainer.test(model, dataloaders=batches, verbose=False)
    return {key.replace("test/", f"{split}/", 1): float(value) for key, value in sorted(results.items())}


def class_recalls(model: lightning.pytorch.LightningModule, data: TensorDataModule, split: str) -> dict[str, float]:
    """Each class's recall on one split, for a classifier with one prediction per sample (else
    nothing, and the card has no `test_recall`): the card says whom the weights serve, not only
    how many they get right."""
    if not isinstance(model, ClassificationTask) or isinstance(model, LanguageModelTask):
        return {}
    *inputs, target = data.splits[split]
    model.eval()
    with torch.no_grad():
        scores = torch.cat([
            model(*(t[start:start + data.eval_batch_size] for t in inputs))
            for start in range(0, len(target), data.eval_batch_size)
        ])
    if scores.dim() != 2:  # one prediction per sequence position
        return {}
    counts = confusion_matrix(scores.argmax(dim=-1).cpu(), target.cpu(), task="multiclass",
                              num_classes=model.num_classes)
    return {label: round(float(r), 4) for label, r in zip(model.labels, class_recall(counts), strict=True)}


def build_weights(
    name: str, data_dir: str | None = None, folder: Path | None = None, progress: bool = False
) -> dict[str, Any]:
    """Train, test and save model `name`; returns its card (also merged into cards.json).

    A recipe that trains on every row leaves nothing to test the weights on: then a twin run with
    the recipe's `estimate_with` gives the card's test metrics, and the card also keeps what the
    weights score on their own training rows, which a test can reproduce."""
    folder = folder or weights_dir()
    recipe_name = weights_recipe(name)
    recipe = recipe_for(name, recipe_name)
    seed = SEED
    data_kwargs = {"data_dir": data_dir} if data_dir else {}
    data = cast(TensorDataModule, run_datamodule(name, recipe_name, **data_kwargs))
    sizes = data.split_sizes()
    if not sizes["test"] and not recipe.estimate_with:
        raise ZooError(
            f"recipe {recipe_name!r} of {name!r} leaves no test split and names no twin to test; "
            "give it estimate_with (e.g. a test_split) or keep a test split"
        )
    started = time.perf_counter()
    epochs = EpochMetrics()
    run = train(name, recipe_name, seed, data, progress, [epochs])
    seconds = time.perf_counter() - started
    state = {k: v.detach().cpu().contiguous() for k, v in run.model.get_submodule("net").state_dict().items()}
    blob = save(state)
    card: dict[str, Any] = {
        "file": f"{name}.safetensors",
        "sha256": sha256(blob),
        "bytes": len(blob),
        "params": sum(v.numel() for v in state.values()),
        "recipe": {"name": recipe_name, **recipe.as_dict()},
        "data": {
            "datamodule": getattr(data, "zoo_name", type(data).__name__),
            "used_source": getattr(data, "used_source", None),
            "split_sizes": sizes,
        },
        "seed": seed,
        "epochs": run.trainer.current_epoch,
        "train_seconds": round(seconds, 1),
        "device": f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "built": datetime.date.today().isoformat(),
    }
    if sizes["test"]:
        card["test"] = score(run.trainer, run.model, data, "test")
        tested, tested_data = run, data
        card["test_rows_seen"] = rows_seen(data.splits["train"], data.splits["test"])
    else:
        say(f"{name}: trained on every row; testing a twin trained alike with {recipe.estimate_with} ...")
        twin_data = cast(TensorDataModule, run_datamodule(name, recipe_name, **data_kwargs | recipe.estimate_with))
        twin = train(name, recipe_name, seed, twin_data, progress)
        card["data"]["twin_split_sizes"] = twin_data.split_sizes()
        card["test"] = score(twin.trainer, twin.model, twin_data, "test")
        tested, tested_data = twin, twin_data
        card["test_rows_seen"] = rows_seen(twin_data.splits["train"], twin_data.splits["test"])
        card["train"] = score(run.trainer, run.model, data, "train")
    if recalls := class_recalls(tested.model, tested_data, "test"):
        card["test_recall"] = recalls
    with atomic_write(folder / card["file"]) as temporary:
        temporary.write_bytes(blob)
    write_metrics(folder / f"{name}{METRICS_SUFFIX}", card["sha256"], epochs.rows)
    shipped = cards(folder) | {name: card}
    with atomic_write(folder / CARDS_FILE) as temporary:
        temporary.write_text(json.dumps(dict(sorted(shipped.items())), indent=1) + "\n")
    return card


def write_metrics(path: Path, weights_sha256: str, rows: list[dict[str, float]]) -> None:
    """The training run's metrics after each epoch, beside the weights, for the curve on the
    model's documentation page (the card holds only the end); with the sha256 of the weights
    that run gave, so a page can tell the shipped file's own run from another build's."""
    epochs = ",\n  ".join(json.dumps({k: round(v, 6) for k, v in row.items()}) for row in rows)
    with atomic_write(path) as temporary:
        temporary.write_text(f'{{"weights_sha256": "{weights_sha256}",\n "epochs": [\n  {epochs}\n ]\n}}\n')


def evaluate_pretrained(name: str, data_dir: str | None = None) -> dict[str, float]:
    """Score the shipped weights of `name` as their card did, evaluation only, so a test can check
    that a file still scores what its card says: on the test split the card was tested on, or, for
    weights trained on every row (tested through a twin), on their own training rows."""
    card = weights_card(name)
    data = card_datamodule(name, data_dir)
    model = build(name, recipe=weights_recipe(name), pretrained=True)
    trainer = lightning.pytorch.Trainer(
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False,
    )
    return score(trainer, model, data, "train" if "train" in card else "test")


def card_datamodule(name: str, data_dir: str | None = None) -> TensorDataModule:
    """The data the shipped weights of `name` were built on, split as their run split it (their
    recipe's arguments and seed; the digits their card names, whatever else is on this machine),
    from the data files in `data_dir`."""
    overrides = {"data_dir": data_dir} if data_dir else {}
    if source := weights_card(name)["data"].get("used_source"):
        overrides["source"] = source
    return cast(TensorDataModule, run_datamodule(name, weights_recipe(name), **overrides))


def check_replaced(folder: Path, names: list[str]) -> None:
    """Refuse a build into a folder of one's own (`--out`) that already holds a named model's
    weights or metrics: cards.json is updated, keeping the other models' cards, but those two
    files would be replaced."""
    for name in names:
        for path in (folder / f"{name}.safetensors", folder / f"{name}{METRICS_SUFFIX}"):
            if path.exists():
                raise ZooError(f"--out folder {str(folder)!r} already holds {path.name!r}, which would be "
                               f"overwritten; pass {OVERWRITE} to replace it, or --out with another folder")


def build_all(
    names: list[str], data_dir: str | None = None, folder: Path | None = None, progress: bool = False,
    overwrite: bool = False,
) -> None:
    """Build each named model's weights in turn, saying what each scored; with `progress`, each
    training run shows zoo's progress bar. The folder (the package's own by default, whose
    shipped weights a build is meant to replace) is checked writable first, and a folder of
    one's own for files it would replace unless `overwrite`, not after minutes of training."""
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        MODELS.get(unknown[0])
    check_writable(folder or weights_dir(), "weights folder", "pass --out with a writable folder")
    if folder is not None and not overwrite:
        check_replaced(folder, names)
    for name in names:
        say(f"building {name} with its {weights_recipe(name)!r} recipe ...")
        card = build_weights(name, data_dir, folder, progress)
        say(f"{name}: {headline(card)} after {card['epochs']} epochs in {card['train_seconds']} s; "
            f"{card['bytes']:,} bytes")
