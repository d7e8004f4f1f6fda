"""Read a CSV file into a clean numeric series, or say exactly what is wrong with it."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import io
import re
import sys
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from forecast_cli.calendar_features import calendar_names, calendar_values, future_times
from forecast_cli.config import Aggregate, DataConfig, Fill
from forecast_cli.errors import ForecastError

_TIME_NAMES = ("date", "time", "timestamp", "datetime", "ds")
STDIN = Path("-")
FRAME = Path("<DataFrame>")  # how a DataFrame given to the Python API is named

Source = Path | pd.DataFrame  # a file ('-' for standard input), or a frame in memory


@dataclass(frozen=True)
class Series:
    """A loaded series: one row per time step, targets first, then the extra inputs:
    features (known up to now), future features (known ahead), calendar columns."""

    values: np.ndarray  # (rows, len(columns)) float32
    targets: tuple[str, ...]
    features: tuple[str, ...]
    times: pd.DatetimeIndex | None
    time_col: str | None
    freq: str | None
    path: Path
    sha256: str
    notes: tuple[str, ...] = field(default=())
    calendar: tuple[str, ...] = ()  # --calendar columns, made from the times, after features
    future_features: tuple[str, ...] = ()  # --future-features, after the features
    name: str | None = None  # the series' value in the --id-col column (long format)
    id_col: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        return self.targets + self.features + self.future_features + self.calendar

    @property
    def known_ahead(self) -> slice:
        """The columns of the future features."""
        first = len(self.targets) + len(self.features)
        return slice(first, first + len(self.future_features))

    def head(self, rows: int) -> Series:
        """The series up to (not including) row ``rows``: what was known at that time."""
        times = self.times[:rows] if self.times is not None else None
        return dataclasses.replace(self, values=self.values[:rows], times=times)

    def future_index(self, steps: int, freq: str | None) -> tuple[str, object]:
        """``(name, values)`` of a forecast's first column: the times continuing the
        series at ``freq``, else step numbers."""
        if self.times is not None and freq:
            return self.time_col, future_times(self.times, freq, steps)
        return "step", np.arange(1, steps + 1)

    def resolved(self, asked: DataConfig) -> DataConfig:
        """``asked`` with what was detected filled in: it reloads exactly these columns."""
        return dataclasses.replace(
            asked,
            targets=self.targets,
            time_col=self.time_col,
            features=self.features,
            future_features=self.future_features,
        )


def panel_notes(panel: tuple[Series, ...]) -> tuple[str, ...]:
    """The notes of every series of a panel, each said once."""
    return tuple(dict.fromkeys(note for series in panel for note in series.notes))


def load_series(source: Source, config: DataConfig) -> Series:
    """Load ``source`` with ``config``; raise ``ForecastError`` naming the fix on bad input."""
    (series,) = load_panel(source, dataclasses.replace(config, id_col=None))
    return series


def source_path(source: Source) -> Path:
    """The path a source is named by in messages and model cards."""
    return FRAME if isinstance(source, pd.DataFrame) else Path(source)


def check_source(source: Source, config: DataConfig) -> None:
    """Refuse what needs neither the file's content nor the machine: a file that is not
    there, a column named both a feature and a future feature. The commands ask first,
    before setting up TensorFlow (seconds), so a mistyped path is answered at once."""
    both = set(config.features) & set(config.future_features)
    if both:
        raise ForecastError(
            f"Column '{sorted(both)[0]}' is in both --features (known up to now) and "
            "--future-features (known ahead); name it in one of them."
        )
    path = source_path(source)
    if not isinstance(source, pd.DataFrame) and str(path) != "-" and not path.exists():
        raise ForecastError(f"{path}: no such file. Check the path and the working directory.")


def load_panel(source: Source, config: DataConfig) -> tuple[Series, ...]:
    """Every series in ``source``: one per value of ``config.id_col`` (long format), in the
    order they first appear, or the file's one series. Columns, time column and target are
    settled once for the whole file; each series is sorted, deduplicated and filled alone.
    A DataFrame is read as the CSV file it would be written to."""
    check_source(source, config)
    path = source_path(source)
    if isinstance(source, pd.DataFrame):
        data = source.to_csv(index=False).encode()
    else:
        data = _read_bytes(path)
    notes: list[str] = []
    if path.suffix.lower() == ".parquet":
        frame = _read_parquet(path, data)
    else:
        frame = _read_csv(path, data, config, notes)
    frame = _without_empty_tail(frame, path, notes)
    id_col = config.id_col
    ids = None
    if id_col is not None:
        ids = _ids(frame, id_col, path)
        frame = frame.drop(columns=id_col)
    time_col = config.time_col or _detect_time_column(frame, notes)
    inputs = (*config.features, *config.future_features)
    if time_col is not None and time_col in (*(config.targets or ()), *inputs):
        raise ForecastError(
            f"Column '{time_col}' in {path} is the time column; it cannot also be a target "
            "or feature. Choose another --time-col or --target."
        )
    for named in (*(config.targets or ()), *inputs, config.time_col):
        if named is not None and named == id_col:
            raise ForecastError(
                f"Column '{id_col}' in {path} is the --id-col; it cannot also be a target, "
                "feature or time column."
            )
    times = _parse_times(frame, time_col, path, notes) if time_col is not None else None
    if times is not None and id_col is None and config.aggregate is None:
        _refuse_long_format(frame, times, time_col, path)
    targets = config.targets or _default_target(
        frame.drop(columns=[c for c in inputs if c in frame.columns]),
        time_col,
        path,
        notes,
    )
    columns = list(dict.fromkeys((*targets, *inputs)))
    for column in columns:
        _require_column(frame, column, path)
    numbers = pd.DataFrame({c: _numeric_column(frame[c], c, path) for c in columns})
    file = _File(path, hashlib.sha256(data).hexdigest(), tuple(targets), time_col, id_col)
    if ids is None:
        return (_series(file, None, numbers, times, config, notes),)
    return tuple(
        _series(
            file,
            name,
            numbers.iloc[rows],
            times[rows] if times is not None else None,
            config,
            notes,
        )
        for name, rows in ids
    )


@dataclass(frozen=True)
class _File:
    """What ``load_panel`` settled for the whole file, shared by its series."""

    path: Path
    sha256: str
    targets: tuple[str, ...]
    time_col: str | None
    id_col: str | None


def _ids(frame: pd.DataFrame, id_col: str, path: Path) -> list[tuple[str, np.ndarray]]:
    """Each series' name and its row positions, in order of first appearance (index
    arrays, together as long as the file: one mask per series would be rows x series)."""
    _require_column(frame, id_col, path)
    column = frame[id_col]
    missing = np.flatnonzero(column.isna().to_numpy())
    if len(missing):
        raise ForecastError(
            f"--id-col '{id_col}' in {path} is empty on line {_line(column.index[missing[0]])}; "
            "every row needs the name of its series."
        )
    codes, names = pd.factorize(column.astype(str).str.strip())
    order = np.argsort(codes, kind="stable")
    ends = np.cumsum(np.bincount(codes, minlength=len(names)))[:-1]
    return list(zip(names, np.split(order, ends), strict=True))


def _series(
    file: _File,
    name: str | None,
    numbers: pd.DataFrame,
    times: pd.DatetimeIndex | None,
    config: DataConfig,
    notes: list[str],
) -> Series:
    """One series from its rows: sorted by time, repeats combined, gaps and missing values
    handled as ``config`` says. ``notes`` about this series are prefixed with its name."""
    path, time_col = file.path, file.time_col
    own: list[str] = []
    if times is not None and not times.is_monotonic_increasing:
        order = np.argsort(times.to_numpy(), kind="stable")
        numbers, times = numbers.iloc[order], times[order]
        own.append(f"Rows sorted by time column '{time_col}'.")
    freq = None
    if times is not None:
        numbers, times = _combine_repeated(numbers, times, time_col, config.aggregate, path, own)
    numbers, times = _handle_missing(numbers, times, config.fill, path, own)
    if len(numbers) == 0:
        raise ForecastError(f"{path} has no rows left after --fill drop; use --fill interpolate.")
    if times is not None:
        freq = _frequency(times, config.freq, time_col, path)
        numbers, times = _fill_gaps(numbers, times, freq, config.fill, own)
    calendar = _calendar(numbers, times, freq, path) if config.calendar else ()
    if calendar:  # a new frame: ``numbers`` may be a slice of the whole file's
        numbers = numbers.assign(
            **dict(zip(calendar, calendar_values(times, calendar).T, strict=True))
        )
    prefix = f"Series '{name}': " if name is not None else ""
    return Series(
        values=numbers.to_numpy(dtype=np.float32),
        targets=file.targets,
        features=tuple(c for c in config.features if c not in file.targets),
        future_features=tuple(c for c in config.future_features if c not in file.targets),
        times=times,
        time_col=time_col,
        freq=freq,
        path=path,
        sha256=file.sha256,
        notes=tuple(notes) + tuple(prefix + note for note in own),
        calendar=calendar,
        name=name,
        id_col=file.id_col,
    )


def _calendar(
    numbers: pd.DataFrame, times: pd.DatetimeIndex | None, freq: str | None, path: Path
) -> tuple[str, ...]:
    """The ``--calendar`` columns for these times, or why there can be none."""
    if times is None or freq is None or len(times) < 2:
        raise ForecastError(
            f"--calendar needs a time column with a regular step, and {path} has "
            f"{'no time column' if times is None else 'none'}: name it with --time-col, "
            "give its step with --freq, or leave out --calendar."
        )
    names = calendar_names(times)
    if not names:
        raise ForecastError(
            f"--calendar adds the position in the day, week and year, and the steps of {path} "
            f"({freq}) are a year or longer: leave out --calendar."
        )
    taken = [name for name in names if name in numbers.columns]
    if taken:
        raise ForecastError(
            f"--calendar adds columns {', '.join(names)}, and {path} already has "
            f"{', '.join(taken)}: rename them or leave out --calendar."
        )
    return names


def _read_bytes(path: Path) -> bytes:
    """The file's content: ``-`` is standard input, and a ``.gz`` file is decompressed."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    if not path.is_file():
        raise ForecastError(f"{path} is not a file. Pass the path of a CSV file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ForecastError(f"{path} cannot be read: {exc.strerror}.") from None
    if path.suffix.lower() == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ForecastError(f"{path} is not a readable gzip file ({exc}).") from None
    return data


def _read_csv(path: Path, data: bytes, config: DataConfig, notes: list[str]) -> pd.DataFrame:
    lines = data[: 1 << 16].decode("utf-8-sig", errors="replace").splitlines()
    header = lines[0] if lines else ""
    delimiter = max((",", ";", "\t"), key=header.count) if header.strip() else ","
    _refuse_repeated_names(path, header, delimiter)
    fields = _fields(lines[1:], delimiter)
    if config.thousands:  # 1 234,5 then counts as a decimal comma
        fields = [field.replace(config.thousands, "") for field in fields]
    decimal = config.decimal or _decimal_mark(fields, delimiter)
    thousands = config.thousands or _thousands(fields, decimal, notes)
    try:
        with warnings.catch_warnings():
            # A row longer than the header would become the index, or lose its extra
            # fields with only a warning: refuse it instead.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # Blank lines are kept as empty rows: in a one-column file they are missing.
            frame = pd.read_csv(
                io.BytesIO(data),
                sep=delimiter,
                decimal=decimal,
                skip_blank_lines=False,
                index_col=False,
            )
    except pd.errors.ParserWarning:
        raise ForecastError(
            f"{path} is not well-formed CSV: {_longer_row(data, delimiter)} has more fields "
            "than the header. Every row needs as many fields as the header."
        ) from None
    except pd.errors.EmptyDataError:
        raise ForecastError(
            f"{path} is empty. It needs a header row and one row per time step."
        ) from None
    except UnicodeDecodeError as exc:
        raise ForecastError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}). "
            "Save it as a UTF-8 CSV file."
        ) from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[0].removeprefix("Error tokenizing data. C error: ")
        raise ForecastError(
            f"{path} is not well-formed CSV ({detail}). Every row needs as many fields as "
            "the header."
        ) from None
    if all(_looks_numeric(name) for name in frame.columns):
        raise ForecastError(
            f"{path} has no header row: its first line ({', '.join(map(str, frame.columns))}) "
            "holds numbers. Add a first line naming the columns, e.g. 'value'."
        )
    if frame.empty:
        raise ForecastError(f"{path} has a header row but no data rows.")
    return _separated_numbers(frame, thousands, decimal) if thousands else frame


