"""Write the grades: one Gradescope JSON per submission, ``scores.csv``, ``manual_answers.md``, a table.

Layout of ``--out DIR``::

    DIR/<student>/<notebook>.json   Gradescope shape: {"score", "max_score", "tests": [...]}
                                    (<student> is `submissions.file_name` of the id)
    DIR/scores.csv                  one row per (student, notebook, question): see CSV_COLUMNS
    DIR/manual_answers.md           each written question: prompt, points, model answer, every answer

Nothing is written into ``DIR`` until the batch is done: `publish` writes everything into a
staging folder inside ``DIR`` and then moves each file into place. With ``merge=True``, the rows
and reports of earlier runs are kept, except those of (student, notebook) pairs graded again.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path

from .states import TestOutcome
from .submissions import file_name, id_key, printable

__all__ = ["CSV_COLUMNS", "publish", "earlier_results", "summary_table", "manual_answers_text", "write_json",
           "csv_cell", "csv_value", "exercise_of", "earlier_sources", "SOURCES_FILE"]

CSV_COLUMNS = ["student", "notebook", "question", "kind", "score", "max_score", "status", "run", "flag"]
STAGING_PREFIX = ".incoming-"
SOURCES_FILE = ".grader-sources.json"  # instructor-only: which file each (student, exercise) grade came from
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def csv_cell(value) -> str:
    """A ``scores.csv`` cell that no spreadsheet runs as a formula: a leading ``= + - @``, tab, CR or
    quote gets a ``'`` in front (`csv_value` takes it off again)."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_value(cell: str) -> str:
    """The value a `csv_cell` was made from."""
    return cell[1:] if cell.startswith("'") else cell


def exercise_of(notebook: str) -> str:
    """The exercise number of a notebook name ("01" of "01_overfit_a_model"): one grade each per student."""
    return notebook[:2]


