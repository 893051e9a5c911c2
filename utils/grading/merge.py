"""``--merge``: a new batch joins earlier results under the identity rules of one batch (Lesson 01 onwards).

Within one batch two spellings of one id (``Zoe``/``zoe``) or two files of one student's exercise
are refused (`utils.grading.submissions`). Across batches the same holds: before anything is
graded, each new submission is compared with the grades already in ``--out`` (``scores.csv`` and
the instructor-only ``.grader-sources.json`` written by `utils.grading.report.publish`):

- an id equal to an earlier one after normalisation and case folding but spelled otherwise is
  refused, naming both (it would otherwise be kept as a second student);
- a submission that would replace a student's earlier grade for an exercise from another file
  (a flat ``NN_title__victim.ipynb`` dropped next to the batch, say) is refused, naming both
  files, unless ``--replace`` says that replacing is meant. Grading the same file again is fine.
"""

from __future__ import annotations

import csv
from pathlib import Path

from .report import csv_value, earlier_sources, exercise_of
from .submissions import id_key, printable

__all__ = ["merge_conflicts"]


def _earlier_ids(out: Path) -> dict:
    """``{id key: {spellings}}`` and ``{(id key, NN)}`` of the rows of an earlier ``scores.csv``."""
    ids, graded = {}, set()
    try:
        with open(Path(out) / "scores.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                student, notebook = csv_value(row.get("student") or ""), csv_value(row.get("notebook") or "")
                ids.setdefault(id_key(student), set()).add(student)
                graded.add((id_key(student), exercise_of(notebook)))
    except (OSError, csv.Error, UnicodeDecodeError):
        pass
    return {"ids": ids, "graded": graded}


def merge_conflicts(out: Path, submissions, *, replace: bool) -> list:
    """Why merging `submissions` into `out` is refused: one sentence per conflict (empty: none)."""
    earlier = _earlier_ids(out)
    sources = earlier_sources(out)
    problems = []
    for sub in submissions:
        key = id_key(sub.student)
        spellings = earlier["ids"].get(key, set()) - {sub.student}
        if spellings and sub.student not in earlier["ids"].get(key, set()):
            problems.append(f"{printable(sub.path)} claims student {sub.student!r}, but {printable(out)} already "
                            f"holds the same id spelled {sorted(spellings)[0]!r}; use one spelling")
            continue
        number = f"{sub.number:02d}"
        if (key, number) not in earlier["graded"] or replace:
            continue
        before = sources.get(f"{key}/{number}", {})
        old_source = str(before.get("source", "")) if isinstance(before, dict) else ""
        if not old_source or Path(old_source).resolve() != Path(sub.path).resolve():
            problems.append(f"{printable(sub.path)} would replace {sub.student!r}'s earlier grade for exercise "
                            f"{number} (from {printable(old_source or 'an unknown file')}); pass --replace if "
                            "that is meant")
    return problems
