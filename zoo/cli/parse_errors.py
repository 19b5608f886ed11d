"""Command-line mistakes as one line each: the option or file at fault, and what to do.

jsonargparse reports a mistake as a multi-line account of every type it tried. The line a user
gets is built from what zoo and the classes know instead: the options the parser has, each
class's constructor arguments and their annotations (the real choices of a `Literal`), the
registry's names, and the config file itself. jsonargparse's own first line is the fallback.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import re
import types
import typing
from argparse import ArgumentError, ArgumentParser, ArgumentTypeError
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from zoo.cli.raw_inputs import OPTIONS as RAW_INPUT_OPTIONS
from zoo.errors import ZooError
from zoo.registry import DATAMODULES, MODELS
from zoo.signatures import fits, hint_name, init_hints

NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")
"""What argparse itself reads as a negative number rather than an option (its own pattern)."""
MAX_YAML_NODES = 100_000
"""Values a config file or option may hold once its YAML aliases are expanded: hundreds of times
a run's config, and far below the billions a 'billion laughs' file of 500 bytes expands to."""
CONFIG_FILE_OPTIONS = ("--config", "--trainer", "--model", "--data", "--checkpoint")
"""Options whose value jsonargparse reads as a YAML file when it names one."""


class OneLineParser(ArgumentParser):
    """argparse whose mistakes are one ZooError line (the CLI prints it and exits 2)."""

    def error(self, message: str) -> NoReturn:
        raise ZooError(f"{message}; see '{self.prog} --help'")


def true_or_false(value: str) -> bool:
    """A bool written as LightningCLI's commands take one: true or false."""
    if value.lower() not in ("true", "false"):
        raise ArgumentTypeError(f"expected true or false, got {value!r}")
    return value.lower() == "true"


REPLACES = "an existing output file (never a checkpoint, a weights file or one of the command's inputs)"


def add_overwrite_argument(parser: ArgumentParser, replaces: str = REPLACES) -> None:
    """`--overwrite true`, spelt as on `zoo predict` (where LightningCLI parses it), or alone."""
    parser.add_argument("--overwrite", type=true_or_false, nargs="?", const=True, default=False,
                        metavar="true|false", help=f"replace {replaces}")


def option_values(argv: list[str]) -> Iterator[tuple[str, str | None]]:
    """(--option, value) pairs in order, for `--key value` and `--key=value`."""
    for i, token in enumerate(argv):
        if not token.startswith("--"):
            continue
        key, equals, value = token.partition("=")
        following = argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("--") else None
        yield key, value if equals else following


def named_class(value: str | None, kind: str) -> type | None:
    """The class a `--model` or `--data` value names: a registry name or a class path."""
    if not value:
        return None
    if value.isidentifier():
        registry = MODELS if kind == "model" else DATAMODULES
        if value not in registry:
            return None
        card = registry.get(value)
        return card.task if kind == "model" else card.cls  # type: ignore[union-attr]
    module, _, name = value.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None
    return found if isinstance(found, type) else None


def section_classes(argv: list[str]) -> dict[str, type | None]:
    """The classes the command line's --model and --data name (the model's own datamodule when
    no --data names one), for checking their --model.X and --data.X options."""
    classes: dict[str, type | None] = {"model": None, "data": None}
    for key, value in option_values(argv):
        if key in ("--model", "--data"):
            classes[key[2:]] = named_class(value, key[2:])
            if key == "--model" and value and value in MODELS and classes["data"] is None:
                classes["data"] = DATAMODULES.get(MODELS.get(value).datamodule).cls
    return classes


