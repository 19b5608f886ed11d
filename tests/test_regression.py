"""The regression and binary tutorials: their tasks, toy data, diabetes loading and results."""

from __future__ import annotations

import gzip
import hashlib
import urllib.error
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch

from zoo import build
from zoo.curves import crossing, probability_curve
from zoo.datamodules.diabetes import FILENAME, DiabetesDataModule
from zoo.datamodules.toy import HousePricesDataModule
from zoo.errors import ZooError
from zoo.training import fit

QUIET: dict[str, Any] = {
    "accelerator": "cpu",
    "logger": False,
    "enable_checkpointing": False,
    "enable_progress_bar": False,
    "enable_model_summary": False,
}


def train(name: str, recipe: str = "default", seed: int = 0, **kwargs: Any) -> pl.LightningModule:
    pl.seed_everything(seed, verbose=False)
    return fit(name, recipe, test=False, **(QUIET | kwargs)).model


def test_linear_regression_learns_y_equals_2x_and_predicts_8_at_4() -> None:
    model = train("linear_regression")
    assert model.net.linear.weight.item() == pytest.approx(2.0, abs=0.01)
    assert model.net.linear.bias.item() == pytest.approx(0.0, abs=0.03)
    prediction = model.predict_step((torch.tensor([[4.0]]),), 0)
    assert prediction.item() == pytest.approx(8.0, abs=0.02)


def test_logistic_regression_curve_crosses_one_half_between_2_and_3_hours() -> None:
    model = train("logistic_regression")
    hours, probs = probability_curve(model, 0.0, 10.0)
    assert probs[0] < 0.5 < probs[-1]
    assert 2.0 < crossing(hours, probs) < 3.0


def test_crossing_interpolates_and_says_when_there_is_none() -> None:
    xs = torch.tensor([0.0, 1.0, 2.0])
    assert crossing(xs, torch.tensor([0.0, 0.25, 0.75])) == pytest.approx(1.5)
    assert crossing(xs, torch.tensor([0.1, 0.2, 0.3])) is None


def test_probability_curve_refuses_a_model_without_one_input() -> None:
    with pytest.raises(ZooError, match="one number per sample"):
        probability_curve(build("diabetes_mlp"))


def test_house_prices_are_the_tutorials_seed_1_points() -> None:
    area, price = HousePricesDataModule().load()["train"]
    assert area.flatten().tolist() == [35, 39, 34, 18, 23, 23, 21, 21, 39, 22]
    # the tutorial's first printed loss, 0.5 * MSE at w = 2, b = 0 (003 line 300)
    assert (0.5 * ((2 * area - price) ** 2).mean()).item() == pytest.approx(3678.266357421875)


def test_house_price_tutorial_recipe_takes_the_tutorials_six_steps() -> None:
    model = train("house_price_regression", recipe="tutorial")
    assert model.trainer.global_step == 6
    assert model.net.w.item() == pytest.approx(5.8764, abs=1e-3)
    assert model.net.b.item() == pytest.approx(0.1303, abs=1e-3)


def test_sum_reduction_is_the_mean_times_the_number_of_values() -> None:
    output, target = torch.randn(5, 2), torch.randn(5, 2)
    mean = build("two_layer_net", reduction="mean").loss(output, target)
    total = build("two_layer_net", reduction="sum").loss(output, target)
    assert total.item() == pytest.approx(10 * mean.item(), rel=1e-6)


def test_an_unknown_reduction_is_refused() -> None:
    with pytest.raises(ZooError, match="unknown reduction 'avg'"):
        build("linear_regression", reduction="avg")


def test_binary_prediction_is_the_probability_of_class_1() -> None:
    model = build("logistic_regression").eval()
    with torch.no_grad():
        model.net.linear.weight.fill_(1.0)
        model.net.linear.bias.fill_(-2.5)
    predictions = model.predict_step((torch.tensor([[2.5], [100.0]]),), 0)
    torch.testing.assert_close(predictions, torch.tensor([[0.5], [1.0]]))


