"""The audit report as a PDF, printed by a headless Chromium (Lesson 08).

The HTML report is the document; the PDF is its print, for the reader who files PDFs. Chromium is
optional: where none is installed, `write_pdf` returns None and says how to get one, and the HTML
report is unaffected. No browser is downloaded: the system's Chromium is used (``apt-get install
chromium`` on Debian/Ubuntu; ``$COURSE_CHROMIUM`` points at another one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["CHROMIUM_CANDIDATES", "find_chromium", "write_pdf"]

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_chromium() -> str | None:
    """The system Chromium's path (``$COURSE_CHROMIUM`` first), or None where none is installed."""
    for candidate in (os.environ.get("COURSE_CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def write_pdf(html_path, pdf_path=None, *, timeout_s: float = 120) -> Path | None:
    """Print the HTML report at `html_path` to a PDF beside it (or at `pdf_path`); returns its path.

    Returns None, with a message that says why, where no Chromium is found or it printed no PDF
    (a lesson goes on: the HTML file is the report).

    Raises
    ------
    ValueError
        No HTML file at `html_path`.
    """
    html_path = Path(html_path).resolve()
    if not html_path.is_file() or html_path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"no HTML report at {html_path}; write it first with write_report.")
    pdf_path = html_path.with_suffix(".pdf") if pdf_path is None else Path(pdf_path).resolve()
    chromium = find_chromium()
    if chromium is None:
        print("No PDF: no Chromium found (install it with `apt-get install chromium`, or set COURSE_CHROMIUM to "
              "its path). The HTML report is complete and prints to PDF from any browser.")
        return None
    pdf_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="course-pdf-") as profile:
        command = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}",
            html_path.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
            why = f"exit {done.returncode}: {done.stderr.strip()[-300:]}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            why = f"{type(exc).__name__}: {exc}"
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        print(f"No PDF: {chromium} printed none ({why}). The HTML report is complete and prints to PDF from any "
              "browser.")
        return None
    return pdf_path
