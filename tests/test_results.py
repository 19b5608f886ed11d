"""docs/tables.md's results table is the committed results CSV, rendered; the tool that makes both runs."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from tools.model_index import TABLES_PAGE
from tools.results import REPO, RESULTS, readme_table
from tools.surnames import RUNS, SHIFTS, summary_table


def test_readme_results_table_is_the_committed_csv() -> None:
    (path,) = sorted(RESULTS.glob("results-*.csv"))
    table = pd.read_csv(path)
    assert (table["seeds"] >= 5).all()
    assert ((table["worst"] <= table["mean"]) | (table["metric"] == "test/mae")).all()
    assert readme_table(table, path) in TABLES_PAGE.read_text(), "run: python -m tools.results"


def test_readme_surname_table_is_the_committed_csv() -> None:
    runs = pd.read_csv(RUNS)
    assert set(runs["shift"]) == set(SHIFTS) and set(runs["split"]) == {"val", "test"}
    assert "char n-gram naive Bayes" in set(runs["variant"])
    assert summary_table(runs) in TABLES_PAGE.read_text(), "run: python -m tools.surnames"


@pytest.mark.slow
def test_the_results_tool_runs_and_writes_a_csv() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.results", "--quick", "--models", "linear_regression"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "linear_regression default seed 0: test/mae" in done.stdout
    assert "wrote " in done.stdout