def write_diabetes(folder: Path, rows: int = 40) -> str:
    """A gzip CSV in the real file's format; returns its md5."""
    generator = torch.Generator().manual_seed(0)
    features = torch.rand(rows, 8, generator=generator) * 2 - 1
    lines = [
        ",".join(f"{v:.6g}" for v in row) + f",{i % 2}" for i, row in enumerate(features.tolist())
    ]
    path = folder / FILENAME
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_diabetes_loads_a_checked_file_into_seeded_splits(tmp_path: Path) -> None:
    md5 = write_diabetes(tmp_path)
    data = DiabetesDataModule(str(tmp_path), md5=md5)
    assert data.split_sizes() == {"train": 27, "val": 5, "test": 8}
    features, labels = data.splits["train"]
    assert features.shape == (27, 8) and labels.shape == (27, 1)
    assert features.dtype == labels.dtype == torch.float32
    other_seed = DiabetesDataModule(str(tmp_path), md5=md5, seed=7)
    other_seed.setup()
    torch.testing.assert_close(other_seed.splits["test"], data.splits["test"])
    assert not torch.equal(other_seed.splits["val"][0], data.splits["val"][0])
    every_row = torch.cat([data.splits[s][0] for s in ("train", "val", "test")])
    assert len(torch.unique(every_row, dim=0)) == 40


def test_diabetes_refuses_a_file_with_the_wrong_md5(tmp_path: Path) -> None:
    write_diabetes(tmp_path)
    with pytest.raises(ZooError, match="does not have md5 b7f372850118dfaf306e2f334e6a718f"):
        DiabetesDataModule(str(tmp_path)).setup()
    assert DiabetesDataModule(str(tmp_path), md5=None).split_sizes()["test"] == 8


def test_diabetes_refuses_a_table_without_9_columns(tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_bytes(gzip.compress(b"1,2,3\n4,5,6\n"))
    with pytest.raises(ZooError, match="has 3 columns, expected 9"):
        DiabetesDataModule(str(tmp_path), md5=None).setup()


def test_diabetes_offline_without_the_file_says_where_to_put_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(url: str, root: str, filename: str, md5: str | None) -> None:
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("torchvision.datasets.utils.download_url", offline)
    folder = tmp_path / "data"
    with pytest.raises(ZooError, match=f"not in {folder} and could not be downloaded") as err:
        DiabetesDataModule(str(folder)).setup()
    assert "PyTorchZeroToAll/master/data/diabetes.csv.gz" in str(err.value)


def test_a_corrupt_download_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def corrupt(url: str, root: str, filename: str, md5: str | None) -> None:
        (Path(root) / filename).write_bytes(b"<html>rate limited</html>")
        raise RuntimeError("File not found or corrupted.")

    monkeypatch.setattr("torchvision.datasets.utils.download_url", corrupt)
    with pytest.raises(ZooError, match="could not be downloaded"):
        DiabetesDataModule(str(tmp_path)).setup()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_diabetes_mlp_default_recipe_beats_the_majority_class(real_data_dir: Path) -> None:
    pl.seed_everything(0, verbose=False)
    run = fit("diabetes_mlp", datamodule=DiabetesDataModule(str(real_data_dir)), **QUIET)
    assert run.test["test/acc"] > 0.7  # 65 % of the rows are ones
    assert run.test["test/auroc"] > 0.8


@pytest.mark.slow
def test_cli_house_tutorial_recipe_stops_below_the_threshold(run_zoo) -> None:
    result = run_zoo("fit", "--model", "house_price_regression", "--recipe", "tutorial")
    assert result.returncode == 0, result.stderr
    # the best checkpoint is the one before the tutorial's last, overshooting step:
    # MSE 1.1699 = 2 x the tutorial's printed 0.5 * MSE of 0.58497 (003 line 310)
    assert "test/loss 1.1699" in result.stdout
