"""``forecast report`` and ``--report``: one HTML page per model, comparison and backtest,
checked as a reader gets it: its sections, its pictures embedded and decodable, nothing
fetched, and the page as headless Chromium renders it."""

import base64
import io
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, error_line, invoke, sine_frame
from matplotlib import image

from forecast_cli.artifacts import CARD_FILE, TABLE_FILE, load_card
from forecast_cli.html_report import SECTIONS

FASTER = [*FAST, "--combine", "none"]  # no statistical model to fit again in predict
CHROMIUM = shutil.which("chromium")
# The flags that keep Chromium from reaching for the network, which this machine lacks.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH, HEIGHT = 1200, 3000


class Page(HTMLParser):
    """What a report holds: its section ids, its pictures' sources, every other
    reference to a resource, its scripts, and the text of each table cell."""

    def __init__(self, text: str):
        super().__init__()
        self.sections, self.images, self.references, self.scripts, self.cells = [], [], [], 0, []
        self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs["id"])
        elif tag == "img":
            self.images.append(attrs["src"])
        elif tag == "script":
            self.scripts += 1
        elif tag in ("td", "th"):
            self._cell = ""
        for name in ("href", "src"):
            if name in attrs and tag != "img" and not attrs[name].startswith("#"):
                self.references.append(attrs[name])

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.cells.append(self._cell.strip())
            self._cell = None


def embedded_pngs(page: Page) -> list[np.ndarray]:
    """Every picture of the page decoded: each must be a PNG in a ``data:`` URI."""
    prefix = "data:image/png;base64,"
    assert all(src.startswith(prefix) for src in page.images), [s[:40] for s in page.images]
    return [image.imread(io.BytesIO(base64.b64decode(s[len(prefix) :]))) for s in page.images]


