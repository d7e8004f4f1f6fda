"""Run files: a command's flags in a TOML file, read by ``--config``, written by every run.

A run file holds flags under their long names without the dashes (``epochs = 5``,
``model-dir = "m"``; ``model_dir`` is read too) and the DATA.csv argument as ``data``.
Read, it gives the command its defaults: a flag on the command line still wins, and a
flag neither sets keeps its built-in default. Each value is read as if typed after its
flag, so a file accepts exactly what the command line does, with the same checks.
Written (``run.toml``), it holds every flag of a run with the value it had, so
``--config`` of it repeats the run. Paths in a run file are relative to the file's own
folder: it repeats the run the same way from any working directory.

Only the standard library and click's parameters (through Typer) are used here, so
reading a run file costs no more than ``forecast --help``'s start-up.
"""

from __future__ import annotations

import os
import shlex
from enum import Enum
from pathlib import Path
from typing import Any

from forecast_cli import __version__
from forecast_cli.errors import ForecastError

DATA_KEY = "data"  # the key of the DATA.csv argument
STDIN = "-"  # a path that is not one: standard input
# Where the group's ``make_context`` keeps the command line, for the run file's header.
ARGS = "forecast.args"


def key(param) -> str:
    """A parameter's key in run files: its long flag without the dashes (``--model-dir``
    -> ``model-dir``), ``data`` for the DATA.csv argument."""
    if not param.opts or not param.opts[0].startswith("-"):
        return DATA_KEY
    return max(param.opts, key=len).lstrip("-")


def read(path: Path, ctx) -> dict[str, Any]:
    """The values the run file at ``path`` gives the flags of ``ctx``'s command, by
    parameter name (click's ``default_map``), each checked as its flag checks it; a
    ``ForecastError`` names the file and the key at fault."""
    import difflib
    import tomllib  # here, not at start-up: 6 ms that --help does without

    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ForecastError(f"{path}: not a TOML file ({exc}); fix that line.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ForecastError(f"{path}: cannot be read ({exc}).") from None
    params = {key(p): p for p in ctx.command.params if p.expose_value}
    values = {}
    for name, value in table.items():
        if isinstance(value, dict):
            raise ForecastError(
                f"{path}: [{name}] is a table; give each flag as a key of its own, before any "
                "[table]."
            )
        param = params.get(name.replace("_", "-"))
        if param is None:
            close = difflib.get_close_matches(name.replace("_", "-"), params, n=1)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else f"the keys are the flags of 'forecast {ctx.info_name} --help' without "
                "their dashes."
            )
            raise ForecastError(f"{path}: unknown key '{name}'; {hint}")
        values[param.name] = _value(path, name, value, param, ctx)
    return values


def _value(path: Path, name: str, value, param, ctx):
    """``value`` as the text typed after the flag (a list of them for a repeatable flag:
    ``true`` as ``True``, ``5`` as ``5``), checked by the flag's own type; a relative path
    made relative to the file's folder."""
    where = f"{path}: {name} = {_toml(value)}"
    if isinstance(value, list) and not param.multiple:
        raise ForecastError(f"{where}: a list, but --{key(param)} takes one value.")
    texts = [str(item) for item in value] if isinstance(value, list) else str(value)
    if param.multiple and not isinstance(texts, list):
        texts = [texts]
    try:
        typed = param.process_value(ctx, texts)
    except Exception as exc:  # click's BadParameter, or Typer's own conversions
        message = (getattr(exc, "message", None) or str(exc)).replace("Value error, ", "")
        raise ForecastError(f"{where}: {message.rstrip('.')}.") from None
    if isinstance(typed, Path) and texts != STDIN and not typed.is_absolute():
        return os.path.normpath(path.parent / typed)
    return texts


def render(ctx, folder: Path) -> str:
    """The run file of ``ctx``'s command as parsed: every flag with its value, grouped as
    in ``--help``, paths relative to ``folder`` (where the file goes), and a header saying
    which command made it. A flag without a value (its default is settled at run time,
    from the data or the machine) is left as a comment."""
    command = ctx.info_name
    lines = [
        f"# Run file of forecast {__version__}: every flag of the run of",
        "#   " + shlex.join(["forecast", *ctx.meta.get(ARGS, [command])]),
        f"# 'forecast {command} --config THIS_FILE' repeats it; flags given beside --config",
        "# override the file's. Paths are relative to this file's folder. A commented key",
        f"# was not set: its default applies (see 'forecast {command} --help').",
    ]
    params = [p for p in ctx.command.params if p.expose_value]
    panels = list(dict.fromkeys(getattr(p, "rich_help_panel", None) for p in params))
    for panel in panels:
        lines += ["", f"# {panel}"] if panel else [""]
        for param in params:
            if getattr(param, "rich_help_panel", None) != panel:
                continue
            value = ctx.params.get(param.name)
            if value is None or value == [] or value == ():  # a repeatable flag not given
                lines.append(f"# {key(param)} = (not set)")
            else:
                lines.append(f"{key(param)} = {_toml(_plain(value, folder))}")
    return "\n".join(lines) + "\n"


def _plain(value, folder: Path):
    """A parsed flag value as TOML data; a path relative to ``folder``."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        if str(value) == STDIN:
            return STDIN
        try:
            return os.path.relpath(value.absolute(), folder.absolute())
        except ValueError:  # another drive (Windows): no relative path leads there
            return str(value.absolute())
    if isinstance(value, list | tuple):
        return [_plain(item, folder) for item in value]
    return value


def _toml(value) -> str:
    """``value`` (a bool, number, string or list of them) as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # TOML writes inf and nan as Python does
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    text = str(value)
    escaped = "".join(
        {"\\": "\\\\", '"': '\\"'}.get(c) or (c if c.isprintable() else f"\\u{ord(c):04x}")
        for c in text
    )
    return f'"{escaped}"'
