"""What a constructor takes, read from its signature and annotations: the checks that give the
Python API the command line's one-line refusals, and the options the command line offers."""

from __future__ import annotations

import difflib
import inspect
import os
import types
import typing
from collections import abc
from collections.abc import Iterable, Mapping
from typing import Any

from zoo import checks
from zoo.errors import ZooError


def init_arguments(cls: type) -> list[str]:
    """The keyword arguments a class takes: its own and, where it passes the rest on (`**task`),
    those of the classes it extends."""
    return list(init_hints(cls))


def init_hints(cls: type) -> dict[str, Any]:
    """`init_arguments` with each one's type annotation (`Any` where it has none or it cannot be
    resolved)."""
    hints: dict[str, Any] = {}
    for klass in cls.__mro__:
        if "__init__" not in klass.__dict__:
            continue
        init = klass.__dict__["__init__"]
        try:
            resolved = typing.get_type_hints(init)
        except (NameError, TypeError):  # annotations naming what only a type checker imports
            resolved = {}
        params = list(inspect.signature(init).parameters.values())[1:]
        for p in params:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                hints.setdefault(p.name, resolved.get(p.name, Any))
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return hints


def fits(value: Any, hint: Any) -> bool:
    """Whether `value` has the annotated type, for the plain types zoo's constructors take
    (bool, int, float, str, None, unions, Literal, sequences and dicts); other types pass."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, a) for a in args)
    if origin is typing.Literal:
        return value in args
    if hint in (int, float):  # a bool is no number; an int is a float
        return isinstance(value, (int, float) if hint is float else int) and not isinstance(value, bool)
    if origin in (list, tuple, abc.Sequence):
        return isinstance(value, (list, tuple)) and all(fits(v, args[0]) for v in value if args)
    if origin in (dict, abc.Mapping):
        return isinstance(value, dict)
    if hint is None or hint is type(None):
        return value is None
    if hint is str:  # a path for a folder or file name is fine
        return isinstance(value, (str, os.PathLike))
    return isinstance(value, bool) if hint is bool else True


def hint_name(hint: Any) -> str:
    """An annotation as a reader writes it: 'int', 'float or None', "Literal['auto', 'full']"."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(hint_name(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "None"
    if typing.get_origin(hint) is None and hasattr(hint, "__name__"):
        return str(hint.__name__)
    return str(hint).replace("typing.", "").replace("collections.abc.", "")


def check_values(cls: type, given: Mapping[str, Any], what: str) -> None:
    """Refuse a keyword argument of the wrong type (a str for a number, None for a name), naming
    it and the type it takes: what the command line's parser checks, for the Python API."""
    hints = init_hints(cls)
    for name, value in given.items():
        hint = hints.get(name, Any)
        if value is not None and not fits(value, hint):
            raise ZooError(f"{what} argument {name} must be {hint_name(hint)}, got {checks.type_name(value)}; "
                           "pass a value of that type")


def check_arguments(cls: type, given: Iterable[str], what: str, ignored: tuple[str, ...] = ()) -> None:
    """Refuse a keyword argument `cls` does not take, naming it, the closest one and all of them."""
    accepted = [name for name in init_arguments(cls) if name not in ignored]
    unknown = sorted(set(given) - set(accepted))
    if not unknown:
        return
    close = difflib.get_close_matches(unknown[0], accepted, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ZooError(f"{what} takes no argument {unknown[0]!r}; {hint}it takes: {', '.join(sorted(accepted))}")
