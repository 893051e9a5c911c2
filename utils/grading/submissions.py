"""Find the submissions to grade and who handed each in (Lesson 01 onwards).

Accepted layouts (any mix, given as files or folders on the command line):

- ``folder/student_id/NN_title.ipynb``: one folder per student;
- ``folder/NN_title__student_id.ipynb``: the student id after a double underscore;
- a single notebook ``.../NN_title__student_id.ipynb``, or ``.../student_id/NN_title.ipynb``.

The exercise comes from the ``NN_`` prefix (``01_...`` is graded with ``utils.checks.ex01``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Submission", "find_submissions", "parse_name"]

_NAME = re.compile(r"^(?P<number>\d{2})_(?P<title>.+?)(?:__(?P<student>[^/]+?))?\.ipynb$")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Submission:
    """One notebook to grade.

    Attributes
    ----------
    path : Path
    student : str
        Student id, made safe for a file name.
    notebook : str
        The notebook's name without the student id, e.g. ``01_overfit_a_model``.
    number : int
        The exercise number (the ``NN_`` prefix).
    """

    path: Path
    student: str
    notebook: str
    number: int


def _safe(text: str) -> str:
    return _SAFE.sub("-", text).strip("-.") or "unknown"


def parse_name(path: Path, default_student: str | None = None) -> Submission | None:
    """A `Submission` for ``NN_title[__student].ipynb``, or None when the name does not match."""
    match = _NAME.match(path.name)
    if not match:
        return None
    student = match.group("student") or default_student or path.resolve().parent.name
    return Submission(path, _safe(student), f"{match.group('number')}_{match.group('title')}", int(match.group("number")))


def find_submissions(paths) -> tuple[list, list]:
    """All submissions under `paths`, sorted by (student, notebook); plus warnings about skipped files.

    A student/notebook pair seen twice keeps both, the second as ``student-2``.
    """
    found, warnings = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            submission = parse_name(path)
            if submission is None:
                warnings.append(f"skipped {path}: notebooks are named NN_title.ipynb or NN_title__student.ipynb")
            else:
                found.append(submission)
        elif path.is_dir():
            found += _scan_folder(path, warnings)
        else:
            warnings.append(f"skipped {path}: no such file or folder")
    seen, unique = set(), []
    for sub in sorted(found, key=lambda s: (s.student, s.notebook, str(s.path))):
        student, k = sub.student, 1
        while (student, sub.notebook) in seen:
            k += 1
            student = f"{sub.student}-{k}"
        seen.add((student, sub.notebook))
        unique.append(Submission(sub.path, student, sub.notebook, sub.number))
    return unique, warnings


def _scan_folder(folder: Path, warnings: list) -> list:
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            for inner in sorted(path.iterdir()):
                if inner.is_file() and inner.suffix == ".ipynb":
                    submission = parse_name(inner, default_student=path.name)
                    if submission is None:
                        warnings.append(f"skipped {inner}: not named NN_title.ipynb")
                    else:
                        found.append(submission)
        elif path.suffix == ".ipynb":
            submission = parse_name(path)
            if submission is None:
                warnings.append(f"skipped {path}: not named NN_title.ipynb or NN_title__student.ipynb")
            else:  # without "__student", the folder itself is one student's
                found.append(submission)
    return found
