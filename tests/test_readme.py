"""The README and the docs pages, as a new user reads them: every ``forecast`` command they
show runs as written, prints the stable lines of the output shown under it, and every
flag, link and picture they name exists.

Which commands: each line of a ``sh`` (``bash``, ``shell``, ``console``) block whose first
word, after an optional ``$`` prompt and ``NAME=value`` settings, is ``forecast``, and
each ``$ forecast ...`` line of a ``text`` block, whose sample output is the lines under it
up to the next ``$`` line. Lines ending in ``\\`` and quotes left open continue on the next
line, and ``#`` starts a comment, as in a shell. A command with shell syntax (a pipe, a
redirection, ``;``, ``&&``, ``$(...)``, a variable set before it) is not run in-process:
it must be listed in ``SKIPPED`` with the reason, so a new command nobody can run here
fails this test instead of going unchecked.

How they run: in order, one page at a time, in a fresh directory holding a copy of
``sample_data/`` and the files in ``STAND_INS`` (the pages' names for the reader's own
files), through Typer's ``CliRunner``. Training is shrunk by click's ``default_map``
(``SHRINK``; ``SHRINK_MORE`` for commands shown without output), which changes only
defaults: a flag the command gives itself wins.

What "prints what it shows" means: a command whose sample output has an ``Error:`` line
exits with status 2, any other with 0; each sample line appears in the real output once
white space is folded (tables vary in width and fold long titles), with every decimal
number masked (losses and scores change with the training). ``...`` and ``…`` lines and
table borders are elisions; the lines in ``TRAINED`` depend on the network trained or the
machine, and only their part ``TRAINED`` names is checked.
"""

import re
import shlex
import shutil
from pathlib import Path

import pytest
import typer
from conftest import flat, sine_frame
from typer.testing import CliRunner

from forecast_cli.cli import app

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCKS = {"sh", "bash", "shell", "console"}
SHELL_SYNTAX = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1"}

# Commands not run here, each with its reason (the command from ``forecast`` on).
SKIPPED = {
    "forecast train data.csv --strategy multi-worker --model-dir model": (
        "a cluster of two machines named by TF_CONFIG; tests/test_multi_worker.py runs two "
        "workers on 127.0.0.1"
    ),
    # (the 'ray start' lines beside these are not forecast commands: none is run)
    "forecast compare data.csv --merge-modes --ray auto": (
        "a Ray cluster started with 'ray start'; tests/test_ray.py runs compare and backtest "
        "on a local one"
    ),
    "forecast backtest data.csv --folds 10 --ray 10.0.0.1:6379": (
        "a Ray cluster on 10.0.0.1; tests/test_ray.py runs backtest on a local one"
    ),
}

# Flags of other programs that the pages show, and whose they are.
OTHER_FLAGS = {"--logdir": "tensorboard's", "--head": "ray start's", "--address": "ray start's"}

# The pages' names for the reader's own files, made for the commands that use them.
STAND_INS = {
    "data.csv": lambda path: shutil.copy(ROOT / "sample_data" / "sensors.csv", path),
    "short.csv": lambda path: sine_frame(rows=20).to_csv(path, index=False),
}

# Shorter training than the defaults; only for flags the command does not set. jobs=1
# trains in this process rather than in worker processes that each import TensorFlow.
SHRINK = {
    "train": {"epochs": 1},
    "compare": {"epochs": 1, "jobs": 1},
    "backtest": {"epochs": 1, "jobs": 1},
}
# Commands whose sample output, if any, shows nothing of the network (its layers, its
# parameters): their training may shrink further.
SMALL = {"layers": "lstm:4"}
SHRINK_MORE = {
    "forecast train data.csv": {**SMALL, "combine": "none"},
    "forecast train sample_data/stores.csv --id-col store": {**SMALL, "combine": "none"},
    "forecast backtest sample_data/sine.csv --folds 3": SMALL,
}

