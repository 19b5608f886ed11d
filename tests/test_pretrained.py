"""The weights zoo ships: each file matches its card's hash and still scores what its card says."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest
import torch

from zoo import ZooError, build, build_net, model_card
from zoo.cli import main
from zoo.datamodules.base import rows_seen
from zoo.pretrained import cards, load_state, measured_on, weights_dir
from zoo.weights_build import METRICS_SUFFIX, build_weights, evaluate_pretrained

SHIPPED = cards()
REAL_DATA = {"diabetes", "names", "shakespeare"}


def test_weights_are_shipped_for_every_model_whose_data_zoo_holds() -> None:
    from zoo.cli.weights import default_models

    assert sorted(SHIPPED) == sorted(default_models())


def test_every_shipped_network_comes_from_the_same_seed() -> None:
    """No seed is chosen per model: a recipe that needs a lucky seed is a recipe to fix."""
    assert {card["seed"] for card in SHIPPED.values()} == {0}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_file_matches_its_card(name: str) -> None:
    card = SHIPPED[name]
    state = load_state(name)
    assert sum(t.numel() for t in state.values()) == card["params"] == model_card(name).num_params
    net = build_net(name, pretrained=True)
    for key, tensor in net.state_dict().items():
        assert torch.equal(tensor, state[key]), key
    assert torch.equal(build(name, pretrained=True).net.state_dict()[key], state[key])


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_pretrained_weights_reproduce_their_card_metrics(name: str, request: pytest.FixtureRequest) -> None:
    data_dir = None
    if model_card(name).datamodule in REAL_DATA:
        data_dir = str(request.getfixturevalue("real_data_dir"))
    measured = evaluate_pretrained(name, data_dir)
    card = SHIPPED[name]
    expected = card["train"] if "train" in card else card["test"]
    assert measured.keys() == expected.keys()
    for key, value in expected.items():
        if key.endswith("/acc"):
            assert measured[key] == value, key
        else:
            assert math.isclose(measured[key], value, rel_tol=1e-5, abs_tol=1e-7), key


def test_zoo_test_with_pretrained_weights_scores_the_card_and_says_what_they_saw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    main(["test", "--model", "cnn_mnist", "--pretrained", "true", "--data.source", "embedded",
          "--trainer.enable_progress_bar", "false"])
    out = capsys.readouterr().out
    card = SHIPPED["cnn_mnist"]["test"]
    acc, balanced, macro_f1 = card["test/acc"], card["test/bal_acc"], card["test/macro_f1"]
    assert ("shipped cnn_mnist weights, trained on mnist 4,000/0/1,000 (train/val/test); their card: "
            f"test/acc {acc:.4f} (balanced {balanced:.4f}, macro F1 {macro_f1:.4f}) on 1,000 mnist test rows") in out
    assert f"zoo: test on 1,000 mnist test rows, none seen in training by these weights: test/acc {acc:.4f}," in out
    assert not list(tmp_path.glob("runs/**/*.ckpt"))


def test_zoo_test_with_pretrained_weights_says_when_it_scores_rows_they_trained_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    main(["test", "--model", "rnn_hello", "--pretrained", "true", "--trainer.enable_progress_bar", "false"])
    out = capsys.readouterr().out
    assert "on 1 hello test row, all seen in training" in out
    assert ("zoo: test on 1 hello test row, all seen in training by these weights "
            "(a measure of fit, not a test): ") in out


def test_rows_seen_counts_inputs_met_in_training_whatever_their_padding() -> None:
    trained = (torch.tensor([[1, 2, 0], [3, 0, 0]]), torch.tensor([0, 1]))
    scored = (torch.tensor([[3, 0], [1, 2], [2, 1]]), torch.tensor([1, 1, 0]))
    assert rows_seen(trained, scored) == 2


def test_every_card_counts_its_test_rows_seen_in_training() -> None:
    for name, card in SHIPPED.items():
        data = card["data"]
        rows = data.get("twin_split_sizes", data["split_sizes"])["test"]
        assert 0 <= card["test_rows_seen"] <= rows, name
        assert (", all seen in training" in measured_on(card)) == (card["test_rows_seen"] == rows > 0), name


def test_zoo_weights_list_gives_each_file_its_hash_size_and_test_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    main(["weights", "list"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(SHIPPED)
    for line, (name, card) in zip(lines, SHIPPED.items(), strict=True):
        assert line.split()[:3] == [name, card["sha256"][:12], f"{card['bytes']:,}"]
        assert all(f"{key} {value:.4f}" in line for key, value in card["test"].items())
        assert line.endswith(f" on {measured_on(card)}")
        assert ("a twin's" in line) == ("train" in card)


def test_a_changed_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    name = sorted(SHIPPED)[0]
    shutil.copytree(weights_dir(), tmp_path / "weights")
    path = tmp_path / "weights" / SHIPPED[name]["file"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ZooError, match="does not match its card's sha256"):
        load_state(name, tmp_path / "weights")


DAMAGED_CARDS = [
    (lambda text: text[: len(text) // 2], r"are damaged \(not JSON: .*, line \d+ column \d+\)"),
    (lambda text: b"\xff\xfe" + text, r"are damaged \(not UTF-8: invalid start byte\)"),
    (lambda text: b"[" + text + b"]", r"are damaged \(not an object of one card per model\)"),
]


@pytest.mark.parametrize("damage", [d for d, _ in DAMAGED_CARDS], ids=["truncated", "not-utf8", "a-list"])
def test_damaged_weight_cards_are_one_line_naming_the_file_and_the_fix(tmp_path: Path, damage) -> None:
    words = dict(DAMAGED_CARDS)[damage]
    (tmp_path / "cards.json").write_bytes(damage((weights_dir() / "cards.json").read_bytes()))
    fix = "reinstall zoo (pip install --force-reinstall), or rebuild the weights and cards with 'zoo weights build'"
    with pytest.raises(ZooError) as err:
        cards(tmp_path)
    expected = re.escape(f"the weight cards {tmp_path / 'cards.json'} ") + words + re.escape(f"; {fix}")
    assert re.fullmatch(expected, str(err.value)), str(err.value)


def test_zoo_with_truncated_weight_cards_is_one_line(run_zoo, tmp_path: Path) -> None:
    copy = tmp_path / "installed"
    shutil.copytree(Path(__file__).resolve().parents[1] / "zoo", copy / "zoo",
                    ignore=shutil.ignore_patterns("*.safetensors", "__pycache__"))
    cards_file = copy / "zoo" / "weights" / "cards.json"
    cards_file.write_bytes(cards_file.read_bytes()[:1000])
    result = run_zoo("predict", "--model", "logistic_regression", "2.5", extra_env={"PYTHONPATH": str(copy)})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"zoo: error: the weight cards {cards_file} are damaged (not JSON: ")
    assert result.stderr.count("\n") == 1 and "reinstall zoo" in result.stderr


def test_a_model_without_weights_says_how_to_make_them() -> None:
    with pytest.raises(ZooError, match="zoo weights build cnn_cifar10"):
        build("cnn_cifar10", pretrained=True)


def test_weights_trained_on_every_row_are_tested_through_a_twin(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipes = model_card("gru_names").recipes
    monkeypatch.setitem(recipes, "pretrained", recipes["pretrained"].but(max_epochs=1))
    card = build_weights("gru_names", str(real_data_dir), tmp_path)
    rows = sum(card["data"]["split_sizes"].values())
    assert card["data"]["split_sizes"] == {"train": rows, "val": 0, "test": 0}
    twin = card["data"]["twin_split_sizes"]
    assert twin["val"] == 0 and 0 < twin["test"] < rows and twin["train"] + twin["test"] == rows
    assert set(card["test"]) == {"test/acc", "test/bal_acc", "test/macro_f1", "test/loss"}
    assert set(card["train"]) == {"train/acc", "train/bal_acc", "train/macro_f1", "train/loss"}
    assert list(card["test_recall"]) == list(model_card("gru_names").labels)
    assert all(0.0 <= recall <= 1.0 for recall in card["test_recall"].values())
    assert cards(tmp_path) == {"gru_names": card}
    assert sum(t.numel() for t in load_state("gru_names", tmp_path).values()) == card["params"]


def test_a_card_gives_class_recalls_only_for_one_class_per_sample(tmp_path: Path) -> None:
    card = build_weights("rnn_hello", None, tmp_path)  # one prediction per character: no per-class table
    assert "test_recall" not in card and card["test"]["test/bal_acc"] == 1.0 and card["seed"] == 0


def test_a_build_keeps_each_epoch_s_metrics_beside_the_weights_they_name(tmp_path: Path) -> None:
    card = build_weights("linear_regression", None, tmp_path)
    record = json.loads((tmp_path / f"linear_regression{METRICS_SUFFIX}").read_text())
    assert record["weights_sha256"] == card["sha256"]
    assert [row["epoch"] for row in record["epochs"]] == list(range(1, card["epochs"] + 1))
    assert record["epochs"][-1]["train/loss"] < record["epochs"][0]["train/loss"] / 1000


def test_a_recipe_with_nothing_to_test_on_is_refused_before_training(
    real_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipes = model_card("gru_names").recipes
    monkeypatch.setitem(recipes, "pretrained", recipes["pretrained"].but(estimate_with={}))
    with pytest.raises(ZooError, match="leaves no test split and names no twin"):
        build_weights("gru_names", str(real_data_dir), tmp_path)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("progress", [True, False])
def test_a_weights_build_shows_zoo_s_progress_bar_only_when_asked(
    progress: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from zoo.callbacks import TimedProgressBar
    from zoo.training import run_datamodule
    from zoo.weights_build import train

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # `zoo weights build` asks only on a terminal
    run = train("rnn_hello", "default", 0, run_datamodule("rnn_hello"), progress)
    assert isinstance(run.trainer.progress_bar_callback, TimedProgressBar) is progress
