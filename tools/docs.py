"""Development tool: the documentation site's generated pages and pictures, written from the
registry's cards, the recipes, the shipped weights' cards, the results and benchmark CSVs (the
models' FLOPs and CPU latency: `python -m benchmarks.latency`), the command parsers and
CHANGELOG.md, so nothing on them is typed twice. Each model page leads with Python that runs (a test runs every one).

`python -m tools.docs` rewrites every generated page under docs/ and its pictures;
`--no-pictures` writes the pages alone. A test regenerates the pages into a temporary folder and
fails when a committed one differs (pictures are compared by name: their bytes follow the
plotting library's version).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import inspect
import io
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from tools.model_index import weights_table
from zoo.building import build, default_datamodule
from zoo.inputs import EXAMPLE_LENGTH, Images
from zoo.pretrained import cards, headline, measured_on, weights_dir
from zoo.registry import DATAMODULES, MODELS, DataCard, ModelCard, discover, list_datamodules
from zoo.registry import list_models as model_names
from zoo.tasks import BinaryTask, LanguageModelTask, RegressionTask
from zoo.tutorials import TUTORIALS
from zoo.weights_build import METRICS_SUFFIX

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
GENERATED = ("models", "tutorials", "datasets", "benchmarks", "results.md", "reference/commands.md", "changelog.md")
"""What this tool owns under docs/ (folders wholly); everything else there is written by hand."""
CHANGELOG = REPO / "CHANGELOG.md"
"""The repository's changelog, which the site shows as its changelog page."""
LIGHTNING_PAGE = "reference/lightning-commands.md"
"""The LightningCLI commands' help: generated too, but it follows Lightning's version."""
IMAGES = "img"
HELP_COLUMNS = "100"
EXAMPLES = {
    "mnist": "The first test inputs (source='embedded') with their labels:",
    "names": "The first surnames of each country in `names_train.csv.gz`, as the file lists them:",
    "shakespeare": "The opening of `shakespeare.txt.gz`, the characters the model reads:",
    "diabetes": "Each of the 8 scaled measurements of every row of `diabetes.csv.gz`, by label "
                "(1: diabetes):",
    "linear_toy": "The three points (every split):",
    "hours_pass": "The three points (every split):",
    "house_prices": "The ten houses (every split, default seed 1):",
    "hello": "The one sequence, character by character (every split):",
}
"""Datamodules with a picture of example inputs, drawn from the real data (`$ZOO_DATA_DIR` for the
files), with the line above it."""
NO_EXAMPLES = {
    "cifar10": "No picture: CIFAR-10 is downloaded on first use, and no copy is held here offline.",
    "image_folder": "No picture: the images are your own folder's; the datamodule holds none.",
    "mnist_csv": "No picture: the CSV files are not held here offline; their digits are MNIST's, "
                 "as on [mnist](mnist.md).",
    "random_regression": "No picture: 64 samples of unrelated Gaussian noise, to be memorised.",
}
POINT_AXES = {"linear_toy": ("x", "y"), "hours_pass": ("hours studied", "passed"),
              "house_prices": ("area", "price")}
NAMES_PER_COUNTRY = 5
SHAKESPEARE_LINES = 24
TUTORIAL_FIGURES = ("The tutorial's own figures are not shown here: the kept copy is its text alone (at most "
                    "the web addresses of its pictures), and the site is built offline.")
OWN_COMMANDS: tuple[list[str], ...] = (
    [], ["list"], ["show"], ["plot"], ["export"], ["weights"], ["weights", "build"], ["weights", "list"],
    ["serve"],
)
LIGHTNING_COMMANDS: tuple[list[str], ...] = (["fit"], ["validate"], ["test"], ["predict"])
RECIPE_FIELDS = ("optimizer", "lr", "momentum", "weight_decay", "scheduler", "batch_size", "max_epochs",
                 "task_args", "data_args", "estimate_with")
CURVE_CSV = "time_to_accuracy"
ACCURATE_CSV = "time_to_99"
LATENCY_CSV = "latency-cpu-*.csv"
"""`python -m benchmarks.latency`'s files in benchmarks/results/: the tables' FLOPs and CPU latency."""
SNIPPET_IMAGE = "picture.png"
"""The image file a model page's Python snippet reads (the reader's own; the test draws one)."""
TASK_KINDS = ("image classification", "sequence classification", "sequence labelling", "text generation",
              "binary classification", "regression")
"""The models index's groups, in its order."""


# ---- small helpers -------------------------------------------------------------------------

