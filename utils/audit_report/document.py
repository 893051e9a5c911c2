"""The report as a document: self-contained HTML, escaped text, embedded figures (Lesson 08).

`render_report` lays out any sections, table and figures; `utils.audit_report.manager` builds the
audit report for a manager on top of it.

One file, no external resources: figures are embedded as base64 PNG images, the styles are inline,
and there is no script, stylesheet link or web font. It opens offline in any browser, survives
e-mail, and prints to PDF from the browser.

    html = render_report(title="Audit of PostCode digit reader v1", author="A. Student",
                         sections=[("Model card", release.model_card)],
                         table=result.table, figures=[("ROC of every allowed attack", fig)],
                         verdict=my_verdict)
    write_report("audit_report.html", html)

Everything the student typed (title, author, section texts, verdict, figure captions, table
cells) is HTML-escaped, so a ``<`` in a verdict shows as ``<`` and cannot inject markup.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import io
import numbers
from pathlib import Path

import numpy as np

__all__ = ["REPORTS_DIR", "CSS", "check_text", "figure_to_data_uri", "table_to_html", "text_to_html", "render_report",
           "write_report"]

# git-ignored: students' reports stay out of the repository
REPORTS_DIR = Path(__file__).resolve().parents[2] / "reports"

CSS = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 52em; margin: 2em auto; padding: 0 1em;
       color: #111; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-family: 'DejaVu Sans Mono', monospace; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1em 0; } figure img { max-width: 100%; } figcaption { font-style: italic; color: #333; }
section.verdict { border-left: 4px solid #D55E00; padding-left: 1em; }
section.summary { border: 2px solid #333; padding: 0 1em 0.5em; }
p.risk { font-size: 1.4em; font-weight: bold; margin: 0.6em 0 0.2em; }
p.risk-high { color: #A03A00; } p.risk-elevated { color: #7A4F00; } p.risk-not-measurable { color: #1F4E79; }
dt { font-weight: bold; margin-top: 0.4em; } dd { margin-left: 1.5em; }
pre { white-space: pre-wrap; font-family: 'DejaVu Sans Mono', monospace; font-size: 0.9em; }
@page { size: A4; margin: 16mm; }
@media print { body { margin: 0; max-width: none; } figure, table, section.summary { break-inside: avoid; }
               section.glossary, section.appendix { break-before: page; } }
"""


def check_text(value, name: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}.")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} is empty; write some text (the report prints it).")
    return value


