"""Development tool: gru_names recipes against class imbalance, judged on validation.

`python -m tools.surnames` trains each variant below with `zoo.training.fit` (as `zoo fit` does,
final weights, as the shipped ones are) on the name-disjoint, country-stratified split of
names_train.csv.gz ($ZOO_DATA_DIR), and writes under results/:

- `surnames-runs.csv`: per variant, seed and split, accuracy, balanced accuracy and macro F1, and
  the same after shifting the logits by -t * log(prior) for t from -0.5 to 1.5: each variant's
  whole trade-off curve between the two figures (t = 0 is the network as trained);
- `surnames-recall.csv`: each country's recall on the test split, per variant (seed 0);
- `surnames-tradeoff.png`: the validation curves, one per variant (mean over its seeds).

A character n-gram naive Bayes (scikit-learn, installed with mlxtend) on the same split is the
baseline that shows what the GRU adds. Runs already in the CSV are kept, so an interrupted run
continues. Findings: docs/notes/surnames.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor

from zoo.datamodules.names import NamesDataModule
from zoo.notice import quiet_lightning
from zoo.training import fit

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results"
RUNS = RESULTS / "surnames-runs.csv"
RECALL = RESULTS / "surnames-recall.csv"
PICTURE = RESULTS / "surnames-tradeoff.png"
SHIFTS = [round(-0.5 + 0.1 * i, 1) for i in range(21)]

def variant(logit_adjust: float = 0.0, class_weight: float = 0.0, dedupe: bool = False) -> dict[str, Any]:
    """The default recipe (AdamW, cosine, label smoothing 0.1, 10 epochs) with these remedies."""
    return {"recipe": "default", "model": {"logit_adjust": logit_adjust, "class_weight": class_weight},
            "data": {"dedupe": dedupe}}


VARIANTS: dict[str, dict[str, Any]] = {
    "tutorial": {"recipe": "tutorial"},
    "old default": variant(),
    "dedupe": variant(dedupe=True),
    "class weight 0.5": variant(class_weight=0.5),
    "class weight 1": variant(class_weight=1.0),
    "logit adjust 0.5": variant(logit_adjust=0.5),
    "logit adjust 1": variant(logit_adjust=1.0),
    "logit adjust 1, dedupe": variant(logit_adjust=1.0, dedupe=True),
    "logit adjust 0.5, dedupe": variant(logit_adjust=0.5, dedupe=True),
}
"""Each variant: a gru_names recipe and the model and data arguments that change it."""


def scores(logits: Tensor, target: Tensor, num_classes: int) -> dict[str, float]:
    """Accuracy, balanced accuracy and macro F1 of argmax predictions, as the task reports them."""
    from zoo.metrics import class_metrics

    return {name: float(metric(logits, target)) for name, metric in class_metrics(num_classes).items()}


def recall(logits: Tensor, target: Tensor, num_classes: int) -> Tensor:
    predicted = logits.argmax(dim=-1)
    hits = torch.bincount(target[predicted == target], minlength=num_classes).double()
    return hits / torch.bincount(target, minlength=num_classes).double()


def split_logits(model: Any, data: NamesDataModule, split: str) -> tuple[Tensor, Tensor]:
    ids, lengths, target = data.splits[split]
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(ids[i:i + 2048], lengths[i:i + 2048]) for i in range(0, len(target), 2048)])
    return logits, target


def curve_rows(logits: Tensor, target: Tensor, log_prior: Tensor, **labels: Any) -> list[dict[str, Any]]:
    """The split's figures for every shift t of the logits by -t * log(prior)."""
    return [{**labels, "shift": t, **scores(logits - t * log_prior, target, len(log_prior))} for t in SHIFTS]


def train_variant(variant: str, seed: int, data_dir: str) -> tuple[list[dict[str, Any]], Tensor, list[str]]:
    spec = VARIANTS[variant]
    started = time.perf_counter()
    run = fit("gru_names", recipe=spec["recipe"], seed=seed, test=False, logger=False, enable_checkpointing=False,
              enable_progress_bar=False, accelerator="cpu", devices=1, model_kwargs=spec.get("model"),
              data_kwargs={"data_dir": data_dir, **spec.get("data", {})})
    seconds = time.perf_counter() - started
    data: NamesDataModule = run.datamodule  # type: ignore[assignment]
    log_prior = train_log_prior(data)
    rows = []
    for split in ("val", "test"):
        logits, target = split_logits(run.model, data, split)
        rows += curve_rows(logits, target, log_prior, variant=variant, seed=seed, split=split, seconds=seconds)
    test_logits, test_target = split_logits(run.model, data, "test")
    return rows, recall(test_logits, test_target, len(data.countries)), data.countries


def train_log_prior(data: NamesDataModule) -> Tensor:
    counts = torch.bincount(data.splits["train"][-1], minlength=len(data.countries)).double()
    return (counts / counts.sum()).log().float()


