"""What --help shows: every flag described, in the panel of what it is about."""

import re

import pytest
import typer
from conftest import error_line

from forecast_cli.cli import app

COMMANDS = ["train", "compare", "backtest", "predict", "report"]


def help_text(cli, *command: str) -> str:
    result = cli(*command, "--help")
    assert result.exit_code == 0, result.output
    return result.stdout


def readable(text: str) -> str:
    """Help text without its boxes, white space folded: each flag's help reads whole."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", text).split())


def panel_of(text: str, flag: str) -> str:
    """The title of the help panel that lists ``flag``."""
    title = None
    for line in text.splitlines():
        if line.startswith("╭─"):
            title = line.strip("╭─╮ ")
        elif re.match(rf"│ {re.escape(flag)}\b(?!-)", line):
            return title
    raise AssertionError(f"{flag} is not in the help")


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]], ids=["forecast", *COMMANDS])
def test_flags_show_no_type_and_every_option_is_described(cli, command):
    assert "<bool>" not in help_text(cli, *command)
    group = typer.main.get_command(app)
    params = (group.commands[command[0]] if command else group).params
    undescribed = [p.name for p in params if not (p.help or "").strip()]
    assert undescribed == []


def test_options_are_grouped_by_what_they_are_about(cli):
    train = help_text(cli, "train")
    panels = [line.strip("╭─╮ ") for line in train.splitlines() if line.startswith("╭─")]
    assert panels == [
        "Arguments",
        "Options",
        "Data",
        "Windows and scaling",
        "Network",
        "Training",
        "Runtime",
        "Output",
    ]
    assert panel_of(train, "--model-dir") == panel_of(train, "--json") == "Output"
    assert panel_of(train, "--thousands") == "Data"
    predict = help_text(cli, "predict")
    assert [panel_of(predict, flag) for flag in ("--data", "--steps", "--out", "--json")] == [
        "Data",
        "Forecast",
        "Output",
        "Output",
    ]
    backtest = help_text(cli, "backtest")
    assert [panel_of(backtest, flag) for flag in ("--folds", "--jobs", "--plot")] == [
        "Backtest",
        "Runtime",
        "Output",
    ]
    compare = help_text(cli, "compare")
    assert [panel_of(compare, flag) for flag in ("--repeats", "--jobs", "--out-dir")] == [
        "Comparison",
        "Runtime",
        "Output",
    ]


def test_predict_fill_says_it_defaults_to_the_training_fill(cli):
    assert (
        "--fill <interpolate|ffill|drop> How to fill missing values of the data forecast from. "
        "Default: as the model's training did (its --fill; none: refuse them)."
    ) in readable(help_text(cli, "predict"))


def test_compare_tells_merge_modes_from_merge_mode(cli):
    compare = help_text(cli, "compare")
    assert panel_of(compare, "--merge-modes") == panel_of(compare, "--merge-mode") == "Network"
    text = readable(compare)
    assert "--merge-modes [MODE,...] Plural: compare merge modes, one candidate per mode" in text
    assert "--merge-mode <concat|sum|mul|ave> Singular: the one merge mode of the" in text
    both = cli("compare", "x.csv", "--merge-modes", "sum,ave", "--merge-mode", "ave")
    assert error_line(both) == (
        "Error: --merge-modes compares several merge modes and --merge-mode sets one: give one "
        "of them."
    )