def _without_empty_tail(frame: pd.DataFrame, path: Path, notes: list[str]) -> pd.DataFrame:
    """``frame`` without its trailing rows whose every cell is empty: spreadsheets export
    them (``;;`` lines), and read as data they would be missing values, and a time
    column with a hole would no longer be taken as one."""
    filled = np.flatnonzero(frame.notna().any(axis=1).to_numpy())
    if len(filled) == 0:
        raise ForecastError(f"{path} has a header row but no data rows.")
    end = int(filled[-1]) + 1
    if end == len(frame):
        return frame
    first, last = _line(frame.index[end]), _line(frame.index[-1])
    lines = f"line {first}" if first == last else f"lines {first}-{last}"
    notes.append(f"Dropped {len(frame) - end} empty row(s) at the end of {path} ({lines}).")
    return frame.iloc[:end]


def _read_parquet(path: Path, data: bytes) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises its own types for a damaged file
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ForecastError(f"{path} is not a readable Parquet file ({detail[:200]}).") from None
    if frame.empty:
        raise ForecastError(f"{path} has no rows.")
    frame.columns = [str(c) for c in frame.columns]
    # Messages name rows by 'line', counting a CSV header as line 1; a Parquet file has
    # none, so its first row is labelled -1 and reported as line 1.
    return frame.reset_index(drop=True).set_axis(pd.RangeIndex(-1, len(frame) - 1))