def checked(path: Path, kind: str, pictures: int) -> Page:
    """The report at ``path``: every section of its kind, ``pictures`` decodable PNGs of
    a real size, no script and no link out of the page."""
    page = Page(path.read_text())
    assert page.sections == list(SECTIONS[kind])
    assert [png.shape[1] > 400 for png in embedded_pngs(page)] == [True] * pictures
    assert page.scripts == 0 and page.references == []
    return page


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A folder holding the data every run here is trained on."""
    folder = tmp_path_factory.mktemp("runs")
    sine_frame().to_csv(folder / "sine.csv", index=False)
    return folder


# One fixture per run, so that a test process handed only some of these tests trains
# only what they read.
@pytest.fixture(scope="module")
def model_dir(root):
    trained = invoke("train", root / "sine.csv", *FASTER, "--model-dir", root / "model")
    assert trained.exit_code == 0, trained.output
    return root / "model"


@pytest.fixture(scope="module")
def compared(root):
    """A comparison of two networks, written with --report."""
    done = invoke(
        "compare", root / "sine.csv", *FASTER, "--layers", "gru:4", "--out-dir", root / "cmp",
        "--report",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    return done


@pytest.fixture(scope="module")
def backtested(root):
    """A backtest written with --report under names of its own."""
    (root / "bt").mkdir()
    done = invoke(
        "backtest", root / "sine.csv", *FASTER, "--folds", "2", "--steps", "5", "--report",
        "--json", "--out", root / "bt" / "scores.csv", "--plot", root / "bt" / "folds.png",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    return done


def test_a_model_report_shows_its_data_layers_losses_scores_and_forecast(root, model_dir):
    done = invoke("report", model_dir)
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"✓ Report: {root / 'model' / 'report.html'}"
    page = checked(root / "model" / "report.html", "model", pictures=2)
    card = load_card(root / "model")
    cells = page.cells
    assert cells[cells.index("lookback") + 1] == "8 steps in each input window"
    assert cells[cells.index("split") + 1] == "rows 1-128 train, 129-160 validate"
    assert cells[cells.index("total") + 3] == f"{card.params:,}"  # the layer table's
    assert cells[cells.index("lstm_1") :][:3] == ["lstm_1", "LSTM", "(samples, 4)"]
    for baseline, scores in card.metrics["baselines"].items():
        assert cells[cells.index(baseline) + 4] == f"{scores['val_mase']:.3f}"
    # the forecast: 20 rows after the data's last hour, each with its 80% and 95% bounds
    assert "value_upper_95" in cells and "2026-01-07 16:00:00" in cells
    assert "2026-01-08 11:00:00" in cells and "2026-01-08 12:00:00" not in cells


def test_a_model_whose_training_file_is_gone_gets_its_page_without_a_forecast(model_dir, tmp_path):
    moved = shutil.copytree(model_dir, tmp_path / "moved")
    card = json.loads((moved / CARD_FILE).read_text())
    card["data"]["path"] = str(tmp_path / "gone.csv")
    (moved / CARD_FILE).write_text(json.dumps(card))
    done = invoke("report", moved, "--out", tmp_path / "page.html")
    assert done.exit_code == 0, done.output
    page = checked(tmp_path / "page.html", "model", pictures=1)  # the losses only
    assert "No forecast: The training file recorded in" in (tmp_path / "page.html").read_text()
    assert "epochs" in page.cells and "lstm_1" in page.cells  # the rest of the page


def test_a_validation_tail_too_short_for_intervals_leaves_them_out_and_says_why(tmp_path):
    data = tmp_path / "short.csv"
    sine_frame(rows=80).to_csv(data, index=False)  # a tail of 16 rows: no 20 steps ahead
    model = tmp_path / "model"
    assert invoke("train", data, *FASTER, "--model-dir", model).exit_code == 0
    done = invoke("report", model, "--out", tmp_path / "page.html")
    assert done.exit_code == 0, done.output
    page = checked(tmp_path / "page.html", "model", pictures=2)  # losses and forecast
    assert (
        "--intervals needs at least 10 validation origins" in (tmp_path / "page.html").read_text()
    )
    assert "2026-01-04 08:00:00" in page.cells  # the forecast's first hour
    assert not any(cell.startswith("value_upper") for cell in page.cells)


def test_compare_report_ranks_the_networks_with_the_pictures_it_drew(root, compared):
    written = root / "cmp" / "report.html"
    assert f"✓ Report: {written}" in compared.stdout
    page = checked(written, "comparison", pictures=3)  # grid, overlay, losses
    table = pd.read_csv(root / "cmp" / TABLE_FILE)
    ranked = [cell for cell in page.cells if cell in set(table["name"])]
    assert ranked[: len(table)] == list(table["name"])
    best = table["name"][0]
    assert f"{best}, ranked first." in written.read_text()


def test_backtest_report_beside_its_scores_with_the_folds_and_its_card(root, backtested):
    summary = json.loads(backtested.stdout.splitlines()[-1])
    written = root / "bt" / "scores.html"
    assert summary["report"] == str(written)
    page = checked(written, "backtest", pictures=1)
    card = json.loads((root / "bt" / "scores.json").read_text())
    assert card["scores"] == "scores.csv" and card["plot"] == str(root / "bt" / "folds.png")
    assert [f["cutoff"] for f in card["folds"]] == [151, 156]  # the CSV's rows, 1-based
    assert card["data"]["rows"] == 160 and card["window"]["lookback"] == 8
    table = pd.read_csv(root / "bt" / "scores.csv")
    model = table[table["method"] == "model"]  # each fold's row, then all folds'
    assert page.cells.count("model") == len(model) == 3
    assert f"{model['mase'].iloc[-1]:.3f}" in page.cells
    # the same page again from the card, to another file
    again = invoke("report", root / "bt" / "scores.json", "--out", root / "again.html")
    assert again.exit_code == 0, again.output
    assert Page((root / "again.html").read_text()).sections == page.sections


def test_report_errors_name_the_path_and_what_would_do(root, tmp_path):
    assert "does not exist" in error_line(invoke("report", tmp_path / "none"))
    line = error_line(invoke("report", root / "sine.csv"))
    assert line.startswith(f"Error: {root / 'sine.csv'} is neither a model folder")
    line = error_line(invoke("report", tmp_path / "none", "--out", tmp_path / "no" / "r.html"))
    assert "the folder" in line and "does not exist" in line
    line = error_line(invoke("backtest", root / "sine.csv", "--out", tmp_path / "b.json"))
    assert "--out" in line and ".csv" in line
    assert not list(tmp_path.iterdir())


def render(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)",
)
@pytest.mark.parametrize(
    ("run", "where", "kind"),
    [
        ("model_dir", "model/report.html", "model"),
        ("compared", "cmp/report.html", "comparison"),
        ("backtested", "bt/scores.html", "backtest"),
    ],
)
def test_chromium_renders_every_section_and_every_picture(
    root, run, where, kind, request, tmp_path
):
    """In CI (CI set) a missing Chromium fails this test rather than skipping it: .ci/run
    installs it, and a report nobody rendered is what this test exists to catch."""
    assert CHROMIUM, "chromium is not installed: .ci/run installs it (apt-get install chromium)"
    request.getfixturevalue(run)
    if kind == "model":
        assert invoke("report", root / "model").exit_code == 0
    # A copy with a probe: once loaded, the width each picture decoded to and every
    # resource fetched are written into the DOM, which Chromium then prints.
    probe = tmp_path / "probe.html"
    probe.write_text(
        (root / where)
        .read_text()
        .replace(
            "</body>",
            '<script>addEventListener("load", () => {'
            "document.body.dataset.widths = [...document.images].map(i => i.naturalWidth);"
            'document.body.dataset.fetched = performance.getEntriesByType("resource").length;'
            "});</script></body>",
        )
    )
    dom = render(probe, tmp_path, "--dump-dom").stdout.decode()
    rendered = Page(dom)
    assert rendered.sections == list(SECTIONS[kind])
    widths = dom.split('data-widths="')[1].split('"')[0].split(",")
    assert len(widths) == len(rendered.images) > 0 and "0" not in widths
    assert 'data-fetched="0"' in dom
    shot = tmp_path / "page.png"
    render(root / where, tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}")
    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    top = pixels[:1000]  # the header, the first sections and a picture: never blank
    assert top.std() > 0.1 and (top.mean(axis=2) < 0.5).mean() > 0.01
