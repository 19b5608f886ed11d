"""The weights zoo ships: each file matches its card's hash and still scores what its card says."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch

from zoo import ZooError, build, build_net, model_card
from zoo.pretrained import cards, load_state, weights_dir
from zoo.weights_build import evaluate_pretrained

SHIPPED = cards()
REAL_DATA = {"diabetes", "names", "shakespeare"}


def test_weights_are_shipped_for_every_model_whose_data_zoo_holds() -> None:
    from zoo.cli.weights import DEFAULT_MODELS

    assert sorted(SHIPPED) == sorted(DEFAULT_MODELS)


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
    expected = SHIPPED[name]["test"]
    assert measured.keys() == expected.keys()
    for key, value in expected.items():
        if key.endswith("/acc"):
            assert measured[key] == value, key
        else:
            assert math.isclose(measured[key], value, rel_tol=1e-5, abs_tol=1e-7), key


def test_a_changed_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    name = sorted(SHIPPED)[0]
    shutil.copytree(weights_dir(), tmp_path / "weights")
    path = tmp_path / "weights" / SHIPPED[name]["file"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ZooError, match="does not match its card's sha256"):
        load_state(name, tmp_path / "weights")


def test_a_model_without_weights_says_how_to_make_them() -> None:
    with pytest.raises(ZooError, match="zoo weights build cnn_cifar10"):
        build("cnn_cifar10", pretrained=True)