def earlier_sources(out: Path) -> dict:
    """``{"<id key>/<NN>": {"student", "notebook", "source"}}`` of the grades in `out` (empty if none)."""
    try:
        data = json.loads((Path(out) / SOURCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_json(folder: Path, result) -> Path:
    """Write ``folder/<student>/<notebook>.json`` and return its path."""
    path = Path(folder) / file_name(result.student) / f"{file_name(result.notebook)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_gradescope(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def earlier_results(out: Path) -> list:
    """What an earlier run left in `out` (scores.csv, reports): the paths, empty when there is none."""
    out = Path(out)
    if not out.is_dir():
        return []
    found = [p for p in (out / "scores.csv", out / "manual_answers.md") if p.exists()]
    found += [p for p in out.glob("*/*.json") if not p.parent.name.startswith(".")]
    return found


def _old_rows(out: Path) -> list:
    path = Path(out) / "scores.csv"
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != CSV_COLUMNS:
            raise ValueError(f"{path} has columns {reader.fieldnames}, not {CSV_COLUMNS}; merge refused")
        return [{k: csv_value(v or "") for k, v in row.items()} for row in reader]


def _old_written(out: Path, keep: set) -> list:
    """Written answers of kept earlier reports: (student, notebook, question id, outcome, text)."""
    entries = []
    for path in Path(out).glob("*/*.json"):
        if path.parent.name.startswith("."):
            continue
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            student, notebook = report["extra_data"]["student"], report["extra_data"]["notebook"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if (id_key(str(student)), exercise_of(str(notebook))) not in keep:
            continue
        for test in report.get("tests", []):
            outcome = (test.get("extra_data") or {}).get("outcome")
            if " written answer: " in test.get("name", "") and outcome:
                entries.append((student, notebook, test["name"].split(" ")[0], outcome, test.get("output", "")))
    return entries


def manual_answers_text(entries: list, exercises: dict) -> str:
    """``manual_answers.md``: per written question its prompt, points and model answer, then every answer.

    `entries`: (student, notebook, question id, outcome, text); `exercises`: number -> `Exercise`.
    """
    lines = ["# Written answers to grade by hand", ""]
    for number in sorted(exercises):
        for question in exercises[number].written_questions:
            lines += [f"## Exercise {question.id}: {question.title}", "", f"**Question.** {question.prompt}", "",
                      f"**Points:** {question.points:g}" + (" (set by the instructor: the automatic grade gives none)"
                                                           if not question.points else ""), "",
                      "**Model answer:**", ""]
            lines += ["> " + line if line else ">" for line in question.model_answer.strip().splitlines()]
            lines.append("")
            mine = sorted((e for e in entries if e[2] == question.id), key=lambda e: (e[0], e[1]))
            for student, notebook, _, outcome, text in mine:
                lines += [f"### {student} ({notebook}): {outcome}", ""]
                if outcome == TestOutcome.ANSWERED:
                    lines += ["> " + line if line else ">" for line in text.splitlines()] or ["> (empty)"]
                else:
                    lines.append(f"_{text}_")
                lines.append("")
    return "\n".join(lines)


def publish(out: Path, results: list, exercises: dict, *, merge: bool) -> list:
    """Write this batch's reports, ``scores.csv`` and ``manual_answers.md`` into `out`.

    Everything goes to a staging folder inside `out` first, then each file is moved into place
    (a rename on the same file system). Returns the problems met while moving (empty: all is in
    place); a problem never loses a file: it stays in the staging folder, which is then kept.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # one grade per (student, exercise): the identity rules of one batch (`submissions.id_key`, the NN_ prefix)
    graded_pairs = {(id_key(r.student), exercise_of(r.notebook)) for r in results}
    old_rows = _old_rows(out) if merge else []
    kept_rows = [r for r in old_rows if (id_key(r["student"]), exercise_of(r["notebook"])) not in graded_pairs]
    kept_pairs = {(id_key(r["student"]), exercise_of(r["notebook"])) for r in kept_rows}
    entries = _old_written(out, kept_pairs) if merge else []
    for result in results:
        entries += [(result.student, result.notebook, t.question, str(t.outcome), t.output)
                    for t in result.tests if t.kind == "written"]
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    moves = []
    for result in results:
        path = write_json(staging, result)
        moves.append((path, out / path.relative_to(staging)))
    rows = kept_rows + [row for r in results for row in r.rows()]
    rows.sort(key=lambda r: (r["student"], r["notebook"], r["question"]))
    with open(staging / "scores.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    (staging / "manual_answers.md").write_text(manual_answers_text(entries, exercises), encoding="utf-8")
    sources = earlier_sources(out) if merge else {}
    sources = {k: v for k, v in sources.items() if tuple(k.rsplit("/", 1)) in kept_pairs}
    for r in results:
        sources[f"{id_key(r.student)}/{exercise_of(r.notebook)}"] = {"student": r.student, "notebook": r.notebook,
                                                                   "source": r.source}
    (staging / SOURCES_FILE).write_text(json.dumps(sources, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    moves += [(staging / "manual_answers.md", out / "manual_answers.md"), (staging / SOURCES_FILE, out / SOURCES_FILE),
              (staging / "scores.csv", out / "scores.csv")]
    problems = []
    for source, target in moves:  # scores.csv last: it appears only when every report is in place
        try:
            if target.parent.exists() and not target.parent.is_dir():
                raise OSError(f"{target.parent} exists and is not a folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir() and not target.is_symlink():
                raise OSError(f"{target} is a folder")
            os.replace(source, target)
        except OSError as exc:
            problems.append(f"could not move {source} to {target} ({exc}); it is kept in {staging}")
    if not problems:
        shutil.rmtree(staging, ignore_errors=True)
    return problems


def summary_table(results) -> str:
    """A plain-text table: one row per submission, with its score, status and what to look at."""
    header = ("student", "notebook", "score", "status", "note")
    rows = []
    for r in sorted(results, key=lambda r: (r.student, r.notebook)):
        if not r.graded:
            score, note = "-", r.detail
        else:
            score = f"{r.score:g}/{r.max_score:g}"
            note = "; ".join(r.flags) or (r.detail if r.detail else next(
                (t.output for t in r.tests if t.outcome in (TestOutcome.FAILED, TestOutcome.NOT_RUN)
                 and t.max_score > 0), ""))
        rows.append((printable(r.student), printable(r.notebook), score, r.status,
                     printable(" ".join(note.split())[:80])))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
