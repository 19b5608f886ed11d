"""Command-line mistakes as one line each: the option or file at fault, and what to do.

jsonargparse reports a mistake as a multi-line account of every type it tried; a user needs
the option, the value and the fix, with a "did you mean" from the real option names.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
from argparse import ArgumentError, ArgumentParser
from typing import Any, NoReturn

from zoo.errors import ZooError

FALLBACK_HINT = "see 'zoo fit --help' for the options"


class OneLineParser(ArgumentParser):
    """argparse whose mistakes are one ZooError line (the CLI prints it and exits 2)."""

    def error(self, message: str) -> NoReturn:
        raise ZooError(f"{message}; see '{self.prog} --help'")


def one_line(err: ArgumentError, parser: Any, subcommand: str | None, defaults: dict[str, Any]) -> str:
    message = str(err)
    unknown = re.search(r"unrecognized arguments: (\S+)", message, re.IGNORECASE)
    if unknown:
        option = unknown.group(1).split("=")[0]
        return unknown_option(option, parser_options(parser, subcommand) + class_options(defaults))
    refused = re.search(r'Parser key "(model|data)".*?Option \'(\w+)\' is not accepted', message, re.DOTALL)
    if refused:
        option = f"--{refused.group(1)}.{refused.group(2)}"
        return unknown_option(option, class_options(defaults))
    missing = re.search(r"File does not exist: '?([^'\n]+)'?", message)
    if missing:
        return f"config file {missing.group(1)!r} does not exist; pass the path of a YAML file"
    bad_yaml = re.search(r"Problems parsing config: ?(.*)", message)
    if bad_yaml:
        detail = " ".join(bad_yaml.group(1).split())[:160]
        return f"the config file is not valid YAML ({detail}); fix it, or write one with --print_config"
    nested = re.search(
        r'Parser key "(model|data)":.*?Parser key "(\w+)":\s*(.*?)Given value: NestedArg\(key=.*?, val=(.*?)\)\s*$',
        message,
        re.DOTALL,
    )
    if nested:
        return bad_value_line(f"{nested.group(1)}.{nested.group(2)}", nested.group(4).strip("'\""), nested.group(3))
    bad_value = re.search(r'Parser key "([^"]+)":.*?Given value: (.*)', message, re.DOTALL)
    if bad_value:
        return bad_value_line(bad_value.group(1), bad_value.group(2).strip(), message)
    first = message.strip().splitlines()[0] if message.strip() else "the arguments could not be parsed"
    return f"{first}; {FALLBACK_HINT}"


def bad_value_line(key: str, value: str, message: str) -> str:
    """'--key cannot be VALUE; ...' with the choices of a Literal or the expected types."""
    choices = re.search(r"Literal\[(.*?)\]", message)
    if choices:
        wanted = "choose one of: " + ", ".join(c.strip(" '\"") for c in choices.group(1).split(","))
    else:
        expected = sorted(set(re.findall(r"Expected a <class '(\w+)'>", message)) - {"NoneType"})
        wanted = f"expected {' or '.join(expected)}" if expected else FALLBACK_HINT
    return f"--{key} cannot be {value!r}; {wanted}"


def unknown_option(option: str, known: list[str]) -> str:
    close = difflib.get_close_matches(option, list(dict.fromkeys(known)), n=2, cutoff=0.6)
    hint = "did you mean " + " or ".join(close) + "?" if close else FALLBACK_HINT
    return f"unknown option {option}; {hint}"


def parser_options(parser: Any, subcommand: str | None) -> list[str]:
    """Every --option the subcommand's parser knows (argparse keeps them by option string)."""
    subcommands = getattr(parser, "_subcommands_action", None)
    chosen = subcommands._name_parser_map.get(subcommand) if subcommands and subcommand else parser
    return [o for o in getattr(chosen, "_option_string_actions", {}) if o.startswith("--")]


def class_options(defaults: dict[str, Any]) -> list[str]:
    """--model.X and --data.X for every constructor parameter of the run's model and data
    classes, their bases' included (a task passes `**task` on to its base)."""
    options = []
    for key in ("model", "data"):
        path = defaults.get(key, {}).get("class_path")
        if not path:
            continue
        module, _, name = path.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        for klass in cls.__mro__:
            if "__init__" in vars(klass):
                parameters = inspect.signature(klass.__init__).parameters.values()
                named = [p.name for p in parameters if p.kind == p.POSITIONAL_OR_KEYWORD]
                options += [f"--{key}.{name}" for name in named if name != "self"]
    return options
