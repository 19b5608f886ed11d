"""docs/tables.md's results table is the committed results CSV, rendered; the tool that makes both runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tools.model_index import TABLES_PAGE
from tools.results import REPO, RESULTS, readme_table
from tools.surname_models import CANDIDATES, VAL, candidate_name, chosen
from tools.surnames import HELD_OUT, NGRAM, RUNS, SHIFTS, SHIPPED, held_out_table, summary_table
from zoo import model_card
from zoo.building import build_net


def test_readme_results_table_is_the_committed_csv() -> None:
    (path,) = sorted(RESULTS.glob("results-*.csv"))
    table = pd.read_csv(path)
    assert (table["seeds"] >= 5).all()
    assert ((table["worst"] <= table["mean"]) | (table["metric"] == "test/mae")).all()
    assert readme_table(table, path) in TABLES_PAGE.read_text(), "run: python -m tools.results"


def test_readme_surname_table_is_the_committed_csv() -> None:
    runs = pd.read_csv(RUNS)
    assert set(runs["shift"]) == set(SHIFTS) and set(runs["split"]) == {"val", "test"}
    assert NGRAM in set(runs["variant"])
    assert summary_table(runs) in TABLES_PAGE.read_text(), "run: python -m tools.surnames"


def test_held_out_surname_table_is_the_committed_csv() -> None:
    held_out = pd.read_csv(HELD_OUT)
    assert set(held_out["shift"]) == set(SHIFTS)
    assert {SHIPPED, NGRAM} <= set(held_out["model"])
    assert held_out_table(held_out) in TABLES_PAGE.read_text(), "run: python -m tools.surnames --held-out DIR"


def test_held_out_check_reproduces_the_shipped_weights() -> None:
    """The shipped recipe retrained at seed 0 answers the held-out file as the shipped file does."""
    trained = pd.read_csv(HELD_OUT).query("shift == 0.0 and seed == 0").set_index("model")
    assert trained.loc[SHIPPED].equals(trained.loc["class weight 0.3"])


@pytest.mark.parametrize(("args", "message"), [
    ([], "pass --data-dir DIR to train the variants, or --held-out FOLDER"),
    (["--held-out", "{empty}"], "holds no names_test.csv.gz"),
    (["--data-dir", "{both}"], "holds names_test.csv.gz, which would become the variants' test split"),
])
def test_the_surnames_tool_refuses_folders_that_would_mislead(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "both").mkdir()
    for name in ("names_train.csv.gz", "names_test.csv.gz"):
        (tmp_path / "both" / name).write_bytes(b"")
    args = [arg.format(empty=tmp_path / "empty", both=tmp_path / "both") for arg in args]
    done = subprocess.run([sys.executable, "-m", "tools.surnames", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert message in done.stderr


@pytest.mark.slow
def test_the_results_tool_runs_and_writes_a_csv() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.results", "--quick", "--models", "linear_regression"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "linear_regression default seed 0: test/mae" in done.stdout
    assert "wrote " in done.stdout


def test_the_surname_models_tool_chose_the_registered_recipe_on_validation() -> None:
    val = pd.read_csv(VAL)
    tried = [candidate_name(c) for c in CANDIDATES]
    assert list(val["candidate"]) == tried, "run: python -m tools.surname_models --val DIR"
    choice = chosen(val)
    recipe = model_card("ngram_names").recipes["default"]
    settings = (recipe.lr, recipe.weight_decay, recipe.max_epochs)
    assert (choice["lr"], choice["weight_decay"], choice["epochs"]) == settings
    assert choice["class_weight"] == recipe.task_args["class_weight"]
    assert choice["net_args"] == {"max_n": build_net("ngram_names").max_n}


@pytest.mark.parametrize(("args", "message"), [
    ([], "pass --val DATA_DIR to choose on validation, or --held-out FOLDER"),
    (["--held-out", "{empty}"], "holds no names_test.csv.gz"),
    (["--val", "{both}"], "holds names_test.csv.gz; pass a folder with names_train.csv.gz alone"),
])
def test_the_surname_models_tool_refuses_folders_that_would_mislead(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "both").mkdir()
    for name in ("names_train.csv.gz", "names_test.csv.gz"):
        (tmp_path / "both" / name).write_bytes(b"")
    args = [arg.format(empty=tmp_path / "empty", both=tmp_path / "both") for arg in args]
    done = subprocess.run([sys.executable, "-m", "tools.surname_models", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert message in done.stderr
