"""Small HTML building blocks shared by the roster and fit reports: a page shell with inline
CSS and one small inline script (sortable, searchable tables; no external resources: the
file works offline, and without scripts every table is still complete), figures and tables."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from html import escape

import polars as pl

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 12px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.muted { color: #666; } .note { background: #fff8e1; border-left: 4px solid #f0b429; padding: 6px 10px; }
.figures { display: flex; flex-wrap: wrap; gap: 10px; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.figure .value { font-size: 1.4em; font-weight: 600; } .figure .label { color: #555; font-size: 0.85em; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; } th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flag td { background: #fde2e1; } tr.warn td { background: #fff4d6; } .chart { margin: 10px 0; overflow-x: auto; max-width: 100%; }
.chart svg { max-width: 100%; height: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.scroll { overflow-x: auto; max-width: 100%; } details > summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
table.sortable th { cursor: pointer; } table.sortable th:after { content: " \\2195"; color: #aaa; font-size: 0.8em; }
input.search { padding: 4px 8px; margin: 6px 0; width: 280px; max-width: 100%; }
.warnings li { margin: 4px 0; } .warnings .level-warn { color: #8a5a00; } .warnings .level-bad { color: #9C0006; }
@media (max-width: 700px) { body { margin: 8px; } .figure { min-width: 120px; } }
"""

# Sortable (click a header) and searchable (an input with data-filter="<table id>") tables.
SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (t) {
  t.querySelectorAll('th').forEach(function (th, i) {
    th.addEventListener('click', function () {
      var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute('data-dir') !== 'asc';
      t.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
      th.setAttribute('data-dir', asc ? 'asc' : 'desc');
      rows.sort(function (a, b) {
        var x = a.cells[i].getAttribute('data-v') || a.cells[i].textContent;
        var y = b.cells[i].getAttribute('data-v') || b.cells[i].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.querySelectorAll('input[data-filter]').forEach(function (inp) {
  inp.addEventListener('input', function () {
    var t = document.getElementById(inp.getAttribute('data-filter')), q = inp.value.toLowerCase();
    Array.prototype.forEach.call(t.tBodies[0].rows, function (r) {
      r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
    });
  });
});
"""


def page(title: str, subtitle: str, body: Iterable[str]) -> str:
    """The whole HTML document; the inline script is added only when a table needs it."""
    text = "\n".join(body)
    script = f"\n<script>{SCRIPT}</script>" if ('class="sortable"' in text or "data-filter=" in text) else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n<p class=\"muted\">{escape(subtitle)}</p>\n" + text + script + "\n</body>\n</html>\n"
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


def figure(key: str, label: str, value: object, digits: int = 3, display: str | None = None) -> str:
    """A headline figure; `data-key`/`data-value` keep the raw value for tests and scripts;
    `display` replaces the formatted value (units, percentages)."""
    raw = "" if value is None else str(value)
    shown = display if display is not None else fmt(value, digits)
    return (
        f'<div class="figure" data-key="{escape(key)}" data-value="{escape(raw)}">'
        f'<div class="value">{escape(shown)}</div><div class="label">{escape(label)}</div></div>'
    )


def table(frame: pl.DataFrame, table_id: str, digits: int = 3, flag_column: str | None = None, headers: Sequence[str] | None = None,
          class_column: str | None = None, sortable: bool = False) -> str:
    """An HTML table of `frame`; numbers right-aligned; rows where `flag_column` is true get
    class flag; `class_column` (not shown) gives each row's class by value; `sortable`
    lets a reader sort by clicking a header."""
    hidden = {c for c in (flag_column, class_column) if c and c not in (headers or [])}
    cols = [c for c in frame.columns if c not in hidden]
    names = headers or cols
    cls_attr = ' class="sortable"' if sortable else ""
    out = [f'<div class="scroll"><table id="{escape(table_id)}"{cls_attr}><thead><tr>' + "".join(f"<th>{escape(str(h))}</th>" for h in names) + "</tr></thead><tbody>"]
    for row in frame.iter_rows(named=True):
        if class_column and row.get(class_column):
            cls = f' class="{escape(str(row[class_column]))}"'
        else:
            cls = ' class="flag"' if flag_column and row.get(flag_column) else ""
        cells = []
        for c in cols:
            v = row[c]
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            attr = f' class="num" data-v="{v}"' if num else ""
            cells.append(f"<td{attr}>{escape(fmt(v, digits))}</td>")
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def search_box(table_id: str, placeholder: str) -> str:
    """A text input that hides the rows of table `table_id` not containing what is typed."""
    return f'<input class="search" type="search" data-filter="{escape(table_id)}" placeholder="{escape(placeholder)}" aria-label="{escape(placeholder)}">'


def chart(chart_id: str, svg_text: str, caption: str) -> str:
    return f'<figure class="chart" id="{escape(chart_id)}">{svg_text}<figcaption class="muted">{escape(caption)}</figcaption></figure>'
