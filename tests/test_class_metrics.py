"""Per-class figures: a classifier is judged by whom it serves, not by accuracy alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from zoo import build
from zoo.callbacks import class_recall, confusion_figure


def test_a_classifier_reports_balanced_accuracy_and_macro_f1_beside_accuracy() -> None:
    model = build("gru_names")
    metrics = model.metrics["test"]
    assert set(metrics.keys()) == {"test/acc", "test/bal_acc", "test/macro_f1"}
    logits = torch.zeros(10, 18)
    logits[:, 14] = 1.0  # always answers Russian
    target = torch.tensor([14] * 8 + [5, 17])  # 8 Russian, a French and a Vietnamese name
    metrics.update(logits, target)
    scores = {k: float(v) for k, v in metrics.compute().items()}
    assert scores["test/acc"] == pytest.approx(0.8)
    assert scores["test/bal_acc"] == pytest.approx(1 / 3)  # recalls 1, 0, 0 over the classes present
    assert scores["test/macro_f1"] == pytest.approx((2 * 0.8 / 1.8) / 3)


def test_a_language_model_keeps_accuracy_and_bits_per_character() -> None:
    assert set(build("char_rnn_shakespeare").metrics["test"].keys()) == {"test/acc", "test/bpc"}


@pytest.mark.parametrize("normalize", [False, True])
def test_the_confusion_matrix_shows_each_class_s_recall(normalize: bool) -> None:
    counts = torch.tensor([[8, 2, 0], [5, 0, 0], [0, 0, 0]])
    assert class_recall(counts)[:2].tolist() == [0.8, 0.0] and class_recall(counts)[2].isnan()
    axes = confusion_figure(counts, ["a", "b", "c"], normalize).axes[0]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["a (80%)", "b (0%)", "c (-)"]
    assert "balanced accuracy 0.400" in axes.get_title()
    assert [t.get_text() for t in axes.texts][:3] == (["0.80", "0.20", "0.00"] if normalize else ["8", "2", "0"])


@pytest.mark.parametrize("normalize", [False, True])
def test_zoo_test_draws_the_confusion_matrix_normalised_on_request(
    normalize: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zoo.callbacks
    from zoo.cli import main

    drawn: list[bool] = []
    real = zoo.callbacks.confusion_figure

    def spy(counts: torch.Tensor, labels: list[str], normalize: bool = False) -> object:
        drawn.append(normalize)
        return real(counts, labels, normalize)

    monkeypatch.setattr(zoo.callbacks, "confusion_figure", spy)
    monkeypatch.chdir(tmp_path)
    main(["test", "--model", "cnn_mnist", "--untrained", "true", "--data.source", "embedded",
          "--trainer.limit_test_batches", "1", "--trainer.enable_progress_bar", "false",
          *(["--confusion_matrix.normalize", "true"] if normalize else [])])
    assert drawn == [normalize]
    assert next(tmp_path.glob("runs/cnn_mnist/eval/version_0/confusion_matrix.png")).stat().st_size > 0
