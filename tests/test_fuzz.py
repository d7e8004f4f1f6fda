"""Malformed input never crashes: property-based tests with generated files.

Every generated file either loads into a clean series or is refused with one
``ForecastError`` line; through train, backtest and compare, every run either succeeds
or exits with status 2 and a single ``Error:`` line, never a traceback. Found this way and fixed:
a row longer than the header silently became the index, values beyond float32 became
infinities that crashed training, and a form feed in a quoted value split the error line.
"""

import contextlib
import io
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from conftest import IN_PROCESS, sine_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.config import DataConfig
from forecast_cli.errors import ForecastError
from forecast_cli.loading import load_panel, load_series

NAMES = ["value", "date", "t", "x", "", "1.5", "välue", "a b", "value"]  # 'value' twice
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e308", "-1e308", "1e-308", "0", "-0", "nan", "NA", "", " ", "inf"]),
    st.sampled_from(["2026-01-01", "2026-01-01 01:00", "01/02/2026", "2026-13-45", "soon"]),
    st.text(max_size=6),
    st.integers(-(10**20), 10**20).map(str),
)


@st.composite
def tables(draw) -> bytes:
    """CSV-like text: a header, ragged or regular rows of numbers, dates and junk."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    width = draw(st.integers(1, 4))
    header = delimiter.join(draw(st.lists(st.sampled_from(NAMES), min_size=width, max_size=width)))
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        cells = draw(st.lists(CELLS, min_size=1, max_size=width + 1))  # sometimes ragged
        rows.append(delimiter.join(cells))
    text = "\n".join([header, *rows]) if draw(st.booleans()) else "\n".join(rows)
    return text.encode("utf-8", errors="surrogatepass")


@st.composite
def series_files(draw) -> bytes:
    """Mostly-valid series with one thing wrong, constant, tiny or huge: they reach training."""
    rows = draw(st.integers(1, 60))
    frame = sine_frame(rows=max(rows, 1)).head(rows)
    kind = draw(st.sampled_from(["clean", "constant", "huge", "tiny", "hole", "text", "repeat"]))
    values = frame["value"].to_numpy().astype(object)
    if kind == "constant":
        values[:] = 3.0
    elif kind == "huge":
        values = values * 1e300
    elif kind == "tiny":
        values = values * 1e-300
    elif kind in ("hole", "text") and rows:
        values[draw(st.integers(0, rows - 1))] = "" if kind == "hole" else "n/a"
    frame["value"] = values
    if kind == "repeat" and rows > 1:
        frame.loc[rows - 1, "timestamp"] = frame["timestamp"].iloc[0]
    return frame.to_csv(index=False).encode()


COLUMN_KINDS = ["float", "int", "text", "dates", "zoned", "bool", "null", "mixed"]


@st.composite
def parquet_files(draw) -> bytes:
    """Parquet files whose columns hold any type: numbers with NaN and infinities, text,
    naive and zoned dates, booleans, all-null columns."""
    rows = draw(st.integers(0, 30))
    names = draw(
        st.lists(st.sampled_from(["value", "date", "x", "y"]), min_size=1, max_size=4, unique=True)
    )
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(COLUMN_KINDS))
        if kind == "float":
            cells = st.floats(allow_nan=True, allow_infinity=True)
        elif kind == "int":
            cells = st.integers(-(2**63), 2**63 - 1)
        elif kind in ("text", "mixed"):
            cells = (
                st.text(max_size=8)
                if kind == "text"
                else st.sampled_from(["1.5", "x", "2026-01-01"])
            )
        else:
            cells = st.none() if kind == "null" else st.booleans()
        values = draw(st.lists(cells, min_size=rows, max_size=rows))
        if kind in ("dates", "zoned"):
            start = draw(st.sampled_from(["2026-01-01", "1970-01-01"]))
            step = draw(st.sampled_from(["h", "D", "MS"]))
            values = pd.date_range(
                start, periods=rows, freq=step, tz="Europe/Paris" if kind == "zoned" else None
            )
            if rows and draw(st.booleans()):
                values = values[np.asarray(draw(st.permutations(range(rows))))]  # unsorted
        columns[name] = pd.Series(values, dtype=object if kind == "null" else None)
    buffer = io.BytesIO()
    pd.DataFrame(columns).to_parquet(buffer)
    return buffer.getvalue()


@st.composite
def long_files(draw) -> bytes:
    """Long-format files: series named in an id column, some short, some with a missing
    name, repeated or unsorted times, gaps."""
    frames = []
    for name in draw(st.lists(st.sampled_from(["a", "b", "7", "", " c "]), min_size=1, max_size=4)):
        frame = sine_frame(rows=draw(st.integers(1, 40))).assign(id=name or None)
        if draw(st.booleans()):
            frame = frame.sample(frac=1, random_state=0)
        if len(frame) > 3 and draw(st.booleans()):
            frame = frame.drop(index=frame.index[1])
        frames.append(frame)
    return pd.concat(frames).to_csv(index=False).encode()


def _write(data: bytes, directory: str, name: str = "data.csv") -> Path:
    path = Path(directory) / name
    path.write_bytes(data)
    return path


# derandomize: the same cases on every run, so CI on a fresh clone is repeatable (set it
# to False locally to explore new cases: that is how the bugs below were found).
@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.one_of(tables(), st.binary(max_size=200)))
def test_the_loader_returns_a_clean_series_or_one_line_of_error(data):
    with tempfile.TemporaryDirectory() as directory:
        try:
            series = load_series(_write(data, directory), DataConfig())
        except ForecastError as error:
            message = str(error)
            assert message and "\n" not in message and "Traceback" not in message
            return
    assert series.values.dtype == np.float32 and len(series.values) >= 1
    assert np.isfinite(series.values).all()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.one_of(parquet_files(), st.binary(max_size=200)))
def test_parquet_files_load_cleanly_or_give_one_line_of_error(data):
    with tempfile.TemporaryDirectory() as directory:
        try:
            series = load_series(_write(data, directory, "data.parquet"), DataConfig())
        except ForecastError as error:
            assert str(error) and "\n" not in str(error)
            return
    assert series.values.dtype == np.float32 and np.isfinite(series.values).all()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(long_files())
def test_long_files_split_into_clean_series_or_give_one_line_of_error(data):
    with tempfile.TemporaryDirectory() as directory:
        try:
            panel = load_panel(_write(data, directory), DataConfig(id_col="id"))
        except ForecastError as error:
            assert str(error) and "\n" not in str(error)
            return
    assert len({series.name for series in panel}) == len(panel)
    for series in panel:
        assert series.times.is_monotonic_increasing and not series.times.has_duplicates
        assert series.values.dtype == np.float32 and np.isfinite(series.values).all()


COMMANDS = {
    "train": ["--model-dir", "m"],
    "backtest": ["--folds", 1, "--steps", 2, "--out", "b.csv", "--plot", "b.png"],
    "compare": ["--jobs", 1, "--steps", 2, "--out-dir", "c"],
}


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.one_of(series_files(), tables(), long_files()),
    st.sampled_from(sorted(COMMANDS)),
)
def test_commands_succeed_or_exit_2_with_one_error_line(data, command):
    fast = ["--layers", "rnn:2", "--epochs", 1, "--lookback", 2, "--horizon", 1]
    if data.startswith(b"timestamp,value,id"):  # a long file: its series by name
        fast += ["--id-col", "id"]
    with tempfile.TemporaryDirectory() as directory, contextlib.chdir(directory):
        path = _write(data, directory)
        args = [command, path, *fast, *COMMANDS[command]]
        result = CliRunner().invoke(app, [str(a) for a in args], default_map=IN_PROCESS)
    assert result.exit_code in (0, 2), (command, result.exit_code, result.output)
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
