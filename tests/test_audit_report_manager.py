"""The audit report for a manager (utils/audit_report: manager, words, pdf; lesson 08)."""

import re
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils.attacks import report  # noqa: E402
from utils.audit_report import (  # noqa: E402
    ATTACK_GLOSSARY,
    CSS,
    PLAIN_NAMES,
    find_chromium,
    recommendations,
    render_audit_report,
    write_pdf,
    write_report,
)
from utils.capstone import ATTACK_NEEDS, AuditResult, ThreatModel, TradeoffPoint, excluded_attacks  # noqa: E402

N = 1000  # members and as many non-members


LABELS_ONLY = ThreatModel("labels", True)


def _audit(threat=LABELS_ONLY, strength=1.5):
    rng = np.random.default_rng(0)
    membership = np.repeat([1, 0], N)
    scores = {"gap": rng.normal(size=2 * N), "boundary-distance": rng.normal(size=2 * N),
              "label-robustness": rng.normal(size=2 * N) + strength * membership * (rng.random(2 * N) < 0.3)}
    seconds = dict.fromkeys(scores, 0.5)
    table = report.compare_attacks(scores, labels=membership, seconds=seconds, fprs=(0.01, 0.001))
    return AuditResult(threat, membership, scores, seconds, table, excluded_attacks(threat))


POINTS = [
    TradeoffPoint("released", 0.894, 0.074, 0.060, 0.090, 0.01, "lira-online"),
    TradeoffPoint("early stopping (3)", 0.891, 0.034, 0.028, 0.042, 0.01, "lira-online"),
    TradeoffPoint("weight decay 0.01", 0.876, 0.020, 0.015, 0.026, 0.01, "lira-online"),
    TradeoffPoint("labels only (masked API)", 0.894, 0.076, 0.062, 0.092, 0.01, "label-robustness"),
]
CARD = "Model card: PostCode digit reader v1\n- task: read digits\n- access: a public prediction API"


@pytest.fixture(scope="module")
def html():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    out = render_audit_report(_audit(), verdict="Do not release <it>.", test_accuracy=0.894, points=POINTS,
                              figures=[("A chart.", fig, "What the chart shows, in words.")], model_card=CARD,
                              title="Privacy audit: PostCode digit reader v1", date="2026-12-07")
    plt.close(fig)
    return out


class _Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.headings, self.images = [], []

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "img":
            self.images.append(dict(attrs))


def test_every_capstone_attack_has_a_plain_name_and_a_glossary_entry():
    assert set(PLAIN_NAMES) == set(ATTACK_NEEDS) == set(ATTACK_GLOSSARY)
    assert all(not re.search(r"[a-z]-(online|offline)|@", name) for name in PLAIN_NAMES.values())


def test_the_verdict_comes_first_then_recommendations_evidence_limits_glossary_appendix(html):
    order = ["Risk: elevated.", "<h2>Recommendations", "<h2>What was tested", "<h2>Findings", "<h2>Limitations",
             "<h2>The auditor", "<h2>Glossary", "<h2>Appendix"]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_the_report_speaks_plain_words_not_code_identifiers(html):
    body = re.sub(r'src="data:[^"]*"', "", html)
    for identifier in ["tpr@", "_low", "rmia-online", "lira-online", "label-robustness", "boundary-distance",
                       ">seconds<", "(your name)"]:
        assert identifier not in body, identifier
    assert "Noisy-copies test" in body and "Members identified at 1% false accusations" in body
    assert "Author not named" in body


def test_headings_nest_and_every_figure_has_a_text_alternative(html):
    outline = _Outline()
    outline.feed(html)
    assert outline.headings[0] == 1 and outline.headings.count(1) == 1
    assert all(b <= a + 1 for a, b in zip(outline.headings, outline.headings[1:])), outline.headings
    assert outline.images and all(img.get("alt") == "What the chart shows, in words." for img in outline.images)


