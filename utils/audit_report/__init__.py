"""The capstone's audit report, for the manager who must decide (Lesson 08).

- `document`: a self-contained HTML document (escaped text, embedded figures, no external resource):
  `render_report`, `write_report`, `table_to_html`, `text_to_html`, `figure_to_data_uri`.
- `manager`: `render_audit_report`, the verdict first, in plain words, with recommendations and
  their measured cost, limitations, a glossary, the model card as an appendix.
- `words`: the attacks' plain names (`PLAIN_NAMES`) and the glossary.
- `pdf`: `write_pdf`, the report printed to PDF by a headless Chromium (optional).
"""

from .document import (
    CSS,
    REPORTS_DIR,
    check_text,
    figure_to_data_uri,
    render_report,
    table_to_html,
    text_to_html,
    write_report,
)
from .manager import RISK_MEANING, limitations, recommendations, render_audit_report, summary_sentences
from .pdf import find_chromium, write_pdf
from .words import ATTACK_GLOSSARY, PLAIN_NAMES, TERMS, plain_name

__all__ = [
    "REPORTS_DIR", "CSS", "check_text", "figure_to_data_uri", "table_to_html", "text_to_html", "render_report",
    "write_report", "render_audit_report", "summary_sentences", "recommendations", "limitations", "RISK_MEANING",
    "write_pdf", "find_chromium", "PLAIN_NAMES", "ATTACK_GLOSSARY", "TERMS", "plain_name",
]
