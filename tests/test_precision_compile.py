"""The GPU-path options on every model: bf16 mixed precision and the opt-in torch.compile.

They run on the CPU in CI, and on a GPU with ZOO_TEST_ACCELERATOR=gpu. Compiling every model
takes minutes, so both carry the slow marker. On the CPU, bf16 recurrent layers go through
oneDNN, which refuses processors without the AVX-512 (or AVX-NE-CONVERT) instructions it needs:
such a model is skipped there, with the processor's own reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import TEST_ACCELERATOR, SyntheticDataModule, quiet_trainer
from torch import nn

from zoo import build, list_models


def cpu_bf16_refusal(model: nn.Module) -> str | None:
    """Why this processor cannot run `model`'s recurrent layers under bf16 autocast, found by
    trying one small layer of each kind it has; None when it can (or the model has none)."""
    for kind in {type(layer) for layer in model.modules() if isinstance(layer, nn.RNNBase)}:
        probe = kind(4, 4)
        try:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                probe(torch.randn(2, 1, 4))[0].float().sum().backward()
        except RuntimeError as err:
            return str(err).splitlines()[0]
    return None


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_bf16_mixed_precision_fits(name: str, tmp_path: Path) -> None:
    model = build(name)
    refusal = cpu_bf16_refusal(model) if TEST_ACCELERATOR == "cpu" else None
    if refusal:
        pytest.skip(f"this processor runs no bf16 recurrent layers: {refusal}")
    trainer = quiet_trainer(tmp_path, fast_dev_run=True, precision="bf16-mixed")
    trainer.fit(model, datamodule=SyntheticDataModule(model, str(tmp_path)))
    assert torch.isfinite(trainer.callback_metrics["train/loss"])


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_torch_compile_fits_and_matches_eager(name: str, tmp_path: Path) -> None:
    model = build(name, compile=True)
    data = SyntheticDataModule(model, str(tmp_path))
    trainer = quiet_trainer(tmp_path, fast_dev_run=True)
    trainer.fit(model, datamodule=data)
    assert hasattr(model.forward, "_torchdynamo_orig_callable"), "forward was not compiled"
    eager = build(name)
    eager.load_state_dict(model.state_dict())
    eager.use_channels_last()
    device = next(model.parameters()).device
    model.eval()
    eager.to(device).eval()
    inputs = [tensor.to(device) for tensor in model.split(data.example)[0]]
    with torch.no_grad():
        torch.testing.assert_close(model(*inputs), eager(*inputs), rtol=1e-4, atol=1e-4)
