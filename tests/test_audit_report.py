"""The self-contained HTML audit report (utils/audit_report.py, lesson 08)."""

import base64
import re
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from utils.audit_report import (
    figure_to_data_uri,
    render_report,
    table_to_html,
    text_to_html,
    write_report,
)


class _Collector(HTMLParser):
    """Every tag with its attributes, and the visible text."""

    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html):
    collector = _Collector()
    collector.feed(html)
    return collector.tags, "".join(collector.text)


@pytest.fixture
def figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    yield fig
    plt.close(fig)


@pytest.fixture
def table():
    return pd.DataFrame({"attack": ["loss", "lira-online"], "auc": [0.5406, 0.6739], "tpr@1%fpr": [0.008, 0.104],
                         "n_members": [1250, 1250]})


def report(the_figure, the_table, **changes):
    kwargs = dict(title="Audit of PostCode v1", author="A. Student", verdict="Risk: high.\n\nDo not release.",
                  table=the_table, figures=[("ROC of every allowed attack", the_figure)],
                  sections=[("Model card", "- task: digits\n- epochs: 50")], date="2026-11-30")
    kwargs.update(changes)
    return render_report(**kwargs)


def test_report_is_self_contained(figure, table):
    html = report(figure, table)
    tags, _ = parse(html)
    for tag, attrs in tags:
        assert tag not in ("script", "link", "iframe", "object", "embed"), f"external/active element <{tag}>"
        for name in ("src", "href"):
            if name in attrs:
                assert attrs[name].startswith("data:"), f"<{tag} {name}={attrs[name][:40]!r}> points outside the file"
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html.replace("data:image", "")), "a URL in the report"
    assert "@import" not in html and "url(" not in html


def test_figures_are_embedded_pngs(figure, table):
    html = report(figure, table, figures=[("first", figure), ("second", figure.axes[0])])
    tags, text = parse(html)
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    assert len(images) == 2
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Figure 1. first" in text and "Figure 2. second" in text


def test_table_and_verdict_are_present(figure, table):
    html = report(figure, table)
    tags, text = parse(html)
    assert [t for t, _ in tags].count("tr") == 3  # header + 2 attacks
    assert "lira-online" in text and "0.674" in text and "1,250" in text
    assert "Verdict" in text and "Risk: high." in text and "Do not release." in text
    assert html.index("Verdict") > html.index("lira-online")  # the verdict closes the report
    assert "Model card" in text and "- epochs: 50" in text


def test_student_text_is_escaped(figure, table):
    evil = '<script>alert("x")</script> & <b>bold</b>'
    html = report(figure, table, title=evil, author=evil, verdict=evil,
                  sections=[(evil, evil)], figures=[(evil, figure)],
                  table=pd.DataFrame({"attack": [evil], "auc": [0.5]}))
    tags, text = parse(html)
    assert not any(tag in ("script", "b") for tag, _ in tags)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert text.count('<script>alert("x")</script>') >= 5  # shown as text, everywhere it was typed


def test_paragraphs_and_line_breaks():
    assert text_to_html("a\nb\n\nc") == "<p>a<br>b</p><p>c</p>"
    assert text_to_html("   \n\n ") == ""


def test_table_formats_numbers_and_selects_columns(table):
    html = table_to_html(table, columns=["attack", "tpr@1%fpr"])
    assert "<th>auc</th>" not in html and "0.104" in html
    assert "n/a" in table_to_html([{"attack": "x", "auc": float("nan")}])


def test_write_report_round_trip(tmp_path, figure, table):
    path = write_report(tmp_path / "audit.html", report(figure, table))
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("changes, message", [
    (dict(verdict=""), "verdict is empty"),
    (dict(verdict="   \n"), "verdict is empty"),
    (dict(verdict=None), "verdict must be a string"),
    (dict(title=""), "title is empty"),
    (dict(table=pd.DataFrame()), "no rows"),
    (dict(table="loss 0.54"), "pandas DataFrame or a non-empty list of dicts"),
    (dict(table=np.zeros((2, 2))), "pandas DataFrame"),
    (dict(figures=[("caption", "not a figure")]), "matplotlib Figures"),
    (dict(figures=["no caption"]), r"\(caption, figure\) pair"),
    (dict(sections=[("only a heading",)]), r"\(heading, text\) pair"),
    (dict(table_columns=["attack", "tpr@0.1%fpr"]), r"no columns \['tpr@0.1%fpr'\]"),
])
def test_bad_input_gets_a_clear_error(figure, table, changes, message):
    with pytest.raises(ValueError, match=message):
        report(figure, table, **changes)


def test_write_report_bad_input(tmp_path, figure, table):
    html = report(figure, table)
    with pytest.raises(ValueError, match="should end in .html"):
        write_report(tmp_path / "audit.txt", html)
    with pytest.raises(ValueError, match="does not exist"):
        write_report(tmp_path / "missing" / "audit.html", html)
    with pytest.raises(ValueError, match="render_report"):
        write_report(tmp_path / "audit.html", "just text")
    with pytest.raises(ValueError, match="matplotlib Figures"):
        figure_to_data_uri(np.zeros((3, 3)))


def test_write_report_can_make_its_folder(tmp_path, figure, table):
    path = write_report(tmp_path / "reports" / "audit.html", report(figure, table), make_folder=True)
    assert path.exists() and path.parent.name == "reports"