def _longer_row(data: bytes, delimiter: str) -> str:
    """'line N', the first row with more fields than the header (read only on error)."""
    text = io.StringIO(data.decode("utf-8-sig", errors="replace"), newline="")
    rows = csv.reader(text, delimiter=delimiter)
    width = len(next(rows, []))
    return next((f"line {rows.line_num}" for row in rows if len(row) > width), "a row")


def _fields(lines: list[str], delimiter: str) -> list[str]:
    """The fields of ``lines`` (a sample of the file), stripped, quotes removed."""
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:  # read_csv reports what is wrong with the file
        rows = [line.split(delimiter) for line in lines]
    return [field.strip() for row in rows for field in row]


def _decimal_mark(fields: list[str], delimiter: str) -> str:
    """',' when the fields of a semicolon or tab file write decimals with a comma only
    (1,5 or 1.234,5); a point that may separate thousands (1.234) does not count."""
    if delimiter == ",":
        return "."
    commas = sum(bool(_COMMA_DECIMAL.fullmatch(field)) for field in fields)
    points = sum(
        bool(_POINT_DECIMAL.fullmatch(field) and not _grouped(".", "").fullmatch(field))
        for field in fields
    )
    return "," if commas and not points else "."


def _thousands(fields: list[str], decimal: str, notes: list[str]) -> str | None:
    """The other mark than ``decimal`` ('.' or ','), when numbers group their digits by
    three with it (1,234.5; 1.234,5 in a decimal-comma file; "1,234" in a comma file,
    whose decimal mark is the point) and none uses it as a decimal mark (1,5 or 0,123):
    then it can only separate thousands. Said in a note."""
    other = "," if decimal == "." else "."
    grouped = _grouped(other, decimal)
    using = [field for field in fields if grouped.fullmatch(field)]
    single = re.compile(rf"[-+]?\d*{re.escape(other)}\d+")
    if not using or any(single.fullmatch(f) and not grouped.fullmatch(f) for f in fields):
        return None
    plain = using[0].replace(other, "").replace(decimal, ".")
    notes.append(
        f"Read '{other}' as the thousands separator: '{using[0]}' is {plain} (--thousands "
        "names another, --decimal the decimal mark)."
    )
    return other