def choices(hint: Any) -> list[str]:
    """What an annotation allows, as a reader types it: a `Literal`'s values, true and false for a
    bool, null for None, the type's name for anything else (a union: each member's)."""
    if typing.get_origin(hint) is typing.Literal:
        return [str(value) for value in typing.get_args(hint)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [c for arg in typing.get_args(hint) for c in choices(arg)]
    if hint is bool:
        return ["true", "false"]
    return ["null"] if hint is type(None) else [hint_name(hint)]


def wanted(hint: Any) -> str:
    """'choose one of: ...' where the annotation names its values, else 'expected TYPE'."""
    allowed = list(dict.fromkeys(choices(hint)))
    if typing.get_origin(hint) is typing.Literal or any(typing.get_origin(a) is typing.Literal or a is bool
                                                         for a in typing.get_args(hint)):
        return "choose one of: " + ", ".join(allowed)
    return "expected " + " or ".join(allowed)


def read_value(text: str) -> Any:
    """A command-line value as the parser reads it: YAML (so '3' is 3 and 'null' is None)."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def config_problem(path: str | None) -> str | None:
    """What is wrong with a --config file, if anything."""
    import yaml

    if not path:
        return None
    if not Path(path).is_file():
        return f"config file {path!r} does not exist; pass the path of a YAML file"
    try:
        yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        detail = " ".join(str(err).split())[:160]
        return f"the config file is not valid YAML ({detail}); fix it, or write one with --print_config"
    return None


def check_yaml_inputs(argv: list[str]) -> None:
    """Refuse, before jsonargparse reads them, a config file that is not UTF-8 text, and a config
    file or an option's value whose YAML aliases expand beyond `MAX_YAML_NODES` values (which
    jsonargparse would build in memory until it runs out)."""
    for key, value in option_values(argv):
        if value is None:
            continue
        if key in CONFIG_FILE_OPTIONS and Path(value).is_file():
            check_yaml_size(config_text(Path(value)), f"config file {value!r}")
        else:
            check_yaml_size(value, f"the value of {key}")


def config_text(path: Path) -> str:
    """A config file's text; a ZooError when it cannot be read or is not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as err:
        raise ZooError(f"cannot read config file {str(path)!r} ({err.strerror}); pass a readable YAML file") from err
    except UnicodeDecodeError as err:
        raise ZooError(f"config file {str(path)!r} is not text (byte {err.object[err.start]:#04x} at offset "
                       f"{err.start} is not UTF-8); pass a YAML file, e.g. one written by --print_config") from None


def check_yaml_size(text: str, what: str) -> None:
    """Refuse YAML whose aliases expand beyond `MAX_YAML_NODES` values, counted on PyYAML's node
    graph (`yaml.compose_all`, where an alias is its anchor's node again), never expanded; YAML
    that does not parse is left to the parser, which says so."""
    import yaml

    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError):
        return
    if sum(expanded_size(root, MAX_YAML_NODES) for root in documents if root is not None) > MAX_YAML_NODES:
        raise ZooError(f"{what} expands to more than {MAX_YAML_NODES:,} values through its YAML aliases "
                       "(*name); write the values out, or use fewer aliases")


def expanded_size(root: Any, limit: int) -> int:
    """The values under a YAML node once every alias is expanded, counting up to `limit` + 1 (an
    alias inside its own anchor, which never ends, counts as `limit` + 1)."""
    sizes: dict[int, int] = {}
    inside: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            inside.discard(id(node))
            sizes[id(node)] = min(limit + 1, 1 + sum(sizes[id(child)] for child in node_children(node)))
        elif id(node) in inside:
            return limit + 1
        elif id(node) not in sizes:
            inside.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node_children(node))
    return sizes[id(root)]