# Sample lines that depend on the network trained (epochs, which statistical models it
# is averaged with, which wins) or on the machine (cores, worker processes): only the
# part each pattern matches is checked, or its group where it has one.
TRAINED = [
    r"training ━",  # the progress bar: epochs, losses and time
    r"\s*epochs +\d+ (run, weights of epoch) \d+ kept",
    r"\s*device +CPU",  # the machine's cores
    r"Training \d+ candidate\(s\) x \d+ seed\(s\) in",  # jobs: --jobs and the cores
    r"Backtest: .*; retrain",  # folds at a time: --jobs and the cores
    r"│ +\d+ (│ [^│]+│ +[\d,-]+ │)",  # compare's ranking: candidate and params, not rank
    r"• Averaged with the network(?:'s forecast)?, as chosen on validation:",
    r"• \S+ (beats the model over the folds)",
]

DECIMAL = re.compile(r"-?\d+\.\d+")  # losses, scores, seconds: masked
BORDER = re.compile(r"[\s┏┓┗┛┡┩└┘├┤┼┬┴┳┻╇━─┃│]*")


def fenced_blocks(text: str) -> list[tuple[str, list[str]]]:
    """``(info string, lines)`` of each fenced code block of a Markdown text."""
    blocks, current = [], None
    for line in text.splitlines():
        fence = re.match(r"\s*```(\S*)", line)
        if fence and current is None:
            current = (fence.group(1), [])
        elif fence:
            blocks.append(current)
            current = None
        elif current is not None:
            current[1].append(line.strip() if current[0] in SHELL_BLOCKS else line)
    return blocks


def shell_lines(lines: list[str]) -> list[list[str]]:
    """The words of each command of a shell block, continuations joined, comments dropped."""
    commands, pending = [], ""
    for line in lines:
        pending += line
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # a quote left open: the command goes on
            pending += "\n"
            continue
        pending = ""
        if words[:1] == ["$"]:
            words = words[1:]
        if words:
            commands.append(words)
    assert not pending, f"unfinished command: {pending!r}"
    return commands


class Shown:
    """A ``forecast`` command of a page, and the sample output shown under it."""

    def __init__(self, page: Path, words: list[str], output: list[str]):
        self.page, self.output = page, output
        settings = 0
        while settings < len(words) and re.match(r"\w+=", words[settings]):
            settings += 1
        self.words = words[settings:]
        self.text = shlex.join(self.words)
        self.shell = settings > 0 or any(
            w in SHELL_SYNTAX or "$(" in w or "`" in w for w in self.words
        )

    def __repr__(self) -> str:
        return f"{self.page.name}: {self.text}"


def commands(page: Path) -> list[Shown]:
    shown = []
    for info, lines in fenced_blocks(page.read_text()):
        if info in SHELL_BLOCKS:
            shown += [Shown(page, w, []) for w in shell_lines(lines) if _is_forecast(w)]
        elif info == "text":
            current = None  # the command whose output the lines are
            for line in lines:
                if line.startswith("$ "):
                    words = shlex.split(line[2:])
                    assert _is_forecast(words), f"{page.name}: {line} is not forecast"
                    current = Shown(page, words, [])
                    shown.append(current)
                elif current:
                    current.output.append(line)
    return shown


def _is_forecast(words: list[str]) -> bool:
    words = [w for w in words if not re.match(r"\w+=", w)]
    return words[:1] == ["forecast"]


ALL = [command for page in PAGES for command in commands(page)]
PAGES_WITH_COMMANDS = sorted({c.page for c in ALL if c.text not in SKIPPED}, key=PAGES.index)