def _separated_numbers(frame: pd.DataFrame, thousands: str, decimal: str) -> pd.DataFrame:
    """``frame`` with the numbers written with ``thousands`` separators in its text columns
    read as numbers. Only those and plain numbers are: a date such as 01.02.2026 stays
    text (read_csv's own ``thousands`` would make it 1022026), and so does a value that
    is no number, for the column's checks to name."""
    separated = _grouped(thousands, decimal)
    plain = re.compile(rf"[-+]?\d+(?:{re.escape(decimal)}\d+)?")
    for name in frame.select_dtypes(include="object").columns:
        column = frame[name]
        text = column.astype(str).str.strip()
        grouped = column.notna() & text.str.fullmatch(separated)
        if not grouped.any():
            continue
        number = grouped | (column.notna() & text.str.fullmatch(plain))
        values = pd.to_numeric(
            text[number].str.replace(thousands, "").str.replace(decimal, "."), errors="coerce"
        )
        if number.sum() == column.notna().sum():
            frame[name] = values.reindex(column.index)
        else:
            frame[name] = column.where(~number, values)
    return frame


def _grouped(thousands: str, decimal: str) -> re.Pattern:
    """A number whose digits ``thousands`` groups by three: 1,234 or 12,345.6 (with a
    ``decimal`` mark), never 0,123."""
    fraction = rf"(?:{re.escape(decimal)}\d+)?" if decimal else ""
    return re.compile(rf"[-+]?[1-9]\d{{0,2}}(?:{re.escape(thousands)}\d{{3}})+{fraction}")


