"""``forecast report``'s page: plain data (cards, frames, PNG bytes) into one HTML file.

The page stands alone: its pictures are embedded as ``data:`` URIs and its style is
inline, so it opens offline and can be mailed or attached as it is. It needs no
JavaScript. Each part is a ``<section>`` with a fixed id (``SECTIONS`` lists them by
kind), which the tests look for. Everything quoted from a file (paths, column names)
is escaped.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast_cli.network import LayerRow

SECTIONS = {
    "model": ("data", "windows", "architecture", "training", "validation", "forecast"),
    "comparison": ("data", "windows", "ranking", "forecasts", "training", "architecture"),
    "backtest": ("data", "windows", "network", "folds", "overall", "plot"),
}

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       background: #f6f8fa; margin: 0; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 32px 48px; background: #fff;
       box-shadow: 0 0 0 1px #d0d7de; }
header h1 { font-size: 26px; margin: 8px 0 4px; }
header p { color: #59636e; margin: 0 0 12px; }
nav { border-top: 1px solid #d0d7de; border-bottom: 1px solid #d0d7de; padding: 8px 0;
      margin-bottom: 8px; }
nav a { color: #0969da; text-decoration: none; margin-right: 18px; font-size: 14px; }
section { margin-top: 28px; }
div.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 0 32px; }
@media (max-width: 800px) { div.pair { grid-template-columns: 1fr; } }
h2 { font-size: 19px; border-bottom: 2px solid #eaeef2; padding-bottom: 4px; margin-bottom: 12px; }
h3 { font-size: 15px; margin: 16px 0 6px; color: #343a40; }
table { border-collapse: collapse; font-size: 14px; margin: 6px 0 10px;
        font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px; border-bottom: 1px solid #eaeef2; text-align: left; }
th { background: #f6f8fa; font-weight: 600; }
td.number, th.number { text-align: right; }
table.facts th { background: none; color: #59636e; font-weight: 500; width: 120px; }
tr.best td { background: #dafbe1; font-weight: 600; }
tr.baseline td { color: #59636e; font-style: italic; }
tr.total td { font-weight: 600; border-top: 2px solid #d0d7de; }
img { max-width: 100%; height: auto; border: 1px solid #eaeef2; border-radius: 4px;
      margin: 6px 0; }
ul.notes { color: #343a40; padding-left: 20px; }
p.missing { color: #9a6700; background: #fff8c5; padding: 8px 12px; border-radius: 4px; }
footer { margin-top: 36px; color: #59636e; font-size: 13px; }
code { font-size: 13px; background: #f6f8fa; padding: 1px 4px; border-radius: 3px; }
"""


@dataclass(frozen=True)
class Section:
    """One part of the page: its id (the anchor the contents link to), heading and body."""

    id: str
    title: str
    body: str  # HTML
    half: bool = False  # beside the next half section, on a wide page