def test_the_readme_opens_with_make_demo_and_make_test_and_says_what_demo_writes():
    readme = PAGES[0].read_text()
    info, lines = fenced_blocks(readme)[0]
    assert info == "sh" and [line.split()[:2] for line in lines] == [
        ["make", "demo"],
        ["make", "test"],
    ]
    makefile = (ROOT / "Makefile").read_text()
    demo = re.search(r"^demo: install\n((?:\t.*\n)+)", makefile, re.M).group(1)
    demo = demo.replace("$(DEMO)", re.search(r"^DEMO := (\S+)", makefile, re.M).group(1))
    assert "sample_data/sine.csv" in demo
    said = re.search(r"`make demo` leaves (.*?)\. It needs", flat(readme)).group(1)
    paths = re.findall(r"`(demo-output/[^`]*)`", said)
    assert len(paths) == 4 and all(path.rstrip("/") in demo for path in paths), (paths, demo)


def test_the_readme_shows_each_command_with_its_output():
    shown = {c.words[1] for c in ALL if c.page == PAGES[0] and c.output}
    assert shown == {"train", "predict", "compare", "backtest"}


def test_every_command_that_is_not_run_is_listed_with_its_reason():
    unrunnable = {c.text for c in ALL if c.shell}
    assert unrunnable - set(SKIPPED) == set(), "run them, or add them to SKIPPED with why"
    assert set(SKIPPED) - {c.text for c in ALL} == set(), "SKIPPED names a command gone"


def expected(line: str) -> str | None:
    """What of a sample output line must appear in the output (masked, folded), or None."""
    if not line.strip() or "..." in line or "…" in line or BORDER.fullmatch(line):
        return None
    for pattern in TRAINED:
        if match := re.match(pattern, line):
            line = match.group(match.lastindex or 0)
            break
    return masked(line)


def masked(text: str) -> str:
    return flat(DECIMAL.sub("#", text))


@pytest.mark.parametrize("page", PAGES_WITH_COMMANDS, ids=lambda p: p.name)
@pytest.mark.slow
def test_commands_run_as_written_and_print_what_is_shown(page, tmp_path, monkeypatch):
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    for name, make in STAND_INS.items():
        make(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COLUMNS", raising=False)  # tables as wide as their content
    for command in commands(page):
        if command.text in SKIPPED:
            continue
        verb = command.words[1] if len(command.words) > 1 else None
        shrink = {**SHRINK.get(verb, {}), **SHRINK_MORE.get(command.text, {})}
        result = CliRunner().invoke(app, command.words[1:], default_map={verb: shrink})
        fails = any(line.startswith("Error:") for line in command.output)
        assert result.exit_code == (2 if fails else 0), (command, result.output)
        for line in command.output:
            if (wanted := expected(line)) is not None:
                assert wanted in masked(result.output), (command, line, result.output)


# Every flag the pages name belongs to a command; those in a command's section, to it.
def _flags(command: str | None) -> set[str]:
    group = typer.main.get_command(app)
    chosen = [group.commands[command]] if command else [group, *group.commands.values()]
    return {opt for c in chosen for p in c.params for opt in p.opts + p.secondary_opts}


def test_every_flag_named_exists():
    every = _flags(None) | {"--help"} | set(OTHER_FLAGS)
    for page in PAGES:
        section = None
        for line in page.read_text().splitlines():
            if heading := re.match(r"#+ `forecast (\w+)", line):
                section = heading.group(1)
            elif line.startswith("#"):
                section = None
            if section and line.startswith("| `--"):
                flag = re.match(r"\| `(--[\w-]+)", line).group(1)
                assert flag in _flags(section), f"{page.name}: {section} has no {flag}"
            for flag in re.findall(r"(?<![\w-])--[a-z][\w-]*", line):
                assert flag in every, f"{page.name}: no command has {flag}"


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_links_and_pictures_resolve():
    for page in PAGES:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"\w+://", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            assert file.exists(), f"{page.name}: {target} does not exist"
            if anchor:
                headings = re.findall(r"^#+ (.+)$", file.read_text(), flags=re.M)
                assert anchor in {_slug(h) for h in headings}, f"{page.name}: no #{anchor}"