_COMMA_DECIMAL = re.compile(r"[-+]?(?:\d+|[1-9]\d{0,2}(?:\.\d{3})+),\d+")
_POINT_DECIMAL = re.compile(r"[-+]?\d*\.\d+")
_SEPARATED = re.compile(r"[-+]?[1-9]\d{0,2}(?P<mark>[,.' ])\d{3}(?:(?P=mark)\d{3})*(?:[.,]\d+)?")


def _refuse_repeated_names(path: Path, header: str, delimiter: str) -> None:
    """pandas would silently rename a repeated column ('v', 'v.1'): say so instead."""
    try:
        names = next(csv.reader([header], delimiter=delimiter), [])
    except csv.Error:
        return  # read_csv reports what is wrong with the file
    seen: dict[str, int] = {}
    for number, name in enumerate((n.strip() for n in names), start=1):
        if name and name in seen:
            raise ForecastError(
                f"{path} names column '{name}' twice in its header (columns {seen[name]} and "
                f"{number}). Rename one of them."
            )
        seen[name] = number


def _looks_numeric(name: object) -> bool:
    try:
        float(str(name))
    except ValueError:
        return False
    return True


def _line(label: int) -> int:
    """File line number of the data row with index ``label`` (the header is line 1).

    Rows keep the index ``read_csv`` gave them, so this holds after sorting by time.
    """
    return int(label) + 2


def _require_column(frame: pd.DataFrame, column: str, path: Path) -> None:
    if column not in frame.columns:
        available = ", ".join(f"'{c}'" for c in frame.columns)
        raise ForecastError(f"Column '{column}' is not in {path}; available columns: {available}.")


def _detect_time_column(frame: pd.DataFrame, notes: list[str]) -> str | None:
    """The first non-numeric column whose every value parses as a date, preferring usual
    names. A column that almost does, or mixes date formats, is named in a note."""
    candidates = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    candidates.sort(key=lambda c: str(c).lower() not in _TIME_NAMES)
    for column in candidates:
        parsed, _ = _to_datetime(frame[column])
        if parsed is None:
            continue
        if parsed.notna().all():
            return column
        mixed = _mixed_formats(frame[column], parsed)
        if mixed or parsed.notna().mean() >= 0.9:
            bad = int(np.flatnonzero(parsed.isna().to_numpy())[0])
            problem = (
                f"mixes date formats ({mixed})"
                if mixed
                else f"looks like dates but line {_line(frame.index[bad])} holds "
                f"'{frame[column].iloc[bad]}'"
            )
            notes.append(
                f"Column '{column}' {problem}, so it is not used as the time column; fix it "
                f"or pass --time-col {column}."
            )
    return None


