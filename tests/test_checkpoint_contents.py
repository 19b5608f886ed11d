"""What a checkpoint holds is checked before anything is built from it: keys the task does not
take, hyperparameters of the wrong shape or type, sizes that would allocate more than the file
holds, weights that are not finite tensors. Each is one line, from Python and from the command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from zoo import ZooError, build, load_checkpoint
from zoo.cli import main

Checkpoint = dict[str, Any]


def written_by_lightning_cli(name: str) -> Checkpoint:
    """A checkpoint as `zoo fit` writes one: LightningCLI adds `_class_path` and `_instantiator`
    beside the task's own arguments."""
    model = build(name)
    hparams = dict(model.hparams) | {"_class_path": f"zoo.tasks.{type(model).__name__}",
                                     "_instantiator": "lightning.pytorch.cli.instantiate_module"}
    return {"hyper_parameters": hparams, "state_dict": model.state_dict(), "epoch": 0, "global_step": 1}


def changed(change: Callable[[Checkpoint], None], name: str = "linear_regression") -> Checkpoint:
    checkpoint = written_by_lightning_cli(name)
    change(checkpoint)
    return checkpoint


def set_hparam(key: str, value: Any) -> Callable[[Checkpoint], None]:
    return lambda c: c["hyper_parameters"].__setitem__(key, value)


def set_key(key: str, value: Any) -> Callable[[Checkpoint], None]:
    return lambda c: c.__setitem__(key, value)


def nan_weight(c: Checkpoint) -> None:
    c["state_dict"]["net.linear.weight"] = torch.full_like(c["state_dict"]["net.linear.weight"], float("nan"))


CASES = [
    pytest.param(changed(set_hparam("surprise", 1)), ["hyperparameter 'surprise'", "does not take"],
                 id="unknown-hyperparameter"),
    pytest.param(changed(set_key("hyper_parameters", [1, 2])), ["hyper_parameters of type list", "not a mapping"],
                 id="hyperparameters-not-a-mapping"),
    pytest.param(changed(set_hparam("lr", "fast")), ["cannot build model 'linear_regression'"],
                 id="hyperparameter-of-the-wrong-type"),
    pytest.param(changed(set_hparam("lr", -1.0)), ["cannot rebuild model 'linear_regression'", "lr must be positive"],
                 id="hyperparameter-out-of-range"),
    pytest.param(changed(set_hparam("net", 7)), ["not written by a registered zoo model"], id="net-not-a-name"),
    pytest.param(changed(set_hparam("net", "linear_regresion")), ["did you mean 'linear_regression'"],
                 id="net-unknown"),
    pytest.param(changed(set_key("state_dict", [torch.zeros(1)])), ["holds a list as its state_dict"],
                 id="state-dict-a-list"),
    pytest.param(changed(set_key("state_dict", None)), ["holds none as its state_dict"], id="no-state-dict"),
    pytest.param(changed(lambda c: c["state_dict"].__setitem__("net.linear.bias", [0.0])),
                 ["a list as weight 'net.linear.bias'"], id="weight-not-a-tensor"),
    pytest.param(changed(nan_weight), ["non-finite weights", "'net.linear.weight'", "lower --model.lr"],
                 id="nan-weights"),
    pytest.param(changed(lambda c: c["state_dict"].pop("net.linear.bias")), ["do not fit model 'linear_regression'"],
                 id="weight-missing"),
    pytest.param(changed(set_hparam("net_args", {"hidden_size": 10**6}), name="gru_names"),
                 ["do not fit model 'gru_names'",
                  "'net.embedding.weight': 128x1000000 in the model, 128x100 in the file"],
                 id="size-of-512-gigabytes"),
]


@pytest.mark.parametrize(("checkpoint", "expected"), CASES)
def test_load_checkpoint_refuses(checkpoint: Checkpoint, expected: list[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.ckpt"
    torch.save(checkpoint, path)
    with pytest.raises(ZooError) as refusal:
        load_checkpoint(path)
    message = str(refusal.value)
    assert "\n" not in message and "'" + str(path) + "'" in message, message
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize(("checkpoint", "expected"), CASES[:4] + CASES[9:10])
def test_zoo_test_refuses_in_one_line(
    checkpoint: Checkpoint, expected: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    torch.save(checkpoint, tmp_path / "bad.ckpt")
    with pytest.raises(SystemExit) as exit_info:
        main(["test", "--model", "linear_regression", "--ckpt_path", "bad.ckpt"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("zoo: error: ") and expected[0] in lines[0], err
    assert not (tmp_path / "runs").exists()


def test_a_checkpoint_from_lightning_cli_loads_with_its_weights(tmp_path: Path) -> None:
    checkpoint = written_by_lightning_cli("linear_regression")
    checkpoint["state_dict"]["net.linear.weight"].fill_(2.0)
    torch.save(checkpoint, tmp_path / "cli.ckpt")
    model = load_checkpoint(tmp_path / "cli.ckpt")
    assert model.net.linear.weight.item() == 2.0