def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def number(text: str) -> str:
    """A CSV cell for a table: floats to 4 significant digits, the rest as it is."""
    try:
        value = float(text)
    except ValueError:
        return text
    return text if text.lstrip("-").isdigit() else f"{value:.4g}"


def as_text(text: str) -> str:
    """Text for a page, its `<` escaped: 'ROOT/<label>/<image>' would be HTML (and an image)."""
    return text.replace("<", "&lt;")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def model_link(name: str) -> str:
    """A link to a model's page from any generated page (each lies one folder down)."""
    return f"[{name}](../models/{name}.md)"


def data_link(name: str) -> str:
    return f"[{name}](../datasets/{name}.md)"


def shipped_picture(name: str) -> bool:
    """A confusion matrix is drawn for shipped weights tested on data zoo holds offline."""
    card = cards().get(name)
    if card is None:
        return False
    return card["data"].get("used_source") == "embedded" and card["data"]["split_sizes"]["test"] > 0


def benchmark_conditions() -> list[str]:
    """The conditions the benchmark CSVs are named by, e.g. 'cpu-torch2.14.1-t2'."""
    folder = REPO / "benchmarks" / "results"
    return sorted(p.stem.removeprefix(f"{CURVE_CSV}-") for p in folder.glob(f"{CURVE_CSV}-*.csv"))


def benchmark_csv(section: str, condition: str) -> Path:
    return REPO / "benchmarks" / "results" / f"{section}-{condition}.csv"


def curve_rows(name: str, condition: str) -> list[dict[str, str]]:
    """The benchmark's runs of a model that recorded accuracy after every epoch."""
    rows = []
    for section in (CURVE_CSV, ACCURATE_CSV):
        path = benchmark_csv(section, condition)
        if path.is_file():
            rows += [r for r in read_csv(path) if r["model"] == name and r["acc_per_epoch"]]
    return rows


# ---- model pages ---------------------------------------------------------------------------

def card_rows(card: ModelCard) -> list[list[str]]:
    shipped = cards().get(card.name)
    tutorial = (f"[{card.tutorial} {TUTORIALS[card.tutorial].english}](../tutorials/{card.tutorial}.md), "
                f"{card.section}" if card.tutorial else card.section)
    args = "".join(f" {k}={v}" for k, v in card.datamodule_args.items())
    return [
        ["network", f"`{card.net.__module__}.{card.net.__qualname__}`"],
        ["task", f"`{card.task.__module__}.{card.task.__qualname__}`"],
        ["parameters", f"{card.num_params:,}"],
        ["what it does", task_kind(card)],
        ["FLOPs, CPU latency", f"{flops_cell(card.name)}, {latency_cell(card.name)} at batch 1 "
                               "([how measured](index.md))"],
        ["input", f"`{tuple(card.input_shape)}`"],
        ["output", f"`{tuple(card.output_shape)}`"],
        ["raw inputs", card.inputs.describe() if card.inputs else "not said: predict over a datamodule"],
        ["example inputs", ", ".join(f"`{e}`" for e in card.inputs.examples) if card.inputs and card.inputs.examples
         else "-"],
        ["answers", str(getattr(card.task, "answers", "-"))],
        ["data", data_link(card.datamodule) + args],
        ["tutorial", tutorial or "-"],
        ["tutorial's result", card.tutorial_result or "-"],
        ["pretrained", headline(shipped) if shipped else "none shipped"],
    ]


def network_source(card: ModelCard) -> str:
    source = inspect.getsource(card.net)
    path = Path(inspect.getfile(card.net)).resolve()
    where = relative(path) if path.is_relative_to(REPO) else path.name
    return f"From `{where}`, as the tutorial writes it:\n\n```python\n{source.rstrip()}\n```"


def task_kind(card: ModelCard) -> str:
    """What the model does, one of TASK_KINDS: from its task and the inputs and outputs it takes."""
    if issubclass(card.task, LanguageModelTask):
        return "text generation"
    if issubclass(card.task, BinaryTask):
        return "binary classification"
    if issubclass(card.task, RegressionTask):
        return "regression"
    if card.inputs is not None and card.inputs.kind == "images":
        return "image classification"
    return "sequence labelling" if card.output_shape[0] is None else "sequence classification"


def snippet_inputs(card: ModelCard) -> str:
    """The Python expression of the raw inputs a model page's snippet answers."""
    inputs = card.inputs
    if inputs is None:
        raise ValueError(f"{card.name}: its card names no raw inputs, so its page can show no snippet")
    if inputs.kind == "images":
        return f'["{SNIPPET_IMAGE}"]'
    if inputs.examples:
        return repr(list(inputs.examples[:2]))
    return f'[",".join(["0.5"] * {getattr(inputs, "features", 1)})]'


