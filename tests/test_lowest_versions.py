"""The lowest-versions constraints CI installs come from pyproject.toml's own lower bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.lowest_versions import REPO, lowest_constraints


def test_every_declared_dependency_is_pinned_to_its_lower_bound_except_the_local_torch() -> None:
    lines = lowest_constraints(REPO / "pyproject.toml", ["dev", "export"], ["torch", "torchvision"])
    pins = dict(line.split("==") for line in lines)
    assert "torch" not in pins and "torchvision" not in pins
    assert {"lightning", "jsonargparse", "pandas", "pytest", "onnxruntime"} <= set(pins)
    assert all(version[0].isdigit() for version in pins.values())


def test_a_dependency_without_a_lower_bound_is_refused(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["numpy>=1.26", "rich"]\n')
    with pytest.raises(SystemExit, match="rich has no lower bound"):
        lowest_constraints(pyproject, [], [])
