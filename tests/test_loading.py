import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, error_line, flat, sine_frame

from forecast_cli.config import Aggregate, DataConfig, Fill
from forecast_cli.errors import ForecastError
from forecast_cli.loading import load_series

SENSORS = "timestamp,temperature,humidity\n" + "".join(
    f"2026-01-01 {h:02d}:00,{20 + h},{50 - h}\n" for h in range(6)
)


def load(path, **config):
    return load_series(path, DataConfig(**config))


def test_default_target_is_the_last_numeric_column_and_the_choice_is_said(write_csv):
    series = load(write_csv("s.csv", SENSORS))
    assert series.targets == ("humidity",) and series.features == ()
    assert series.time_col == "timestamp" and series.freq == "h"
    assert series.notes == (
        "Target: 'humidity' (the last numeric column); choose another with --target.",
    )
    np.testing.assert_array_equal(series.values[:, 0], [50, 49, 48, 47, 46, 45])


def test_the_default_target_is_never_one_of_the_features(write_csv):
    series = load(write_csv("s.csv", SENSORS), features=("humidity",))
    assert series.targets == ("temperature",) and series.features == ("humidity",)
    assert series.notes == (
        "Target: 'temperature' (the only numeric column); choose another with --target.",
    )


def test_targets_then_features_form_the_inputs(write_csv):
    series = load(write_csv("s.csv", SENSORS), targets=("temperature",), features=("humidity",))
    assert series.columns == ("temperature", "humidity")
    np.testing.assert_array_equal(series.values[0], [20, 50])


def test_rows_are_sorted_by_time_with_a_note(write_csv):
    text = "date,value\n2026-01-03,3\n2026-01-01,1\n2026-01-02,2\n"
    series = load(write_csv("s.csv", text))
    np.testing.assert_array_equal(series.values[:, 0], [1, 2, 3])
    assert "Rows sorted by time column 'date'." in series.notes
    assert series.freq == "D"


def test_a_date_column_with_one_bad_value_is_named_in_a_note(write_csv):
    text = "when,value\n" + "".join(f"2026-01-{d:02d},{d}\n" for d in range(1, 20)) + "soon,20\n"
    series = load(write_csv("s.csv", text), targets=("value",))
    assert series.time_col is None
    assert series.notes == (
        "Column 'when' looks like dates but line 21 holds 'soon', so it is "
        "not used as the time column; fix it or pass --time-col when.",
    )


def test_no_time_column_is_fine(write_csv):
    series = load(write_csv("s.csv", "value\n1\n2\n3\n"))
    assert series.time_col is None and series.times is None and series.freq is None


@pytest.mark.parametrize(
    ("content", "config", "message"),
    [
        (None, {}, "{path}: no such file. Check the path and the working directory."),
        ("", {}, "{path} is empty. It needs a header row and one row per time step."),
        ("a,b\n", {}, "{path} has a header row but no data rows."),
        (
            "t;v;w;v\n1;2;3;4\n",
            {},
            "{path} names column 'v' twice in its header (columns 2 and 4). Rename one of them.",
        ),
        ("0.5\n0.7\n", {}, "{path} has no header row: its first line (0.5) holds numbers."),
        (
            SENSORS,
            {"targets": ("pressure",)},
            "Column 'pressure' is not in {path}; available columns: 'timestamp', 'temperature', "
            "'humidity'.",
        ),
        (SENSORS, {"features": ("wind",)}, "Column 'wind' is not in {path}; available columns"),
        (SENSORS, {"time_col": "when"}, "Column 'when' is not in {path}"),
        (
            "t,value\n1,1.0\n2,oops\n3,2.0\n",
            {"targets": ("value",)},
            "Column 'value' in {path} is not numeric: line 3 holds 'oops'.",
        ),
        ("value\n1\n\n2\n", {}, "{path} has 1 missing value(s): 'value' 1 (first at line 3)."),
        (
            "value,x\n1,a\n,b\n3,c\n4,\n",
            {"targets": ("value",)},
            "{path} has 1 missing value(s): 'value' 1 (first at line 3). Choose how to fill them "
            "with --fill interpolate, --fill ffill or --fill drop.",
        ),
        (
            "value\n1\ninf\n3\n",
            {},
            "Column 'value' in {path} has 1 infinite value(s), first at line 3.",
        ),
        (
            "name,value\nx,1\n",
            {"targets": ("name",)},
            "Column 'name' in {path} is not numeric: line 2 holds 'x'.",
        ),
        (
            "date,value\n2026-01-01,1\nlater,2\n",
            {"time_col": "date"},
            "Time column 'date' in {path} has a value that is not a date: line 3 holds 'later'.",
        ),
        ("name,label\nx,y\n", {}, "Column 'label' in {path} is not numeric: line 2 holds 'y'."),
        (
            "a,b\n1,2\n3,4,5\n",
            {},
            "{path} is not well-formed CSV (Expected 2 fields in line 3, "
            "saw 3). Every row needs as many fields as the header.",
        ),
        (b"\xff\xfe\x00v", {}, "{path} is not UTF-8 text (invalid start byte at byte 0)."),
        (
            SENSORS,
            {"targets": ("humidity",), "time_col": "humidity"},
            "Column 'humidity' in {path} is the time column",
        ),
    ],
)
def test_bad_input_is_refused_with_the_file_and_the_fix(
    write_csv, tmp_path, content, config, message
):
    path = tmp_path / "missing.csv" if content is None else write_csv("bad.csv", content)
    if message is None:
        assert len(load(path, **config).values) == 2
        return
    with pytest.raises(ForecastError) as caught:
        load(path, **config)
    assert str(caught.value).startswith(message.format(path=path)), str(caught.value)