def python_snippet(card: ModelCard) -> str:
    """Python that loads the model's weights, prepares an input, answers it and names the labels:
    code a test runs for every model."""
    name, kind = card.name, task_kind(card)
    load = (f'model = build("{name}", pretrained=True).eval()  # shipped weights, sha256 checked'
            if name in cards() else
            f'model = build("{name}").eval()  # no shipped weights: untrained (zoo.load_checkpoint for yours)')
    lines = ["import torch", "from zoo import build", "", load,
             f"inputs = {snippet_inputs(card)}  # {card.inputs.help if card.inputs else ''}",
             "with torch.no_grad():",
             "    output = model(*model.raw_inputs.tensors(inputs))  # prepared as in training"]
    if kind == "text generation":
        lines += ["print(model.labels[output[0, -1].argmax()])  # the likeliest character after the prompt",
                  "(row,) = model.answer(inputs, length=100, temperature=0.8, seed=0)  # as zoo predict writes",
                  "print(row.input + row.prediction)",
                  'print(repr("".join(model.labels)))  # the characters it writes']
        return "```python\n" + "\n".join(lines) + "\n```"
    answer = {"binary classification": "class 0 or 1; P(class 1) is label 1's in row.top",
              "regression": "the values", "sequence labelling": "a label per character"}
    lines += [f"print(model.prediction(output))  # {'the values' if kind == 'regression' else 'probabilities'}",
              f"for row in model.answer(inputs{', k=3' if kind.endswith(' classification') else ''}):"
              "  # the rows zoo predict prints",
              f"    print(row.input, row.prediction, row.probability, row.top)  # {answer.get(kind, 'the top 3')}"]
    if kind not in ("binary classification", "regression"):
        lines.append("print(model.labels)  # the label of each output")
    return "```python\n" + "\n".join(lines) + "\n```"


def recipe_value(recipe: dict[str, Any], field: str) -> str:
    value = recipe[field]
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return "-" if value in (None, 0.0) and field != "lr" else f"{value}"


def recipes_section(card: ModelCard) -> str:
    recipes = {k: r.as_dict() for k, r in card.recipes.items()}
    rows = [[field, *(recipe_value(r, field) for r in recipes.values())] for field in RECIPE_FIELDS]
    notes = "\n".join(f"- **{key}**: {recipe_note(r)}" for key, r in recipes.items() if r["note"] or r["notes"])
    return (f"`zoo fit --model {card.name} --recipe NAME`; `default` when none is named.\n\n"
            + table(["", *recipes], rows) + "\n\n" + notes)


def recipe_note(recipe: dict[str, Any]) -> str:
    """A recipe's line, linked to the notes on the experiments behind it."""
    link = f"([why](../{recipe['notes']}))" if recipe["notes"] else ""
    return " ".join(text for text in (recipe["note"], link) if text)


def results_section(name: str) -> str:
    rows = []
    for path in sorted((REPO / "results").glob("results-*.csv")):
        for r in read_csv(path):
            if r["model"] == name:
                rows.append([r["recipe"], f"{r['metric']} {float(r['mean']):.4f} ± {float(r['std']):.4f}",
                             r["seeds"], r["epochs"], f"{float(r['seconds']):.1f}", f"{r['data']} {r['split']}",
                             f"{r['device']}, torch {r['torch']}", f"`{relative(path)}`"])
    if not rows:
        return "No runs of this model are in `results/` (`python -m tools.results` makes them)."
    return table(["recipe", "test metric, mean ± std", "seeds", "epochs", "seconds", "data", "machine", "file"], rows)


def weights_section(name: str) -> str:
    card = cards().get(name)
    if card is None:
        return "zoo ships no weights of this model."
    data = card["data"]
    sizes = "/".join(f"{data['split_sizes'][k]:,}" for k in ("train", "val", "test"))
    rows = [
        ["file", f"`zoo/weights/{card['file']}`, {card['bytes']:,} bytes"],
        ["sha256", f"`{card['sha256']}`"],
        ["recipe", f"{card['recipe']['name']} (the table above)"],
        ["data", f"{data['datamodule']} ({data.get('used_source', '-')}), train/val/test {sizes}"],
        ["seed, epochs", f"{card['seed']}, {card['epochs']}"],
        ["trained", f"{card['train_seconds']:g} s on {card['device']}, torch {card['torch']}, "
                    f"lightning {card['lightning']}, {card['built']}"],
        ["test", ", ".join(f"{k} {v:.4f}" for k, v in card["test"].items())],
        ["measured on", measured_on(card)],
    ]
    text = table(["field", "value"], rows)
    if shipped_picture(name):
        text += (f"\n\n### Confusion matrix\n\nThe shipped weights on the {data['split_sizes']['test']:,} test "
                 f"inputs, drawn by zoo's `ConfusionMatrixCallback` (`python -m tools.docs`):\n\n"
                 f"![confusion matrix of {name}](../{IMAGES}/cm_{name}.png)")
    return text


