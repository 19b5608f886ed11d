"""The lowest-versions constraints CI installs come from pyproject.toml's own lower bounds."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.version import Version

from tools.lowest_versions import REPO, lowest_constraints

UPPER_BOUNDED = ("lightning", "jsonargparse")
"""zoo builds its command line on these two, so a release CI has not run may break it: their upper
bound is the newest minor series CI tests."""


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


def test_lightning_and_jsonargparse_stop_at_the_minor_series_ci_tests() -> None:
    """The versions CI installs (constraints.txt) are allowed; the next minor release is not."""
    declared = {r.name: r for r in map(Requirement, tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
                                       ["dependencies"])}
    tested = dict(line.split("==") for line in (REPO / "constraints.txt").read_text().splitlines() if "==" in line)
    for name in UPPER_BOUNDED:
        version = Version(tested[name])
        assert declared[name].specifier.contains(version), (name, version)
        assert not declared[name].specifier.contains(f"{version.major}.{version.minor + 1}.0"), declared[name]
