"""Flags declared once: configuration fields that carry their Typer option.

A configuration dataclass (``DataConfig``, ``WindowConfig``...) declares each field with
``option()``: its default, its help and how the flag's text becomes the field's value.
``flatten`` then gives a command every field of the groups it names as flags, and calls
it with the groups built, so a flag, its help and its default exist in one place (uv's
flattened argument groups are the model)::

    @app.command()
    @flatten
    def train(data: DataConfig, window: WindowConfig) -> None: ...

``Annotated[DataConfig, Only("fill")]`` takes some of a group's flags (the rest keep
their defaults) and ``Annotated[DataConfig, Without("future_features")]`` all but some.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from typing import Annotated, Any

import typer

_OPTION = "forecast_option"


@dataclass(frozen=True)
class _Flag:
    """How one field is given on the command line."""

    info: Any  # typer.Option(...)
    cli_type: Any  # the parameter's type for Typer, when it is not the field's
    parse: Callable[[Any], Any] | None  # flag value -> field value


def option(
    default: Any,
    *names: str,
    help: str,
    panel: str | None = None,
    cli_type: Any = None,
    parse: Callable[[Any], Any] | None = None,
    **typer_settings: Any,
) -> Any:
    """A dataclass field with ``default`` whose flag is ``names`` (default ``--field-name``).

    ``cli_type`` is the type Typer parses when the field's own type is not one it can
    (``list[str]`` for a tuple of names), and ``parse`` turns that into the field's value;
    a tuple field's flag defaults to ``None``, which ``parse`` turns into the default.
    """
    flag = _Flag(
        typer.Option(*names, help=help, rich_help_panel=panel, **typer_settings), cli_type, parse
    )
    if isinstance(default, tuple | list | dict):
        return dataclasses.field(default_factory=lambda: default, metadata={_OPTION: flag})
    return dataclasses.field(default=default, metadata={_OPTION: flag})


@dataclass(frozen=True)
class Only:
    """Take only these fields of a group as flags."""

    fields: tuple[str, ...]

    def __init__(self, *fields: str) -> None:
        object.__setattr__(self, "fields", fields)


@dataclass(frozen=True)
class Without:
    """Take every field of a group as a flag but these."""

    fields: tuple[str, ...]

    def __init__(self, *fields: str) -> None:
        object.__setattr__(self, "fields", fields)


def defaults(group: type) -> dict[str, Any]:
    """The default of every flag of ``group``, by field name."""
    return {
        f.name: f.default if f.default is not MISSING else f.default_factory()
        for f in _flags(group)
    }


def flatten(command: Callable) -> Callable:
    """``command`` with each parameter typed as an option group replaced by its flags."""
    hints = typing.get_type_hints(command, include_extras=True)
    parameters, groups = [], {}
    for name, parameter in inspect.signature(command).parameters.items():
        group, chosen = _group(hints[name])
        if group is None:
            kind = inspect.Parameter.KEYWORD_ONLY  # Typer passes every value by name
            parameters.append(parameter.replace(annotation=hints[name], kind=kind))
            continue
        groups[name] = (group, [f.name for f in chosen])
        parameters.extend(_parameter(group, f) for f in chosen)
    names = [p.name for p in parameters]
    if len(names) != len(set(names)):  # a group's field named like another parameter
        raise TypeError(f"{command.__name__}: a flag is declared twice in {names}")

    @functools.wraps(command)
    def with_groups(**given: Any) -> Any:
        for name, (group, fields) in groups.items():
            given[name] = _build(group, {field: given.pop(field) for field in fields})
        return command(**given)

    with_groups.__signature__ = inspect.Signature(parameters)  # what Typer reads
    with_groups.__annotations__ = {p.name: p.annotation for p in parameters}
    del with_groups.__wrapped__  # Typer must see the flags, not the groups
    return with_groups


def _group(hint: Any) -> tuple[type | None, list[dataclasses.Field]]:
    """The option group a parameter is typed as, and the fields it takes as flags."""
    target, choice = hint, None
    if typing.get_origin(hint) is Annotated:
        target, *extras = typing.get_args(hint)
        choice = next((e for e in extras if isinstance(e, Only | Without)), None)
    if not (dataclasses.is_dataclass(target) and _flags(target)):
        return None, []
    fields = _flags(target)
    if isinstance(choice, Only):
        fields = [f for f in fields if f.name in choice.fields]
    elif isinstance(choice, Without):
        fields = [f for f in fields if f.name not in choice.fields]
    return target, fields


def _flags(group: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(group) if _OPTION in f.metadata]


def _parameter(group: type, field: dataclasses.Field) -> inspect.Parameter:
    flag: _Flag = field.metadata[_OPTION]
    kind = flag.cli_type or typing.get_type_hints(group)[field.name]
    default = field.default if field.default is not MISSING else field.default_factory()
    if isinstance(default, tuple):
        default = None  # no flag given: ``parse(None)`` gives the field's default
    return inspect.Parameter(
        field.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[kind, flag.info],
    )


def _build(group: type, given: dict[str, Any]) -> Any:
    """The group from its flags' values, each parsed into its field's type."""
    values = {}
    for field in _flags(group):
        if field.name not in given:
            continue
        parse = field.metadata[_OPTION].parse
        values[field.name] = parse(given[field.name]) if parse else given[field.name]
    return group(**values)