def training_record(name: str) -> dict[str, Any] | None:
    """The per-epoch metrics `zoo weights build` kept beside the shipped weights, if it did."""
    path = weights_dir() / f"{name}{METRICS_SUFFIX}"
    return json.loads(path.read_text()) if path.is_file() else None


def shipped_curve(name: str) -> str:
    """What the page says of the shipped weights' own training, with its picture if kept."""
    if name not in cards():
        return "zoo ships no weights of this model."
    record = training_record(name)
    if record is None:
        return ("These weights were built before `zoo weights build` kept each epoch's metrics, and no "
                "rebuild was made since, so there is no curve of their own training.")
    shipped = cards()[name]["sha256"]
    text = ("The shipped weights' own training run, after every epoch: rebuilt with `zoo weights build`, "
            "which gave the shipped file byte for byte (the same sha256)."
            if record["weights_sha256"] == shipped else
            f"A rebuild with the same recipe and seed gave other bytes (sha256 `{record['weights_sha256'][:12]}`, "
            f"the shipped file's `{shipped[:12]}`), so this is that rebuild's training, not the shipped file's.")
    return text + f"\n\n![training curve of the shipped weights of {name}](../{IMAGES}/train_{name}.png)"


def curve_section(name: str) -> str:
    text = shipped_curve(name)
    shown = [c for c in benchmark_conditions() if curve_rows(name, c)]
    if not shown:
        return text
    text += ("\n\nThe curves below are the benchmark's runs of this model (`python -m benchmarks`): test "
             "accuracy after every epoch, by recipe and loop, from its CSVs:")
    for condition in shown:
        text += f"\n\n![training curves of {name}, {condition}](../{IMAGES}/curve_{name}_{condition}.png)"
    return text


def commands_section(card: ModelCard) -> str:
    name = card.name
    lines = [f"zoo fit --model {name}                       # the default recipe"]
    lines += [f"zoo fit --model {name} --recipe {key}" for key in card.recipes if key != "default"]
    weights = f"--model {name}" if name in cards() else "--ckpt_path CKPT"
    lines += [
        f"zoo test {weights}" + (" --pretrained true" if name in cards() else ""),
        f"zoo predict {weights} INPUT...",
        f"zoo export {weights} --format onnx --out {name}.onnx",
        f"zoo show {name}",
    ]
    return "```bash\n" + "\n".join(lines) + "\n```"


def model_page(card: ModelCard) -> str:
    doc = inspect.getdoc(card.net) or ""
    return "\n\n".join([
        f"# {card.name}", doc,
        "## In Python", python_snippet(card),
        "## Card", table(["field", "value"], card_rows(card)),
        "## The network", network_source(card),
        "## Recipes", recipes_section(card),
        "## Results", results_section(card.name),
        "## Pretrained weights", weights_section(card.name),
        "## Training curve", curve_section(card.name),
        "## Commands", commands_section(card),
        *(["## Try it", try_it_section(card)] if card.name in cards() else []),
    ]) + "\n"


def try_it_section(card: ModelCard) -> str:
    """A panel that runs the shipped weights in the reader's browser (`docs/js/try_it.js`, the
    files `tools/docs_try_it.py` writes into the built site): a digit model's pad answers with
    every shipped digit network side by side."""
    names = [n for n in sorted(cards()) if draws_digits(MODELS.get(n))] if draws_digits(card) else [card.name]
    what = {"images": "Draw a digit with the mouse; each network answers when you let go.",
            "names": "Type surnames; the top three countries of each.",
            "prompt": "A prompt, continued sixty characters with the likeliest character each time.",
            "numbers": "Numbers, one sample each, separated by spaces.",
            "characters": "Words, separated by spaces; the likeliest character at each position."}
    kind = card.inputs.kind if card.inputs else ""
    shot = DOCS / f"try_{card.name}.png"  # a screenshot (python -m tools.try_it_browser), not drawn by the build
    picture = f"\n\n![the panel in use](../{shot.name})" if shot.is_file() else ""
    return (f"{what.get(kind, '')} The shipped weights run here, in your browser, with ONNX Runtime Web: "
            f"the files `zoo export --format onnx` writes, nothing sent anywhere.\n\n"
            f'<div class="zoo-try" data-root="../../try/" data-models="{",".join(names)}"></div>{picture}')