def figure_to_data_uri(figure, *, dpi: int = 110) -> str:
    """A matplotlib Figure (or an Axes, whose figure is used) as a ``data:image/png;base64,...`` URI."""
    fig = getattr(figure, "figure", None) if not hasattr(figure, "savefig") else figure
    if fig is None or not hasattr(fig, "savefig"):
        raise ValueError(
            f"figures must be matplotlib Figures (or Axes), got {type(figure).__name__}. "
            "Pass e.g. ax.figure or the fig from plt.subplots()."
        )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _cell(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        value = float(value)
        return "n/a" if not np.isfinite(value) else f"{value:.3f}"
    return _html.escape(str(value))


def table_to_html(table, *, columns=None) -> str:
    """A pandas DataFrame (or a list of dicts) as an escaped HTML table; floats with 3 decimals.

    Parameters
    ----------
    table : pandas.DataFrame or sequence of dict
        E.g. `AuditResult.table`.
    columns : sequence of str, optional
        Which columns, in order; default all.
    """
    if hasattr(table, "to_dict") and hasattr(table, "columns"):
        rows = table.to_dict("records")
        all_columns = [str(c) for c in table.columns]
    elif isinstance(table, (list, tuple)) and table and all(isinstance(r, dict) for r in table):
        rows = list(table)
        all_columns = list(dict.fromkeys(str(k) for r in rows for k in r))
    else:
        raise ValueError(
            f"table must be a pandas DataFrame or a non-empty list of dicts (one per row), got {type(table).__name__}."
        )
    if not rows:
        raise ValueError("table has no rows; run the audit first (AuditResult.table).")
    columns = all_columns if columns is None else [str(c) for c in columns]
    missing = [c for c in columns if c not in all_columns]
    if missing:
        raise ValueError(f"table has no columns {missing}; it has {all_columns}.")
    head = "".join(f"<th>{_html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def text_to_html(text: str) -> str:
    """Plain text as escaped HTML paragraphs: a blank line starts a new paragraph, a newline is kept."""
    text = check_text(text, "text", allow_empty=True)
    paragraphs = [p.strip("\n") for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join("<p>" + _html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def render_report(*, title: str, verdict: str, table, figures=(), author: str = "", sections=(),
                  table_columns=None, date: str | None = None) -> str:
    """The whole report as one HTML string (Lesson 08).

    Parameters
    ----------
    title : str
    verdict : str
        The written verdict (plain text; blank lines separate paragraphs). Required: an audit
        without a verdict is not finished.
    table : pandas.DataFrame or list of dict
        The results table (e.g. `AuditResult.table`).
    figures : sequence of (caption, matplotlib Figure or Axes)
    author : str, optional
    sections : sequence of (heading, text), optional
        Extra plain-text sections before the results (model card, threat model, method).
    table_columns : sequence of str, optional
        Columns of `table` to show.
    date : str, optional
        Defaults to today's date (UTC), ISO format.

    Returns
    -------
    str
        A complete HTML document with no external resources.
    """
    title = check_text(title, "title")
    verdict = check_text(verdict, "verdict")
    author = check_text(author, "author", allow_empty=True)
    if isinstance(figures, dict):
        figures = list(figures.items())
    figure_html = []
    for i, item in enumerate(figures):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise ValueError(f"figures[{i}] must be a (caption, figure) pair, got {type(item).__name__}.")
        caption, fig = item
        caption = check_text(caption, f"the caption of figures[{i}]")
        figure_html.append(
            f'<figure><img alt="{_html.escape(caption, quote=True)}" src="{figure_to_data_uri(fig)}">'
            f"<figcaption>Figure {i + 1}. {_html.escape(caption)}</figcaption></figure>"
        )
    section_html = []
    for i, item in enumerate(sections):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise ValueError(f"sections[{i}] must be a (heading, text) pair, got {type(item).__name__}.")
        heading, text = item
        heading = check_text(heading, f"the heading of sections[{i}]")
        text = check_text(text, f"the text of sections[{i}]")
        section_html.append(f"<section><h2>{_html.escape(heading)}</h2>{text_to_html(text)}</section>")
    date = date if date is not None else _dt.datetime.now(_dt.UTC).date().isoformat()
    meta = " · ".join(_html.escape(x) for x in (author, str(date)) if x)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_html.escape(title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_html.escape(title)}</h1>",
        f'<p class="meta">{meta}</p>' if meta else "",
        *section_html,
        "<section><h2>Results</h2>",
        table_to_html(table, columns=table_columns),
        *figure_html,
        "</section>",
        f'<section class="verdict"><h2>Verdict</h2>{text_to_html(verdict)}</section>',
        "</body></html>",
    ])


def write_report(path, html: str, *, make_folder: bool = False) -> Path:
    """Write `html` (from `render_report`) to `path` as UTF-8; returns the path.

    `make_folder=True` creates the folder first (e.g. ``REPORTS_DIR``).

    Raises
    ------
    ValueError
        If `html` is not a complete HTML document, the folder does not exist, or the name does not
        end in ``.html``.
    """
    if not isinstance(html, str) or not html.lstrip().startswith("<!DOCTYPE html>"):
        raise ValueError("html must be the document render_report returned (it starts with <!DOCTYPE html>).")
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the report's file name should end in .html so a browser opens it, got {path.name!r}.")
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    if not path.parent.exists():
        raise ValueError(f"the folder {path.parent} does not exist; create it first or choose another path.")
    path.write_text(html, encoding="utf-8")
    return path
