"""The GPU-path options on every model: bf16 mixed precision and the opt-in torch.compile.

They run on the CPU in CI, and on a GPU with ZOO_TEST_ACCELERATOR=gpu. Compiling every model
takes minutes, so both carry the slow marker."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import SyntheticDataModule, quiet_trainer

from zoo import build, list_models


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_bf16_mixed_precision_fits(name: str, tmp_path: Path) -> None:
    model = build(name)
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