def draws_digits(card: ModelCard) -> bool:
    """Whether a model takes pictures of digits (its panel is the digit pad)."""
    return isinstance(card.inputs, Images) and card.inputs.digits


def latency_file() -> Path | None:
    """The CPU latency CSV the tables show: the one with the fewest threads (a laptop's view)."""
    found = sorted((REPO / "benchmarks" / "results").glob(LATENCY_CSV),
                   key=lambda p: int(p.stem.rsplit("-t", 1)[1]))
    return found[0] if found else None


def latencies() -> dict[str, dict[str, str]]:
    """Each model's row of the latency CSV (forward FLOPs, CPU latency at batch 1), by name."""
    path = latency_file()
    return {r["model"]: r for r in read_csv(path)} if path else {}


def flops_cell(name: str) -> str:
    row = latencies().get(name)
    if row is None:
        return "-"
    flops = float(row["fwd_mflop"]) * 1e6
    missing = f" (without {row['not_counted']})" if row["not_counted"] else ""
    return (f"{flops:,.0f}" if flops < 1e4 else f"{flops / 1e6:.3g} M") + missing


def latency_cell(name: str) -> str:
    row = latencies().get(name)
    return f"{float(row['latency_ms']):.3g} ms" if row else "-"


def latency_conditions() -> str:
    """Where the FLOPs and latencies come from and how they were measured, for the tables."""
    path = latency_file()
    if path is None:
        return "No latency CSV in `benchmarks/results/` yet: `python -m benchmarks.latency` writes one."
    first = read_csv(path)[0]
    machine = (f"{first['cpu']} ({first['cpu_count']} cores, load {float(first['load_1min']):.1f} when it "
               f"started), {first['threads']} thread(s), torch {first['torch']}")
    return (f"FLOPs: one forward pass at batch 1 as torch's FlopCounterMode counts it (matrix products and "
            f"convolutions). CPU latency: the median of that forward pass under no_grad on {machine}, a text "
            f"input {EXAMPLE_LENGTH} characters long; measured by `python -m benchmarks.latency` into "
            f"`{relative(path)}` (with each one's spread), not by the docs build.")


def models_index() -> str:
    parts = ["# Models", "Every registered model, from `zoo.registry`, by what it does. " + latency_conditions()]
    for kind in TASK_KINDS:
        names = [n for n in model_names() if task_kind(MODELS.get(n)) == kind]
        if not names:
            continue
        rows = [[model_link(n), f"{MODELS.get(n).num_params:,}", flops_cell(n), latency_cell(n),
                 data_link(MODELS.get(n).datamodule), MODELS.get(n).tutorial or "-",
                 headline(cards()[n]) if n in cards() else "-"] for n in names]
        parts += [f"## {kind.capitalize()}", table(["model", "parameters", "FLOPs (forward)", "CPU latency",
                                                    "data", "tutorial", "pretrained"], rows)]
    parts += ["## Shipped weights", "From their cards, `zoo/weights/cards.json` (the README's table).",
              weights_table(cards())]
    return "\n\n".join(parts) + "\n"


# ---- tutorial pages ------------------------------------------------------------------------

def tutorial_page(key: str) -> str:
    tutorial = TUTORIALS[key]
    models = [MODELS.get(n) for n in model_names() if MODELS.get(n).tutorial == key]
    rows = [[model_link(c.name), c.section, c.tutorial_result or "-",
             headline(cards()[c.name]) if c.name in cards() else "-"] for c in models]
    datasets = [d for d in list_datamodules() if re.search(rf"\b{key}\b", DATAMODULES.get(d).source)]
    parts = [
        f"# {key}: {tutorial.title}",
        f"*{tutorial.english}*. " + (f"Public copy: <{tutorial.url}>." if tutorial.url
                                     else "The copy names no public address."),
        f"The text (Chinese) is kept beside the project as `shared/seeds/{key}_*.txt`; the line numbers "
        "the cards cite are its lines.",
        "## The systems zoo takes from it",
        table(["model", "where in the tutorial", "the tutorial's result", "zoo's shipped weights"], rows)
        if rows else "No registered model cites this tutorial.",
    ]
    if datasets:
        parts += ["## Data it builds", ", ".join(data_link(d) for d in datasets)]
    parts += ["## Figures", TUTORIAL_FIGURES]
    pictures = [c.name for c in models if shipped_picture(c.name)]
    if pictures:
        parts += ["The numbers it reports are in the table above. zoo's figures of the same networks, its "
                  "shipped weights on the test digits:",
                  "\n".join(f"![{n}](../{IMAGES}/cm_{n}.png){{ width=\"32%\" }}" for n in pictures)]
    return "\n\n".join(parts) + "\n"