def test_semicolon_files_are_split_on_semicolons(write_csv):
    series = load(write_csv("s.csv", "date;value\n2026-01-01;1.5\n2026-01-02;2.5\n"))
    np.testing.assert_array_equal(series.values[:, 0], [1.5, 2.5])
    # Decimal commas are recognised in semicolon and tab files, or named with --decimal.
    commas = write_csv("d.csv", "date;value\n2026-01-01;1,5\n2026-01-02;-2,25\n")
    np.testing.assert_array_equal(load(commas).values[:, 0], [1.5, -2.25])
    tabs = write_csv("t.tsv", "date\tvalue\n2026-01-01\t1,5\n2026-01-02\t2\n")
    np.testing.assert_array_equal(load(tabs).values[:, 0], [1.5, 2])
    with pytest.raises(
        ForecastError, match="Column 'value' in .* is not numeric: line 2 holds '1,5'"
    ):
        load(commas, decimal=".")
    # A comma file keeps the point: '1,5' there would be two fields.
    np.testing.assert_array_equal(load(write_csv("p.csv", "v\n1.5\n2\n")).values[:, 0], [1.5, 2])


def test_gzip_files_and_standard_input_are_read(write_csv, tmp_path, monkeypatch):
    text = "date,value\n2026-01-01,1\n2026-01-02,2\n2026-01-03,3\n"
    packed = tmp_path / "s.csv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    plain = load(write_csv("s.csv", text))
    unpacked = load(packed)
    np.testing.assert_array_equal(unpacked.values, plain.values)
    assert unpacked.sha256 == plain.sha256 and unpacked.freq == "D"  # the same data
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    piped = load(Path("-"))
    np.testing.assert_array_equal(piped.values, plain.values)
    (tmp_path / "bad.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(ForecastError, match="bad.csv.gz is not a readable gzip file"):
        load(tmp_path / "bad.csv.gz")


def test_an_empty_cell_in_a_one_column_file_is_a_missing_value(write_csv):
    with pytest.raises(ForecastError, match="has 1 missing value"):
        load(write_csv("s.csv", "value\n1\n2\n\n4\n"))


def test_a_stray_text_value_is_reported_not_skipped_by_the_default_target(write_csv):
    text = "a,b\n" + "".join(f"{i},{2 * i}\n" for i in range(10)) + "10,oops\n"
    with pytest.raises(
        ForecastError, match="Column 'b' in .* is not numeric: line 12 holds 'oops'"
    ):
        load(write_csv("s.csv", text))


def test_a_directory_is_not_a_file(tmp_path):
    with pytest.raises(ForecastError, match="is not a file"):
        load(tmp_path)


@pytest.mark.parametrize(
    ("fill", "expected"),
    [(Fill.INTERPOLATE, [1, 2, 3, 4]), (Fill.FFILL, [1, 1, 3, 4]), (Fill.DROP, [1, 3, 4])],
)
def test_fill_modes(write_csv, fill, expected):
    series = load(write_csv("s.csv", "value\n1\n\n3\n4\n".replace("\n\n", "\nNA\n")), fill=fill)
    np.testing.assert_array_equal(series.values[:, 0], expected)
    said = (
        "Dropped 1 row(s)" if fill is Fill.DROP else f"Filled 1 missing value(s) with --fill {fill}"
    )
    assert series.notes[-1].startswith(said)


REPEATS = "day,value\n2026-01-01,1\n2026-01-02,2\n2026-01-02,4\n2026-01-03,3\n2026-01-03,\n"


def test_repeated_timestamps_are_refused_naming_their_lines(write_csv):
    path = write_csv("r.csv", REPEATS)
    with pytest.raises(ForecastError) as error:
        load(path)
    assert str(error.value) == (
        f"Time column 'day' in {path} repeats timestamps (2 extra row(s)): 2026-01-02 00:00:00 "
        "is on lines 3, 4. Remove the repeats, or combine them with --aggregate mean, sum or "
        "last."
    )


@pytest.mark.parametrize(
    ("aggregate", "expected"),
    [(Aggregate.MEAN, [1, 3, 3]), (Aggregate.SUM, [1, 6, 3]), (Aggregate.LAST, [1, 4, 3])],
)
def test_aggregate_combines_repeated_timestamps(write_csv, aggregate, expected):
    series = load(write_csv("r.csv", REPEATS), aggregate=aggregate)  # the empty cell is skipped
    np.testing.assert_array_equal(series.values[:, 0], expected)
    assert series.freq == "D" and len(series.times) == 3
    assert (
        f"Combined 2 row(s) that repeat a timestamp with --aggregate {aggregate}"
        in (series.notes[-1])
    )


GAPS = "day,value\n2026-01-05,1\n2026-01-06,2\n2026-01-09,5\n2026-01-10,6\n"


def test_gaps_are_reported_and_filled_only_when_asked(write_csv):
    path = write_csv("g.csv", GAPS)
    kept = load(path)
    assert kept.freq == "D" and len(kept.values) == 4
    assert kept.notes[-1].startswith(
        "2 missing step(s) of D in the time column, first 2026-01-07 00:00:00; the rows around "
        "them are taken as consecutive."
    )
    filled = load(path, fill=Fill.INTERPOLATE)
    np.testing.assert_array_equal(filled.values[:, 0], [1, 2, 3, 4, 5, 6])
    assert list(filled.times) == list(pd.date_range("2026-01-05", periods=6, freq="D"))
    assert filled.notes[-1].endswith("filled with --fill interpolate.")
    np.testing.assert_array_equal(load(path, fill=Fill.FFILL).values[:, 0], [1, 2, 2, 2, 5, 6])


def test_freq_is_checked_against_the_time_column(write_csv):
    path = write_csv("g.csv", GAPS)
    assert load(path, freq="D").freq == "D"
    with pytest.raises(ForecastError, match="2026-01-10 00:00:00 is not B steps after"):
        load(path, freq="B")  # a Saturday
    with pytest.raises(ForecastError, match="--freq 'fortnightly' is not a pandas frequency"):
        load(path, freq="fortnightly")
    with pytest.raises(ForecastError, match="--freq 2D does not fit time column 'day'"):
        load(path, freq="2D")


def test_time_zones_are_kept(write_csv):
    text = "t,v\n" + "".join(f"2026-03-01T{h:02d}:00:00+01:00,{h}\n" for h in range(5))
    series = load(write_csv("tz.csv", text))
    assert str(series.times.tz) == "UTC+01:00" and series.freq == "h"


def test_parquet_files_are_read_with_their_types(write_csv, tmp_path):
    frame = pd.DataFrame(
        {"when": pd.date_range("2026-01-01", periods=5, freq="D"), "value": [1.0, 2, 3, 4, 5]}
    )
    frame.to_parquet(tmp_path / "s.parquet")
    series = load(tmp_path / "s.parquet")
    assert series.time_col == "when" and series.freq == "D"
    np.testing.assert_array_equal(series.values[:, 0], [1, 2, 3, 4, 5])
    frame["value"] = ["1", "2", "oops", "4", "5"]
    frame.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ForecastError, match="line 3 holds 'oops'"):  # the third row
        load(tmp_path / "bad.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ForecastError, match="broken.parquet is not a readable Parquet file"):
        load(tmp_path / "broken.parquet")


def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    (tmp_path / "bom.csv").write_bytes("\ufeffday,value\n2026-01-01,1\n2026-01-02,2\n".encode())
    series = load(tmp_path / "bom.csv")
    assert series.time_col == "day" and series.targets == ("value",)


def test_dates_in_another_single_format_are_read_and_their_reading_said(write_csv):
    us = load(write_csv("us.csv", "date,value\n01/02/2026,1\n01/03/2026,2\n01/04/2026,3\n"))
    assert us.time_col == "date" and us.freq == "D" and us.times[0] == pd.Timestamp("2026-01-02")
    assert "Dates in 'date' read as %m/%d/%Y: '01/02/2026' is 02 January 2026." in us.notes
    # A day above 12 can only be day first.
    eu = load(write_csv("eu.csv", "date,value\n30/01/2026,1\n31/01/2026,2\n01/02/2026,3\n"))
    assert eu.freq == "D" and eu.times[-1] == pd.Timestamp("2026-02-01")


def test_mixed_date_formats_are_refused_clearly(write_csv):
    path = write_csv("m.csv", "date,value\n2026-01-02,1\n2026-01-03,2\n01/04/2026,3\n")
    with pytest.raises(ForecastError) as error:
        load(path, time_col="date")
    assert str(error.value) == (
        f"Time column 'date' in {path} mixes date formats: line 2 holds '2026-01-02', line 4 "
        "holds '01/04/2026'. Write every date the same way, e.g. 2026-01-31."
    )
    detected = load(path)  # not taken as the time column, and said so
    assert detected.time_col is None
    assert "Column 'date' mixes date formats (line 2 holds '2026-01-02'" in detected.notes[0]


def spreadsheet_export(frame: pd.DataFrame, empty_rows: int = 3) -> bytes:
    """``frame`` as a spreadsheet saves it: BOM, ';', decimal comma, CRLF, and a few
    all-empty rows at the end (';' between the empty cells)."""
    text = frame.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n")
    empty = ";" * (len(frame.columns) - 1) + "\r\n"
    return b"\xef\xbb\xbf" + (text + empty * empty_rows).encode()


def test_a_spreadsheet_export_with_empty_rows_at_the_end_trains_on_its_dates(
    cli, write_csv, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "300")  # the note names a long temporary path: one line
    frame = sine_frame(rows=150).rename(columns={"timestamp": "Datum", "value": "Wert"})
    data = write_csv("export.csv", spreadsheet_export(frame))
    result = cli("train", data, *FAST, "--json")
    assert result.exit_code == 0, result.output
    assert f"Dropped 3 empty row(s) at the end of {data} (lines 152-154)." in flat(result.stderr)
    assert "(150 rows, time column 'Datum', frequency h)" in flat(result.stderr)
    # Empty rows elsewhere are still missing values: only the tail is not data.
    holed = write_csv("holed.csv", "value\n1\n\n3\n4\n\n\n")
    message = error_line(cli("train", holed))
    assert "has 1 missing value(s): 'value' 1 (first at line 3)" in message


def sales_frame(rows: int = 100) -> pd.DataFrame:
    """Daily sales in the thousands, with a weekly pattern."""
    days = np.arange(rows)
    return pd.DataFrame(
        {
            "Datum": pd.date_range("2026-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
            "Umsatz": 2000 + 800 * np.sin(2 * np.pi * days / 7) + days,
        }
    )


def trained_offset(result, tmp_path) -> float:
    """The mean of the training rows, as the model's scaling recorded it."""
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "forecast-model" / "forecast.json").read_text())
    return card["scaling"]["offset"][0]