def node_children(node: Any) -> list[Any]:
    """A YAML node's children: a sequence's items, a mapping's keys and values."""
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def option_problem(key: str, value: str | None, known: list[str], classes: dict[str, type | None]) -> str | None:
    """What is wrong with one option: unknown, or a value its annotation does not allow."""
    section, _, name = key[2:].partition(".")
    cls = classes.get(section) if section in classes else None
    if section in ("trainer", "checkpoint") and name:
        cls = lightning_class(section)
    if cls is not None and name:
        hints = init_hints(cls)
        if name not in hints and "." not in name:
            return unknown_option(key, [f"--{section}.{n}" for n in hints])
        hint = hints.get(name, Any)
        given = read_value(value) if value is not None else None
        if isinstance(given, dict) and isinstance(given.get("class_path"), str):
            return class_path_problem(key, given["class_path"])
        if value is not None and not fits(given, hint):
            return f"{key} cannot be {value!r}; {wanted(hint)}"
        return None
    if key not in known and section not in ("model", "data"):
        return unknown_option(key, known)
    option = RAW_INPUT_OPTIONS.get(key[2:])
    if option is not None and value is not None and not fits(read_value(value), option[0]):
        return f"{key} cannot be {value!r}; {wanted(option[0])}"
    return None


def class_path_problem(key: str, path: str) -> str | None:
    """What is wrong with a `{class_path: ...}` value, if its module cannot be found: a network of
    one's own lives in a file Python is not told to look in. Only the top package is looked for,
    which runs none of its code."""
    module, _, name = path.rpartition(".")
    if not module or not name:
        return (f"{key}'s class_path {path!r} is not module.Class; write e.g. mynet.TinyNet for class TinyNet "
                "in mynet.py")
    top = module.partition(".")[0]
    if top.isidentifier() and importlib.util.find_spec(top) is None:
        return (f"{key}'s class_path {path!r}: no module {top!r} can be imported from here; put the folder holding "
                f"{top}.py on the path, e.g. PYTHONPATH=. zoo ... when it is in this folder")
    return None


def lightning_class(section: str) -> type:
    from lightning.pytorch import Trainer
    from lightning.pytorch.callbacks import ModelCheckpoint

    return Trainer if section == "trainer" else ModelCheckpoint


def one_line(err: ArgumentError, parser: Any, argv: list[str]) -> str:
    """The mistake in `argv` (a subcommand and its options) as one line, found by checking each
    option against what the parser and the classes accept."""
    command = parser_of(parser, argv[0] if argv else None)
    known = [o for o in getattr(command, "_option_string_actions", {}) if o.startswith("--")]
    classes = section_classes(argv)
    dashed = [token for token in argv[1:] if token.startswith("-") and not token.startswith("--")
              and not NEGATIVE_NUMBER.match(token) and token != "-"]
    if dashed:
        return (f"{dashed[0]!r} reads as an option; put inputs that start with '-' after '--', "
                f"e.g. zoo {argv[0]} ... -- {dashed[0]}")
    for key, value in option_values(argv[1:]):
        problem = config_problem(value) if key == "--config" else option_problem(key, value, known, classes)
        if problem:
            return problem
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    command_name = argv[0] if argv else "fit"
    first = lines[0] if lines else "the arguments could not be parsed"
    reason = first_reason(lines)
    if first.endswith(":") and reason:  # 'Parser key "model":', then why each type refused the value
        first = f"{first} {reason}"
    return f"{first}; see 'zoo {command_name} --help'"


def first_reason(lines: list[str]) -> str:
    """The first of the reasons jsonargparse lists ('- ...' and the lines under it), as one line."""
    start = next((i for i, line in enumerate(lines) if line.startswith("- ")), None)
    if start is None:
        return ""
    parts = [lines[start][2:]]
    for line in lines[start + 1:]:
        if line.startswith(("- ", "Given value")):
            break
        parts.append(line)
    return " ".join(parts)


def unknown_option(option: str, known: list[str]) -> str:
    close = difflib.get_close_matches(option, list(dict.fromkeys(known)), n=2, cutoff=0.6)
    hint = "did you mean " + " or ".join(close) + "?" if close else "see 'zoo fit --help' for the options"
    return f"unknown option {option}; {hint}"


def parser_of(parser: Any, subcommand: str | None) -> Any:
    """The subcommand's own parser (argparse keeps it by name), else the parser itself."""
    subcommands = getattr(parser, "_subcommands_action", None)
    return subcommands._name_parser_map.get(subcommand, parser) if subcommands and subcommand else parser