def tutorials_index() -> str:
    rows = [[f"[{k}]({k}.md)", t.title, t.english, f"<{t.url}>" if t.url else "not recorded"]
            for k, t in TUTORIALS.items()]
    return "# Tutorials\n\nThe five tutorials zoo is built from (`zoo.tutorials`).\n\n" + table(
        ["key", "title", "what it covers", "public URL"], rows) + "\n"


# ---- dataset pages -------------------------------------------------------------------------

def checksums(card: DataCard) -> list[list[str]]:
    """md5 sums the datamodule's module checks files against: its own, the public files it names
    and, for a torchvision download, torchvision's list."""
    from zoo.datamodules.public_files import MD5 as PUBLIC_MD5

    module = sys.modules[card.cls.__module__]
    source = inspect.getsource(module)
    rows = [[f, m, "PyTorchZeroToAll `data/`"] for f, m in PUBLIC_MD5.items()
            if any(value == f for value in vars(module).values())]
    for value in vars(module).values():
        if isinstance(value, dict) and value and all(re.fullmatch(r"[0-9a-f]{32}", str(v)) for v in value.values()):
            rows += [[f, m, "official download"] for f, m in value.items()]
    for dataset in ("MNIST", "CIFAR10"):
        if f"import {dataset}" in source:
            import torchvision.datasets

            found = getattr(torchvision.datasets, dataset)
            listed = getattr(found, "resources", None) or [*found.train_list, *found.test_list]
            rows += [[f, m, f"torchvision `{dataset}`"] for f, m in listed if [f, m] not in [r[:2] for r in rows]]
    return rows