def _to_datetime(column: pd.Series) -> tuple[pd.Series | None, str]:
    """The column as dates in one format, and that format: ISO 8601, or the format of its
    first value (month first, then day first, as in 01/02/2026); unparsed values are NaT."""
    if pd.api.types.is_numeric_dtype(column):
        column = column.astype(str)  # a year column; never epoch seconds by accident
    first = next((v for v in column if isinstance(v, str) and v.strip()), None)
    forms = ["ISO8601"]
    for dayfirst in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # pandas' note on dayfirst
            form = guess_datetime_format(first, dayfirst=dayfirst) if first else None
        if form and form not in forms:
            forms.append(form)
    best, best_form = None, forms[0]
    for form in forms:
        try:
            parsed = pd.to_datetime(column, errors="coerce", format=form)
        except (ValueError, TypeError, OverflowError):
            continue
        if best is None or parsed.notna().sum() > best.notna().sum():
            best, best_form = parsed, form
        if parsed.notna().all():
            break
    return best, best_form


def _mixed_formats(column: pd.Series, parsed: pd.Series) -> str | None:
    """'line A holds X, line B holds Y' when every value is a date but not in one format."""
    if parsed.notna().all() or not parsed.notna().any():
        return None
    try:  # only the values the one format missed: parsing in any format is slow
        rest = pd.to_datetime(column[parsed.isna()], errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError):
        return None
    if not rest.notna().all():
        return None
    good, bad = (int(np.flatnonzero(mask)[0]) for mask in (parsed.notna(), parsed.isna()))
    return (
        f"line {_line(column.index[good])} holds '{column.iloc[good]}', line "
        f"{_line(column.index[bad])} holds '{column.iloc[bad]}'"
    )


def _parse_times(
    frame: pd.DataFrame, time_col: str, path: Path, notes: list[str]
) -> pd.DatetimeIndex:
    _require_column(frame, time_col, path)
    column = frame[time_col]
    parsed, form = _to_datetime(column)
    if parsed is None:
        parsed = pd.Series(pd.NaT, index=column.index)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        mixed = _mixed_formats(column, parsed)
        if mixed:
            raise ForecastError(
                f"Time column '{time_col}' in {path} mixes date formats: {mixed}. Write every "
                "date the same way, e.g. 2026-01-31."
            )
        raise ForecastError(
            f"Time column '{time_col}' in {path} has a value that is not a date: "
            f"line {_line(column.index[bad[0]])} holds '{column.iloc[bad[0]]}'. Fix it, or "
            "choose another --time-col."
        )
    if "%m" in form and "%d" in form and not form.startswith("%Y"):  # 01/02 or 02/01?
        notes.append(
            f"Dates in '{time_col}' read as {form}: '{column.iloc[0]}' is "
            f"{parsed.iloc[0]:%d %B %Y}."
        )
    return pd.DatetimeIndex(parsed)


def _refuse_long_format(
    frame: pd.DataFrame, times: pd.DatetimeIndex, time_col: str, path: Path
) -> None:
    """Rows that share a timestamp and that a text column tells apart (a store, a
    sensor) are several series in long format: say to name that column with --id-col
    before --aggregate, which would add the series up."""
    repeated = times.duplicated(keep=False)
    if not repeated.any():
        return
    for column in frame.columns:
        names = frame[column]
        if column == time_col or _mostly_numbers(names) or names.nunique() > len(names) / 2:
            continue
        pairs = pd.DataFrame({"time": times[repeated], "name": names.to_numpy()[repeated]})
        if not pairs.duplicated().any():
            raise ForecastError(
                f"Time column '{time_col}' in {path} repeats timestamps that column "
                f"'{column}' tells apart: the file holds {names.nunique()} series, one per "
                f"'{column}'. Forecast each with --id-col {column} (or combine them into one "
                "series with --aggregate sum, mean or last)."
            )


