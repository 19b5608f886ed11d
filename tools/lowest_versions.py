"""Development tool: the lowest versions pyproject.toml allows, as a pip constraints file, so CI
can install them and prove the declared lower bounds still work.

`python -m tools.lowest_versions [--keep torch torchvision]` prints `name==lower` for every
dependency of the package and of the extras named by `--extras`; packages named by `--keep` are
left out (torch and torchvision come from the machine's local copy, not from their lowest
release). A dependency without a lower bound is an error: nothing would say what CI tested.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tomllib
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]


def lower_bound(requirement: Requirement) -> str:
    """The version a requirement's `>=` (or `==`) names."""
    for spec in requirement.specifier:
        if spec.operator in (">=", "==", "~="):
            return spec.version
    raise SystemExit(f"lowest_versions: {requirement} has no lower bound; give it one in pyproject.toml")


def lowest_constraints(pyproject: Path, extras: list[str], keep: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    texts = list(project["dependencies"])
    for extra in extras:
        texts += project["optional-dependencies"][extra]
    lines = []
    for text in texts:
        requirement = Requirement(text)
        if requirement.name not in keep:
            lines.append(f"{requirement.name}=={lower_bound(requirement)}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.lowest_versions", description=__doc__.splitlines()[0])
    parser.add_argument("--extras", nargs="*", default=["dev", "export"], help="extras whose dependencies count too")
    parser.add_argument("--keep", nargs="*", default=["torch", "torchvision"],
                        help="packages left to the install command (the machine's local torch)")
    args = parser.parse_args(argv)
    sys.stdout.write("\n".join(lowest_constraints(REPO / "pyproject.toml", args.extras, args.keep)) + "\n")


if __name__ == "__main__":
    main()