def _luminance(hex_colour):
    digits = hex_colour[1:] if len(hex_colour) == 7 else "".join(2 * c for c in hex_colour[1:])
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_text_colours_keep_wcag_aa_contrast_on_white():
    colours = re.findall(r"(?<![-\w])color:\s*(#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{3})\b", CSS)
    assert len(colours) >= 5
    for colour in colours:
        assert 1.05 / (_luminance(colour) + 0.05) >= 4.5, colour


def test_recommendations_state_the_measured_cost_and_pick_the_cheapest_that_works():
    lines = recommendations(POINTS, baseline="released")
    assert lines[0].startswith("Recommended of the measured options: early stopping (3), for 0.3 points")
    early = next(line for line in lines if line.startswith("early stopping (3):"))
    assert "accuracy -0.3 points (89.1%)" in early and "3.4% of members" in early
    assert early.endswith("it lowers the leak.")
    masked = next(line for line in lines if line.startswith("labels only"))
    assert masked.endswith("it does not lower the leak.") and "+0.0 points" in masked
    assert "differential privacy" in lines[-1] and "not measured" in lines[-1]
    expensive = [POINTS[0], TradeoffPoint("weight decay 0.1", 0.80, 0.01, 0.005, 0.02, 0.01, "lira-online")]
    assert recommendations(expensive, baseline="released")[0].startswith("None of the measured options")
    with pytest.raises(ValueError, match="baseline 'release' must name exactly one point"):
        recommendations(POINTS, baseline="release")


def test_limitations_name_what_the_threat_model_left_out_and_the_measurable_floor(html):
    limits = html[html.index("<h2>Limitations"):html.index("<h2>The auditor")]
    assert "Loss threshold" in limits and "Likelihood-ratio attack, online (LiRA)" in limits
    assert f"{100 / N:.2f}%" in limits and "not prove there is none" in limits


def test_the_model_card_title_appears_once_and_typed_text_is_escaped(html):
    assert html.count("PostCode digit reader v1") == 2  # the <title> and the <h1>
    assert "Model card:" not in html and "Do not release &lt;it&gt;." in html


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ValueError, match="AuditResult from run_audit"):
        render_audit_report({"table": None}, verdict="x", test_accuracy=0.9, title="t")
    with pytest.raises(ValueError, match="verdict is empty"):
        render_audit_report(_audit(), verdict=" ", test_accuracy=0.9, title="t")
    with pytest.raises(ValueError, match=r"figures\[0\] must be \(caption, figure\)"):
        render_audit_report(_audit(), verdict="v", test_accuracy=0.9, title="t", figures=[("only a caption",)])


def test_without_chromium_no_pdf_is_written_and_the_message_says_how(tmp_path, html, monkeypatch, capsys):
    import utils.audit_report.pdf as pdf

    path = write_report(tmp_path / "audit.html", html)
    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    assert pdf.write_pdf(path) is None and "apt-get install chromium" in capsys.readouterr().out
    assert path.read_text() == html and not path.with_suffix(".pdf").exists()
    with pytest.raises(ValueError, match="no HTML report"):
        pdf.write_pdf(tmp_path / "missing.html")
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'cannot open display' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setattr(pdf, "find_chromium", lambda: str(broken))
    assert pdf.write_pdf(path) is None
    assert "printed none (exit 3: cannot open display)" in capsys.readouterr().out


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium installed (apt-get install chromium) to print PDFs")
def test_the_pdf_has_the_verdict_on_its_first_page(tmp_path, html):
    from pypdf import PdfReader

    pdf_path = write_pdf(write_report(tmp_path / "audit.html", html))
    pages = PdfReader(pdf_path).pages
    first = " ".join(pages[0].extract_text().split())
    assert first.startswith("Privacy audit: PostCode digit reader v1")
    assert "Risk: elevated." in first and "Release only with a defence." in first
    assert "Next step: Recommended of the measured options: early stopping (3)" in first
    later = " ".join(" ".join(p.extract_text().split()) for p in pages[1:])
    assert "Appendix: the model card" in later  # the appendix starts on a page of its own