def _default_target(
    frame: pd.DataFrame, time_col: str | None, path: Path, notes: list[str]
) -> tuple[str]:
    # Mostly numbers counts as numeric, so a stray text value is reported, not skipped.
    numeric = [c for c in frame.columns if c != time_col and _mostly_numbers(frame[c])]
    if not numeric:
        others = [c for c in frame.columns if c != time_col]
        if others:  # say which value keeps the last column from being numeric
            _numeric_column(frame[others[-1]], others[-1], path)
        raise ForecastError(
            f"{path} has no numeric column to forecast. Add one, or name it with --target COL."
        )
    reason = "the only numeric column" if len(numeric) == 1 else "the last numeric column"
    notes.append(f"Target: '{numeric[-1]}' ({reason}); choose another with --target.")
    return (numeric[-1],)


def _mostly_numbers(column: pd.Series) -> bool:
    present = column.dropna()
    if pd.api.types.is_bool_dtype(column) or present.empty:
        return False
    return pd.to_numeric(present, errors="coerce").notna().mean() >= 0.5


def _numeric_column(column: pd.Series, name: str, path: Path) -> pd.Series:
    if pd.api.types.is_bool_dtype(column):
        raise ForecastError(f"Column '{name}' in {path} holds true/false values, not numbers.")
    numbers = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero(numbers.isna().to_numpy() & column.notna().to_numpy())
    if len(bad):
        value = str(column.iloc[bad[0]])
        separated = _SEPARATED.fullmatch(value.strip())
        hint = (
            f"If '{separated['mark']}' separates thousands there, pass --thousands "
            f'"{separated["mark"]}"; else fix'
            if separated
            else "Fix"
        )
        raise ForecastError(
            f"Column '{name}' in {path} is not numeric: line {_line(column.index[bad[0]])} holds "
            f"'{value}'. {hint} that value or choose another column with --target."
        )
    infinite = np.flatnonzero(np.isinf(numbers.to_numpy(dtype=float)))
    if len(infinite):
        raise ForecastError(
            f"Column '{name}' in {path} has {len(infinite)} infinite value(s), first at line "
            f"{_line(column.index[infinite[0]])}. Replace them with numbers, or empty the "
            "cells and pass --fill."
        )
    huge = np.flatnonzero(np.abs(numbers.to_numpy(dtype=float)) > _LARGEST)
    if len(huge):
        raise ForecastError(
            f"Column '{name}' in {path} holds values too large for 32-bit floats (beyond "
            f"{_LARGEST:.1e}), first at line {_line(column.index[huge[0]])}: "
            f"'{column.iloc[huge[0]]}'. Rescale the column, e.g. to thousands or millions."
        )
    return numbers.astype(float)


_LARGEST = float(np.finfo(np.float32).max)  # values are trained on as float32


def _handle_missing(
    numbers: pd.DataFrame,
    times: pd.DatetimeIndex | None,
    fill: Fill | None,
    path: Path,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DatetimeIndex | None]:
    missing = numbers.isna()
    count = int(missing.to_numpy().sum())
    if count == 0:
        return numbers, times
    where = ", ".join(
        f"'{c}' {int(n)} (first at line {_line(missing[c].idxmax())})"
        for c, n in missing.sum().items()
        if n
    )
    if fill is None:
        raise ForecastError(
            f"{path} has {count} missing value(s): {where}. Choose how to fill them with "
            "--fill interpolate, --fill ffill or --fill drop."
        )
    if fill is Fill.DROP:
        keep = ~missing.any(axis=1).to_numpy()
        notes.append(
            f"Dropped {int((~keep).sum())} row(s) with missing values (--fill drop): {where}."
        )
        return numbers[keep], times[keep] if times is not None else None
    notes.append(f"Filled {count} missing value(s) with --fill {fill}: {where}.")
    if fill is Fill.INTERPOLATE:
        return numbers.interpolate(limit_direction="both"), times
    return numbers.ffill().bfill(), times


