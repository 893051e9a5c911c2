"""Find the submissions to grade and who handed each in (Lesson 01 onwards).

Accepted layouts (any mix, given as files or folders on the command line):

- ``folder/student_id/NN_title.ipynb``: one folder per student; a file in it may repeat the
  folder's id (``NN_title__student_id.ipynb``) but never claim another one;
- ``folder/NN_title__student_id.ipynb``: the student id after a double underscore;
- a single notebook ``.../NN_title__student_id.ipynb``, or ``.../student_id/NN_title.ipynb``.

The exercise comes from the ``NN_`` prefix (``01_...`` is graded with ``utils.checks.ex01``); the
suffix ``.ipynb`` is matched in any case. Rules that keep every grade with its student:

- ids are kept as written (non-ASCII letters included); `file_name` encodes one reversibly for
  the report's folder name;
- one grade per exercise number per student: two submissions with the same ``NN_`` whose ids are
  equal after Unicode normalisation and case folding (``José`` typed two ways, ``Zoe``/``zoe``;
  two titles of one exercise, ``01_a`` and ``01_a `` or ``01_copy``) are a `Collision`: the
  grader refuses the batch and names both files, never renaming or choosing one;
- symlinks (folders or files), dot-files and dot-folders, folders nested deeper than
  ``student_id/``, and files that are not ``NN_*.ipynb`` are skipped, each listed with the reason.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Submission", "Skipped", "Collision", "find_submissions", "parse_name", "file_name", "id_key",
           "printable", "MAX_NAME_BYTES"]

_NAME = re.compile(r"^(?P<number>\d{2})_(?P<title>.+?)(?:__(?P<student>.+?))?\.ipynb$", re.IGNORECASE)
_FILE_SAFE = re.compile(r"[\w.@+-]", re.UNICODE)
MAX_NAME_BYTES = 160  # of a report's file or folder name (file systems allow 255; ".json" and staging need room)


@dataclass(frozen=True)
class Submission:
    """One notebook to grade.

    Attributes
    ----------
    path : Path
    student : str
        The student id as handed in.
    notebook : str
        The notebook's name without the student id, e.g. ``01_overfit_a_model``.
    number : int
        The exercise number (the ``NN_`` prefix).
    """

    path: Path
    student: str
    notebook: str
    number: int


@dataclass(frozen=True)
class Skipped:
    """A path that is not graded, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {printable(self.path)}: {printable(self.reason)}"


@dataclass(frozen=True)
class Collision:
    """Two submissions of the same notebook claiming the same student."""

    first: Submission
    second: Submission

    def __str__(self) -> str:
        return (f"{printable(self.first.path)} and {printable(self.second.path)} both claim student "
                f"{self.first.student!r}"
                + (f" / {self.second.student!r}" if self.second.student != self.first.student else "")
                + f" for exercise {self.first.number:02d} (one grade per exercise per student)")


def id_key(student: str) -> str:
    """The form two ids must differ in: NFC-normalised and case-folded."""
    return unicodedata.normalize("NFC", student).casefold()


def file_name(student: str) -> str:
    """A file or folder name for `student` (or a notebook title): letters, digits and ``._@+-``
    kept, anything else as ``%XX`` (UTF-8), and ``%`` itself too, so the id can be read back
    (``urllib.parse.unquote``); never longer than `MAX_NAME_BYTES` bytes. A name that would be
    longer keeps its first part and ends in ``~`` and a hash of the whole id (the report inside
    holds the id itself), so two long ids never share a name."""
    text = unicodedata.normalize("NFC", student)
    out = "".join(c if _FILE_SAFE.fullmatch(c) and c != "%" else "".join(f"%{b:02X}" for b in c.encode())
                  for c in text)
    if out.startswith("."):
        out = "%2E" + out[1:]
    out = out or "%00"
    if len(out.encode()) > MAX_NAME_BYTES:
        digest = "~" + hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:20]
        keep = out.encode()[:MAX_NAME_BYTES - len(digest)].decode("utf-8", "ignore")
        keep = re.sub(r"%[0-9A-F]?$", "", keep)  # never half of an escape
        out = keep + digest
    return out


def printable(value) -> str:
    """`value` as text safe for a terminal: control and other unprintable characters as escapes
    (a carriage return in a title cannot overwrite another line of the summary)."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _valid_id(student: str) -> str | None:
    """Why `student` cannot be an id, or None."""
    if not student or not student.strip():
        return "the student id is empty"
    if any(unicodedata.category(c).startswith("C") for c in student):
        return "the student id holds control characters"
    if len(student) > 100:
        return "the student id is longer than 100 characters"
    return None


def parse_name(path: Path, folder_student: str | None = None) -> Submission | Skipped:
    """A `Submission` for ``NN_title[__student].ipynb``, or a `Skipped` that says why not.

    `folder_student`: the id of the student folder the file is in, if any.
    """
    match = _NAME.match(path.name)
    if not match:
        return Skipped(path, "not named NN_title.ipynb or NN_title__student_id.ipynb")
    claimed = match.group("student")
    if folder_student is not None and claimed is not None and id_key(claimed) != id_key(folder_student):
        return Skipped(path, f"it is in student {folder_student!r}'s folder but its name claims student {claimed!r}")
    student = folder_student if folder_student is not None else claimed
    if student is None:
        student = path.resolve().parent.name
    problem = _valid_id(student)
    if problem:
        return Skipped(path, problem)
    return Submission(path, student, f"{match.group('number')}_{match.group('title')}", int(match.group("number")))


def find_submissions(paths) -> tuple[list, list, list]:
    """All submissions under `paths`, sorted by (student, notebook).

    Returns
    -------
    submissions : list of Submission
    skipped : list of Skipped
    collisions : list of Collision
        Non-empty means the batch must be refused: two files claim one student's notebook.
    """
    found, skipped = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_symlink():
            skipped.append(Skipped(path, "a symbolic link (links are never followed)"))
        elif path.is_file():
            _add(parse_name(path), found, skipped)
        elif path.is_dir():
            _scan_folder(path, found, skipped)
        else:
            skipped.append(Skipped(path, "no such file or folder"))
    by_key, collisions, unique = {}, [], []
    for sub in sorted(found, key=lambda s: (id_key(s.student), s.number, s.notebook.casefold(), str(s.path))):
        key = (id_key(sub.student), sub.number)
        if key in by_key:
            collisions.append(Collision(by_key[key], sub))
            continue
        by_key[key] = sub
        unique.append(sub)
    return unique, skipped, collisions


def _add(item, found: list, skipped: list) -> None:
    (found if isinstance(item, Submission) else skipped).append(item)


def _scan_folder(folder: Path, found: list, skipped: list) -> None:
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            skipped.append(Skipped(path, "a hidden file or folder (its name starts with a dot)"))
        elif path.is_symlink():
            skipped.append(Skipped(path, "a symbolic link (links are never followed)"))
        elif path.is_dir():
            student = path.name
            problem = _valid_id(student)
            if problem:
                skipped.append(Skipped(path, problem))
                continue
            for inner in sorted(path.iterdir()):
                if inner.name.startswith("."):
                    skipped.append(Skipped(inner, "a hidden file or folder (its name starts with a dot)"))
                elif inner.is_symlink():
                    skipped.append(Skipped(inner, "a symbolic link (links are never followed)"))
                elif inner.is_dir():
                    skipped.append(Skipped(inner, "a folder inside a student's folder (only student_id/NN_*.ipynb "
                                                  "is graded)"))
                else:
                    _add(parse_name(inner, folder_student=student), found, skipped)
        else:
            _add(parse_name(path), found, skipped)