def page(title: str, subtitle: str, sections: list[Section], footer: str) -> str:
    """The whole document: a header, links to the sections, the sections, a footer."""
    links = " ".join(f'<a href="#{s.id}">{_text(s.title)}</a>' for s in sections)
    parts, halves = [], []
    for s in sections:
        part = f'<section id="{s.id}">\n<h2>{_text(s.title)}</h2>\n{s.body}\n</section>'
        if s.half:
            halves.append(part)
            if len(halves) == 2:
                parts.append(f'<div class="pair">{"".join(halves)}</div>')
                halves = []
            continue
        parts += halves + [part]
        halves = []
    content = "\n".join(parts + halves)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_text(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<header>
<h1>{_text(title)}</h1>
<p>{_text(subtitle)}</p>
</header>
<nav>{links}</nav>
{content}
<footer>{_text(footer)}</footer>
</main>
</body>
</html>
"""


def facts(rows: list[tuple[str, str]]) -> str:
    """A two-column table of named facts."""
    body = "".join(
        f"<tr><th>{_text(name)}</th><td>{_text(value)}</td></tr>" for name, value in rows
    )
    return f'<table class="facts">{body}</table>'


def table(
    frame: pd.DataFrame,
    styles: list[str] | None = None,
    digits: dict[str, int] | None = None,
) -> str:
    """``frame`` as a table, numbers right-aligned with ``digits`` decimals by column (4
    unless named), missing values as '-'; ``styles`` gives each row a class ('best',
    'baseline', 'total')."""
    digits = digits or {}
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    head = "".join(
        f'<th class="number">{_text(c)}</th>' if n else f"<th>{_text(c)}</th>"
        for c, n in zip(frame.columns, numeric, strict=True)
    )
    rows = []
    for i, record in enumerate(frame.itertuples(index=False)):
        cells = "".join(
            f'<td class="number">{_number(v, digits.get(c, 4))}</td>'
            if is_number
            else f"<td>{_cell(v)}</td>"
            for c, v, is_number in zip(frame.columns, record, numeric, strict=True)
        )
        style = styles[i] if styles else ""
        rows.append(f'<tr class="{style}">{cells}</tr>' if style else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def layer_table(rows: list[LayerRow] | tuple[LayerRow, ...]) -> str:
    """The network's layers as ``forecast train`` prints them, with their total."""
    shapes = [
        "(" + ", ".join("samples" if d is None else str(d) for d in row.output_shape) + ")"
        for row in rows
    ]
    frame = pd.DataFrame(
        {
            "layer": [row.name for row in rows] + ["total"],
            "type": [row.kind for row in rows] + [""],
            "output shape": shapes + [""],
            "params": [row.params for row in rows] + [sum(row.params for row in rows)],
        }
    )
    return table(frame, [""] * len(rows) + ["total"])


def picture(png: bytes, alt: str) -> str:
    """A PNG embedded in the page."""
    encoded = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{_text(alt)}">'


def notes(lines: list[str] | tuple[str, ...]) -> str:
    """What the user should know, as a list (nothing when none)."""
    items = "".join(f"<li>{_text(line)}</li>" for line in lines)
    return f'<ul class="notes">{items}</ul>' if lines else ""


def missing(message: str) -> str:
    """What a section could not show, and why."""
    return f'<p class="missing">{_text(message)}</p>'


def paragraph(text: str) -> str:
    return f"<p>{_text(text)}</p>"


def data_facts(data: dict) -> list[tuple[str, str]]:
    """A card's ``data`` section: the file and what was read from it."""
    time, series = data.get("time_col"), data.get("id_col")
    freq = f", frequency {data['freq']}" if data.get("freq") else ""
    rows = [
        ("file", data["path"]),
        ("rows", f"{data['rows']:,}" + (f", series named by '{series}'" if series else "")),
        ("time column", f"{time}{freq}" if time else "none: rows are numbered"),
        ("targets", ", ".join(data["targets"])),
    ]
    for key, name in (("features", "features"), ("future_features", "future features")):
        if data.get(key):
            rows.append((name, ", ".join(data[key])))
    if data.get("calendar"):
        rows.append(("calendar inputs", "day, week and year positions"))
    for key in ("fill", "aggregate"):
        if data.get(key):
            rows.append((key, str(data[key])))
    rows.append(("season", str(data["season"]) if data.get("season") else "none found"))
    rows.append(("SHA-256", data["sha256"][:16] + "…"))
    return rows


def window_facts(window: dict, split: tuple[int, int] | None = None) -> list[tuple[str, str]]:
    """A card's ``window`` section; ``split`` the training and validation rows, when
    known (one series)."""
    rows = [
        ("lookback", f"{window['lookback']} steps in each input window"),
        ("horizon", f"{window['horizon']} steps emitted at once"),
        ("validation", f"the last {window['val_fraction']:.0%} of the rows"),
    ]
    if split:
        rows.append(("split", f"rows 1-{split[0]} train, {split[0] + 1}-{split[1]} validate"))
    rows += [
        ("scaling", f"{window['scale']}, fitted on the training rows"),
        ("baselines", ", ".join(window["baselines"]) or "none"),
    ]
    return rows


def _text(value) -> str:
    return html.escape(str(value))


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return _text(value)


def _number(value, digits: int) -> str:
    """Counts with thousands separators, other numbers with ``digits`` decimals."""
    if pd.isna(value):
        return "-"
    if isinstance(value, int | np.integer) or (digits == 0 and float(value).is_integer()):
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"