def german(value: float) -> str:
    return f"{value:_.2f}".replace(".", ",").replace("_", ".")


def english(value: float) -> str:
    return f'"{value:,.1f}"'  # quoted: the comma is the file's separator


@pytest.mark.parametrize(
    ("sep", "text", "decimals", "note"),
    [
        # '.' groups thousands in a decimal-comma file; its dates stay dates
        (";", german, 2, "Read '.' as the thousands separator: '2.000,00' is 2000.00"),
        (",", english, 1, "Read ',' as the thousands separator: '2,000.0' is 2000.0"),
    ],
    ids=["german", "english"],
)
def test_thousands_separators_are_read_where_they_can_only_be_that(
    cli, write_csv, tmp_path, sep, text, decimals, note
):
    frame = sales_frame()
    lines = [f"Datum{sep}Umsatz"] + [f"{d}{sep}{text(v)}" for d, v in frame.itertuples(False)]
    data = write_csv("sales.csv", "\n".join(lines) + "\n")
    result = cli("train", data, *FAST, "--horizon", 5)
    assert note in flat(result.output)
    assert "time column 'Datum', frequency D" in flat(result.output)
    expected = frame["Umsatz"].round(decimals)[:80].mean()  # 100 rows, 20 validate
    assert trained_offset(result, tmp_path) == pytest.approx(expected, rel=1e-6)


def test_other_thousands_separators_are_named_with_the_flag(cli, write_csv, tmp_path):
    frame = sales_frame()
    lines = ["Datum;Umsatz"] + [
        f"{d};{v:_.1f}".replace(".", ",").replace("_", " ") for d, v in frame.itertuples(False)
    ]
    data = write_csv("sales.csv", "\n".join(lines) + "\n")
    assert error_line(cli("train", data)) == (
        f"Error: Column 'Umsatz' in {data} is not numeric: line 2 holds '2 000,0'. If ' ' "
        'separates thousands there, pass --thousands " "; else fix that value or choose '
        "another column with --target."
    )
    result = cli("train", data, *FAST, "--horizon", 5, "--thousands", " ")
    expected = frame["Umsatz"].round(1)[:80].mean()
    assert trained_offset(result, tmp_path) == pytest.approx(expected, rel=1e-6)
    assert error_line(cli("train", data, "--thousands", "_")) == (
        "Error: --thousands: expected one of ',', '.', ' ', \"'\", got '_'."
    )
