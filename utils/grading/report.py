"""Write the grades: one Gradescope JSON per submission, ``scores.csv``, ``manual_answers.md``, a table.

Layout of ``--out DIR``::

    DIR/<student>/<notebook>.json   Gradescope shape: {"score", "max_score", "tests": [...]}
    DIR/scores.csv                  student,notebook,exercise,score,max_score,status (one row per question)
    DIR/manual_answers.md           every written answer, grouped by question, for the human grader
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

__all__ = ["write_json", "write_scores_csv", "write_manual_answers", "summary_table", "CSV_COLUMNS"]

CSV_COLUMNS = ["student", "notebook", "exercise", "score", "max_score", "status"]


def write_json(out: Path, result) -> Path:
    """Write ``out/<student>/<notebook>.json`` and return its path."""
    path = Path(out) / result.student / f"{result.notebook}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_gradescope(), indent=2) + "\n", encoding="utf-8")
    return path


def write_scores_csv(out: Path, results) -> Path:
    """Write ``out/scores.csv``: one row per (student, notebook, question)."""
    path = Path(out) / "scores.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for result in sorted(results, key=lambda r: (r.student, r.notebook)):
            for row in result.rows():
                writer.writerow({**row, "score": f"{row['score']:g}", "max_score": f"{row['max_score']:g}"})
    return path


def write_manual_answers(out: Path, results, exercises: dict) -> Path:
    """Write ``out/manual_answers.md``: for each written question, every student's answer."""
    lines = ["# Written answers to grade by hand", ""]
    for number in sorted(exercises):
        exercise = exercises[number]
        for question in exercise.written_questions:
            lines += [f"## Exercise {question.id}: {question.prompt}", ""]
            for result in sorted((r for r in results if r.exercise == number), key=lambda r: r.student):
                test = next((t for t in result.tests if t.exercise == question.id and t.status == "manual"), None)
                text = test.output if test else "(no answer found)"
                lines += [f"### {result.student} ({result.notebook})", ""]
                lines += ["> " + line if line else ">" for line in text.splitlines()] or ["> (empty)"]
                lines.append("")
    path = Path(out) / "manual_answers.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def summary_table(results) -> str:
    """A plain-text table: one row per submission, with its score and what went wrong, if anything."""
    header = ("student", "notebook", "score", "status", "note")
    rows = []
    for r in sorted(results, key=lambda r: (r.student, r.notebook)):
        note = r.detail if r.run_status != "ok" else next(
            (t.output for t in r.tests if t.status in ("failed", "error") and t.max_score > 0), "")
        rows.append((r.student, r.notebook, f"{r.score:g}/{r.max_score:g}", r.status, " ".join(note.split())[:70]))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