def ngram_baseline(data_dir: str) -> tuple[list[dict[str, Any]], Tensor, list[str]]:
    """Character 1-4-gram counts (with word boundaries) and multinomial naive Bayes, on the same
    training rows; its learned class prior is shifted like the GRU's logits."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB

    data = NamesDataModule(data_dir)
    data.setup()
    started = time.perf_counter()
    texts = {split: names_of(data, split) for split in ("train", "val", "test")}
    vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=(1, 4), lowercase=True)
    model = MultinomialNB(alpha=0.1).fit(vectorizer.fit_transform(texts["train"]), data.splits["train"][-1].numpy())
    seconds = time.perf_counter() - started
    log_prior = train_log_prior(data)
    rows = []
    for split in ("val", "test"):
        logits = torch.from_numpy(model.predict_log_proba(vectorizer.transform(texts[split]))).float()
        target = data.splits[split][-1]
        rows += curve_rows(logits, target, log_prior, variant="char n-gram naive Bayes", seed=0, split=split,
                           seconds=seconds)
    logits = torch.from_numpy(model.predict_log_proba(vectorizer.transform(texts["test"]))).float()
    return rows, recall(logits, data.splits["test"][-1], len(data.countries)), data.countries


def names_of(data: NamesDataModule, split: str) -> list[str]:
    ids, lengths, _ = data.splits[split]
    return ["".join(map(chr, row[:n].tolist())) for row, n in zip(ids, lengths, strict=True)]


def picture(runs: pd.DataFrame, path: Path) -> None:
    """Validation accuracy against balanced accuracy along each variant's shift, seeds averaged."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    val = runs[runs["split"] == "val"].groupby(["variant", "shift"], sort=False)[["acc", "bal_acc"]].mean()
    figure, axes = plt.subplots(figsize=(8, 6))
    for variant, curve in val.groupby(level="variant", sort=False):
        line = axes.plot(curve["bal_acc"], curve["acc"], marker=".", label=variant)[0]
        trained = curve.xs(0.0, level="shift")
        axes.plot(trained["bal_acc"], trained["acc"], "o", ms=9, color=line.get_color())
    axes.set_xlabel("balanced accuracy (mean of the 18 countries' recalls)")
    axes.set_ylabel("accuracy")
    axes.set_title("gru_names on validation: each curve shifts the logits by -t log(prior), t = -0.5 .. 1.5;\n"
                   "big dots: t = 0, the network as trained (mean over seeds)", fontsize=9)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.surnames", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--data-dir", required=True, help="the folder holding names_train.csv.gz")
    args = parser.parse_args()
    quiet_lightning()
    torch.set_num_threads(1)
    runs = pd.read_csv(RUNS) if RUNS.is_file() else pd.DataFrame(columns=["variant", "seed"])
    recalls = pd.read_csv(RECALL) if RECALL.is_file() else pd.DataFrame(columns=["variant"])
    if "char n-gram naive Bayes" not in set(runs["variant"]):
        rows, country_recall, countries = ngram_baseline(args.data_dir)
        per_country = dict(zip(countries, country_recall, strict=True))
        runs, recalls = record(runs, recalls, rows, "char n-gram naive Bayes", per_country)
    for variant in args.variants:
        for seed in args.seeds:
            if ((runs["variant"] == variant) & (runs["seed"] == seed)).any():
                continue
            rows, country_recall, countries = train_variant(variant, seed, args.data_dir)
            first = dict(zip(countries, country_recall, strict=True)) if seed == 0 else None
            runs, recalls = record(runs, recalls, rows, variant, first)
            trained = rows[SHIFTS.index(0.0)], rows[len(SHIFTS) + SHIFTS.index(0.0)]
            print(f"{variant} seed {seed}: " + "; ".join(
                f"{r['split']} acc {r['acc']:.4f} bal_acc {r['bal_acc']:.4f} f1 {r['macro_f1']:.4f}" for r in trained
            ) + f" in {rows[0]['seconds']:.0f} s", flush=True)
    picture(runs, PICTURE)
    print(f"wrote {RUNS.relative_to(REPO)}, {RECALL.relative_to(REPO)} and {PICTURE.relative_to(REPO)}")


def record(
    runs: pd.DataFrame, recalls: pd.DataFrame, rows: list[dict[str, Any]], variant: str,
    per_country: dict[str, Tensor] | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Append a run's rows (and, for seed 0, its countries' recalls) and save both files at once."""
    runs = pd.concat([runs, pd.DataFrame(rows)], ignore_index=True) if len(runs) else pd.DataFrame(rows)
    if per_country is not None:
        row = pd.DataFrame([{"variant": variant, **{k: float(v) for k, v in per_country.items()}}])
        recalls = pd.concat([recalls, row], ignore_index=True) if len(recalls) else row
    RESULTS.mkdir(exist_ok=True)
    runs.to_csv(RUNS, index=False)
    recalls.to_csv(RECALL, index=False)
    return runs, recalls


if __name__ == "__main__":
    main()