def _combine_repeated(
    numbers: pd.DataFrame,
    times: pd.DatetimeIndex,
    time_col: str,
    aggregate: Aggregate | None,
    path: Path,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """Refuse rows that share a timestamp, or combine them as ``--aggregate`` says."""
    repeated = times.duplicated(keep=False)
    if not repeated.any():
        return numbers, times
    first = times[repeated][0]
    lines = ", ".join(str(_line(label)) for label in numbers.index[times == first][:5])
    count = int(times.duplicated().sum())
    if aggregate is None:
        raise ForecastError(
            f"Time column '{time_col}' in {path} repeats timestamps ({count} extra row(s)): "
            f"{first} is on lines {lines}. Remove the repeats, or combine them with "
            "--aggregate mean, sum or last."
        )
    groups = numbers.groupby(times.to_numpy(), sort=False)
    combined = groups.sum(min_count=1) if aggregate is Aggregate.SUM else groups.agg(str(aggregate))
    # Each combined row keeps the label of its group's first row: its line in messages.
    combined.index = pd.Series(numbers.index).groupby(times.to_numpy(), sort=False).first()
    notes.append(
        f"Combined {count} row(s) that repeat a timestamp with --aggregate {aggregate} "
        f"(first: {first}, lines {lines})."
    )
    return combined, pd.DatetimeIndex(times.unique())


def _frequency(times: pd.DatetimeIndex, freq: str | None, time_col: str, path: Path) -> str | None:
    """The time column's step: ``--freq`` (checked against the times), the regular
    frequency pandas infers, or the most common step when some steps are missing."""
    if freq is not None:
        try:
            offset = pd.tseries.frequencies.to_offset(freq)
        except ValueError:
            raise ForecastError(
                f"--freq {freq!r} is not a pandas frequency; use e.g. h, D, B, W-SUN, MS or QS."
            ) from None
        off_grid = ~times.isin(pd.date_range(times[0], times[-1], freq=offset))
        if off_grid.any():
            raise ForecastError(
                f"--freq {freq} does not fit time column '{time_col}' in {path}: "
                f"{times[off_grid][0]} is not {freq} steps after {times[0]}. Check --freq."
            )
        return offset.freqstr
    if len(times) < 3:
        return None
    inferred = _regular_frequency(times)
    if inferred is not None:
        return inferred
    steps = np.diff(times.asi8)
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    if step <= 0 or np.any(steps % step):
        return None  # irregular: the rows are taken as consecutive steps
    # Named as pandas names a regular index ('D' rather than '24h').
    return _regular_frequency(times[0] + pd.Timedelta(step, unit=times.unit) * np.arange(3))


def _regular_frequency(times: pd.DatetimeIndex) -> str | None:
    try:
        return pd.DatetimeIndex(times, freq="infer").freqstr
    except (TypeError, ValueError):
        return None


def _fill_gaps(
    numbers: pd.DataFrame,
    times: pd.DatetimeIndex,
    freq: str | None,
    fill: Fill | None,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """Rows missing from the time grid: reported, and filled only if ``--fill`` says how."""
    if freq is None:
        return numbers, times
    grid = pd.date_range(times[0], times[-1], freq=freq)
    missing = grid.difference(times)
    if missing.empty:
        return numbers, times
    gaps = f"{len(missing)} missing step(s) of {freq} in the time column, first {missing[0]}"
    if fill in (None, Fill.DROP):
        notes.append(
            f"{gaps}; the rows around them are taken as consecutive. --fill interpolate or "
            "--fill ffill fills them."
        )
        return numbers, times
    on_grid = numbers.set_axis(times).reindex(grid)
    on_grid = on_grid.interpolate() if fill is Fill.INTERPOLATE else on_grid.ffill()
    notes.append(f"{gaps}: filled with --fill {fill}.")
    return on_grid.reset_index(drop=True), grid
