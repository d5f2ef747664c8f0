"""Small HTML building blocks shared by the roster and fit reports: a page shell with inline
CSS (no scripts, no external resources: the file works offline), figures and tables."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from html import escape

import polars as pl

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.muted { color: #666; } .note { background: #fff8e1; border-left: 4px solid #f0b429; padding: 6px 10px; }
.figures { display: flex; flex-wrap: wrap; gap: 10px; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.figure .value { font-size: 1.4em; font-weight: 600; } .figure .label { color: #555; font-size: 0.85em; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; } th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flag td { background: #fde2e1; } .chart { margin: 10px 0; overflow-x: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
"""


def page(title: str, subtitle: str, body: Iterable[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n<p class=\"muted\">{escape(subtitle)}</p>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def fmt(value: object, digits: int = 3) -> str:
    """Display text of a value: floats to `digits` significant decimals, None as an em dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2014"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return f"{value:%a %Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%a %Y-%m-%d}"
    return str(value)


def figure(key: str, label: str, value: object, digits: int = 3) -> str:
    """A headline figure; `data-key`/`data-value` keep the raw value for tests and scripts."""
    raw = "" if value is None else str(value)
    return (
        f'<div class="figure" data-key="{escape(key)}" data-value="{escape(raw)}">'
        f'<div class="value">{escape(fmt(value, digits))}</div><div class="label">{escape(label)}</div></div>'
    )


def table(frame: pl.DataFrame, table_id: str, digits: int = 3, flag_column: str | None = None, headers: Sequence[str] | None = None) -> str:
    """An HTML table of `frame`; numbers right-aligned; rows where `flag_column` is true get class flag."""
    cols = [c for c in frame.columns if c != flag_column] if flag_column and flag_column not in (headers or []) else frame.columns
    names = headers or cols
    out = [f'<table id="{escape(table_id)}"><thead><tr>' + "".join(f"<th>{escape(str(h))}</th>" for h in names) + "</tr></thead><tbody>"]
    for row in frame.iter_rows(named=True):
        cls = ' class="flag"' if flag_column and row.get(flag_column) else ""
        cells = []
        for c in cols:
            v = row[c]
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            attr = ' class="num"' if num else ""
            cells.append(f"<td{attr}>{escape(fmt(v, digits))}</td>")
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def chart(chart_id: str, svg_text: str, caption: str) -> str:
    return f'<figure class="chart" id="{escape(chart_id)}">{svg_text}<figcaption class="muted">{escape(caption)}</figcaption></figure>'
