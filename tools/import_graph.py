"""Development tool: print zoo's import graph and check that imports run one way.

`python -m tools.import_graph` lists every import between zoo's modules (those inside functions
too), then fails if a module imports one from a higher layer, if one package of a layer imports
another of the same layer (models and datamodules know nothing of each other), or if the graph
has a cycle. The layers, lowest first, are the project's
rule: errors and recipes, registry, networks and tasks, models and datamodules, training,
commands; `zoo serve` is a command in its own package, above the commands it shares parsing with.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "zoo"
LAYERS: list[tuple[str, ...]] = [
    ("zoo", "zoo.errors", "zoo.checks", "zoo.files", "zoo.recipes", "zoo.tutorials", "zoo.text", "zoo.notice",
     "zoo.pretrained", "zoo.answers", "zoo.inputs"),
    ("zoo.registry", "zoo.building", "zoo.signatures"),
    ("zoo.tasks", "zoo.metrics"),
    ("zoo.models", "zoo.datamodules"),
    ("zoo.training", "zoo.runs", "zoo.checkpoints", "zoo.export", "zoo.curves", "zoo.callbacks",
     "zoo.logs", "zoo.weights_build"),
    ("zoo.cli", "zoo.__main__"),
    ("zoo.serve",),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The zoo modules `path` imports anywhere in its body, as full module names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules}


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    return {name: imports_of(path, set(files)) - {name} for name, path in files.items()}


def layer_of(module: str) -> tuple[int, str]:
    """(layer, group): the group is the entry of LAYERS the module falls under."""
    best = (-1, "")
    for level, groups in enumerate(LAYERS):
        for group in groups:
            if (module == group or module.startswith(group + ".")) and len(group) > len(best[1]):
                best = (level, group)
    if best[0] < 0:
        raise SystemExit(f"module {module} has no layer: add it to LAYERS in tools/import_graph.py")
    return best


def is_package(group: str) -> bool:
    return group != "zoo" and (PACKAGE / group.removeprefix("zoo.").replace(".", "/")).is_dir()


def violations(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(edges.items()):
        level, group = layer_of(module)
        for target in sorted(targets):
            target_level, target_group = layer_of(target)
            across_packages = is_package(group) and is_package(target_group) and group != target_group
            if target_level > level or (target_level == level and across_packages):
                found.append(f"{module} (layer {level}) imports {target} (layer {target_level})")
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    return found


def main() -> int:
    edges = graph()
    for module, targets in sorted(edges.items()):
        print(f"{module} -> {', '.join(sorted(targets)) or '(nothing in zoo)'}")
    problems = violations(edges) + [" -> ".join(c) for c in cycles(edges)]
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} imports, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