def arguments(cls: type) -> list[list[str]]:
    params = list(inspect.signature(cls).parameters.values())
    return [[f"`{p.name}`", f"`{p.default!r}`" if p.default is not p.empty else "required"]
            for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def dataset_page(name: str) -> str:
    card = DATAMODULES.get(name)
    users = [model_link(n) for n in model_names() if MODELS.get(n).datamodule == name]
    sums = checksums(card)
    parts = [
        f"# {name}", as_text(card.description),
        f"Source: {card.source}.", f"Class: `{card.cls.__module__}.{card.cls.__qualname__}`.",
        inspect.getdoc(card.cls) or "",
        "## Checksums (md5)",
        table(["file", "md5", "from"], [[f"`{f}`", f"`{m}`", w] for f, m, w in sums]) if sums
        else "No files to check: the data is built in, generated, or your own.",
        "## Arguments: splits, seeds, files",
        f"`--data {name} --data.ARGUMENT VALUE` on the command line.\n\n" + table(["argument", "default"],
                                                                                  arguments(card.cls)),
        "## Models trained on it", ", ".join(users) or "none registered",
    ]
    parts.append("## Example inputs")
    if name in EXAMPLES:
        parts += [EXAMPLES[name], f"![{name} examples](../{IMAGES}/data_{name}.png)"]
    else:
        parts.append(NO_EXAMPLES.get(name, "No picture of its inputs yet."))
    return "\n\n".join(parts) + "\n"


def datasets_index() -> str:
    rows = [[data_link(n), as_text(DATAMODULES.get(n).description)] for n in list_datamodules()]
    return "# Datasets\n\nEvery registered datamodule, from `zoo.registry`.\n\n" + table(
        ["datamodule", "what it holds"], rows) + "\n"


# ---- results and benchmarks ----------------------------------------------------------------

def csv_table(path: Path, skip: tuple[str, ...] = ()) -> str:
    rows = read_csv(path)
    header = [h for h in rows[0] if h not in skip] if rows else []
    return table(header, [[number(r[h]) for h in header] for r in rows])


def results_page() -> str:
    parts = ["# Results", "Test metrics of real runs, mean and standard deviation over seeds, each configured "
             "as `zoo fit` configures it (`python -m tools.results` reruns them)."]
    for path in sorted((REPO / "results").glob("results-*.csv")):
        parts += [f"## `{relative(path)}`", csv_table(path)]
    return "\n\n".join(parts) + "\n"


def benchmarks_page() -> str:
    parts = ["# Benchmarks",
             "`python -m benchmarks` measures zoo against the tutorial's own loop and the machine's limits; "
             "every table here is one of its CSV files in `benchmarks/results/`, named by the conditions. "
             "What the figures mean and which targets are missed: [the notes](../notes/benchmarks.md)."]
    folder = REPO / "benchmarks" / "results"
    for condition in benchmark_conditions():
        parts += [f"## {condition}",
                  "Per-epoch seconds, tutorial loop against zoo, same recipe "
                  f"(`tutorial_vs_zoo`), and test accuracy against seconds (`{CURVE_CSV}`):",
                  f"![per-epoch time, {condition}](../{IMAGES}/bench_epoch_{condition}.png)",
                  f"![time to accuracy, {condition}](../{IMAGES}/bench_accuracy_{condition}.png)"]
        for path in sorted(folder.glob(f"*-{condition}.csv")):
            section = path.stem.removesuffix(f"-{condition}")
            parts += [f"### {section}", f"`{relative(path)}`", csv_table(path, skip=("acc_per_epoch",))]
    return "\n\n".join(parts) + "\n"


# ---- command reference ---------------------------------------------------------------------

@contextlib.contextmanager
def help_terminal() -> Iterator[io.StringIO]:
    """Capture what a command prints, formatted for a fixed width under the name `zoo`."""
    out = io.StringIO()
    old_columns, old_argv = os.environ.get("COLUMNS"), sys.argv
    os.environ["COLUMNS"], sys.argv = HELP_COLUMNS, ["zoo"]
    try:
        with contextlib.redirect_stdout(out):
            yield out
    finally:
        sys.argv = old_argv
        if old_columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old_columns


def command_help(words: list[str]) -> str:
    """What `zoo WORDS --help` prints: the real parser's help."""
    from zoo.cli import main

    with help_terminal() as out, contextlib.suppress(SystemExit):
        main([*words, "--help"] if words else [])
    return out.getvalue().rstrip()


def commands_page(commands: tuple[list[str], ...], title: str, intro: str) -> str:
    parts = [f"# {title}", intro]
    for words in commands:
        parts += [f"## zoo {' '.join(words)}".rstrip(), f"```text\n{command_help(words)}\n```"]
    return "\n\n".join(parts) + "\n"


def lightning_versions() -> str:
    from importlib.metadata import version

    return (f"lightning {version('lightning')}, jsonargparse {version('jsonargparse')}, "
            f"Python {sys.version_info.major}.{sys.version_info.minor}")


# ---- all pages -----------------------------------------------------------------------------

def pages() -> dict[str, str]:
    """Every generated page but the LightningCLI one, by path under docs/."""
    written = {"models/index.md": models_index(), "tutorials/index.md": tutorials_index(),
               "datasets/index.md": datasets_index(), "results.md": results_page(),
               "benchmarks/index.md": benchmarks_page(), "changelog.md": CHANGELOG.read_text()}
    written |= {f"models/{n}.md": model_page(MODELS.get(n)) for n in model_names()}
    written |= {f"tutorials/{k}.md": tutorial_page(k) for k in TUTORIALS}
    written |= {f"datasets/{n}.md": dataset_page(n) for n in list_datamodules()}
    written["reference/commands.md"] = commands_page(
        OWN_COMMANDS, "Commands",
        "What each `zoo` command prints for `--help`, from its parser (`python -m tools.docs`). "
        "The training and evaluation commands run LightningCLI: [their reference](lightning-commands.md).")
    return written


def lightning_page() -> str:
    """The LightningCLI commands' help, which lists every datamodule class imported so far: all of
    zoo's (registered first), and nothing else when run in a fresh interpreter."""
    discover()
    return commands_page(
        LIGHTNING_COMMANDS, "Training and evaluation commands",
        "`zoo fit|validate|test|predict --help`, from LightningCLI's parser as zoo configures it, with "
        f"{lightning_versions()} (other versions list other Trainer options).")


def confusion_picture(name: str, path: Path) -> None:
    """The shipped weights of `name` on its datamodule's embedded test split."""
    from tools import docs_pictures

    docs_pictures.confusion_matrix(build(name, pretrained=True), default_datamodule(name, source="embedded"), path)


def data_file(filename: str) -> Path:
    """A public data file in `$ZOO_DATA_DIR` (or the cache), as the datamodules find it."""
    from zoo.datamodules.base import default_data_dir
    from zoo.datamodules.public_files import public_file

    return public_file(default_data_dir(), filename)


def mnist_examples(path: Path) -> None:
    from tools import docs_pictures as draw

    draw.grid(DATAMODULES.get("mnist").cls(source="embedded"), path)


def point_examples(name: str, path: Path) -> None:
    from tools import docs_pictures as draw

    x, y = DATAMODULES.get(name).cls().points()
    draw.points(x, y, POINT_AXES[name], DATAMODULES.get(name).description.split(";")[0], path)


def hello_examples(path: Path) -> None:
    from tools import docs_pictures as draw
    from zoo.text import HELLO_INPUT, HELLO_TARGET

    draw.text_table(["position", *map(str, range(1, len(HELLO_INPUT) + 1))],
                    [["input", *HELLO_INPUT], ["target", *HELLO_TARGET]], f"{HELLO_INPUT} -> {HELLO_TARGET}", path)


def names_examples(path: Path) -> None:
    from tools import docs_pictures as draw
    from zoo.datamodules.names import TRAIN_FILE, read_rows

    by_country: dict[str, list[str]] = {}
    for surname, country in read_rows(data_file(TRAIN_FILE)):
        by_country.setdefault(country, []).append(surname)
    rows = [[c, ", ".join(s[:NAMES_PER_COUNTRY]), f"{len(s):,}"] for c, s in sorted(by_country.items())]
    draw.text_table(["country", "first surnames", "rows"], rows, TRAIN_FILE, path)


def shakespeare_examples(path: Path) -> None:
    from tools import docs_pictures as draw
    from zoo.datamodules.shakespeare import TEXT_FILE, read_text

    text = read_text(data_file(TEXT_FILE))
    draw.text_block("\n".join(text.splitlines()[:SHAKESPEARE_LINES]), TEXT_FILE, path)


def diabetes_examples(path: Path) -> None:
    from tools import docs_pictures as draw
    from zoo.datamodules.diabetes import FILENAME, read_table

    features, labels = read_table(data_file(FILENAME))
    draw.feature_histograms(features, labels, f"{FILENAME}, {len(labels)} rows", path)


def example_drawers() -> dict[str, Callable[[Path], None]]:
    """What draws each dataset's example inputs (EXAMPLES holds the line above each picture)."""
    drawers: dict[str, Callable[[Path], None]] = {
        "mnist": mnist_examples, "names": names_examples, "shakespeare": shakespeare_examples,
        "diabetes": diabetes_examples, "hello": hello_examples}
    return drawers | {name: partial(point_examples, name) for name in POINT_AXES}


def pictures() -> dict[str, Callable[[Path], None]]:
    """Every generated picture by file name under docs/img, with the function that draws it."""
    from tools import docs_pictures as draw

    found: dict[str, Callable[[Path], None]] = {}
    for name in model_names():
        if shipped_picture(name):
            found[f"cm_{name}.png"] = partial(confusion_picture, name)
        if record := training_record(name):
            found[f"train_{name}.png"] = partial(draw.training_curve, record["epochs"], f"{name}, shipped weights")
        for condition in benchmark_conditions():
            if rows := curve_rows(name, condition):
                found[f"curve_{name}_{condition}.png"] = partial(draw.curves, rows, f"{name}, {condition}")
    found |= {f"data_{name}.png": draw_examples for name, draw_examples in example_drawers().items()}
    for condition in benchmark_conditions():
        found[f"bench_epoch_{condition}.png"] = partial(
            draw.epoch_times, read_csv(benchmark_csv("tutorial_vs_zoo", condition)), condition)
        found[f"bench_accuracy_{condition}.png"] = partial(
            draw.time_to_accuracy, read_csv(benchmark_csv(CURVE_CSV, condition)), condition)
    return found


def write(docs: Path, with_pictures: bool, with_lightning: bool) -> list[str]:
    """Write the generated pages (and pictures) under `docs`, removing stale ones; their paths."""
    for owned in GENERATED:
        target = docs / owned
        if target.is_dir():
            shutil.rmtree(target)
    written = pages()
    if with_lightning:
        written[LIGHTNING_PAGE] = lightning_page()
    for path, text in written.items():
        (docs / path).parent.mkdir(parents=True, exist_ok=True)
        (docs / path).write_text(text)
    if with_pictures:
        folder = docs / IMAGES
        folder.mkdir(parents=True, exist_ok=True)
        for stale in set(p.name for p in folder.glob("*.png")) - set(pictures()):
            (folder / stale).unlink()
        for file, draw in pictures().items():
            draw(folder / file)
            written[f"{IMAGES}/{file}"] = ""
    return sorted(written)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.docs", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS, help="the docs folder to write into")
    parser.add_argument("--no-pictures", action="store_true", help="write the pages only")
    parser.add_argument("--no-lightning", action="store_true",
                        help="leave out the LightningCLI commands' page (slow to build)")
    args = parser.parse_args(argv)
    written = write(args.out, not args.no_pictures, not args.no_lightning)
    print(f"wrote {len(written)} files under {args.out}")


if __name__ == "__main__":
    main()
