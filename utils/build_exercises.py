"""Generate the exercise notebooks from the solution notebooks (Lesson 01 onwards).

    python -m utils.build_exercises            # solutions/NN_*.ipynb -> exercises/NN_*.ipynb
    python -m utils.build_exercises --check    # regenerate into a temporary folder; fail on any difference
    python -m utils.build_exercises --graded DIR   # a graded release for students: no solutions anywhere

A graded release (for a cohort whose exercises count) is a folder with ``exercises/`` and a copy of
the course library ``utils/`` in which the exercise checks hold no reference solutions, judges or
model answers (`utils.checks.release`): ``check()`` still runs the public checks against stored
answers, ``hint()`` works, and ``qM.solution()`` shows nothing. Hand students that folder (plus
``lessons/`` and ``data/`` if they need them) instead of the repository. Setting ``COURSE_GRADED=1``
in the environment of a shared server also makes ``solution()`` show nothing in the full library.

``solutions/NN_*.ipynb`` is the only hand-written exercise notebook; ``exercises/`` is generated and
never edited by hand. In a solution notebook, a cell that holds an answer carries the tag
``solution`` and the metadata ``"exercise": "N.M"`` (N = the notebook's NN prefix), and marks the
answer, each marker on a line of its own (as nbgrader does):

- code cells: the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION`` become
  ``raise NotImplementedError("Exercise N.M: write your code here")`` at the indentation of the
  ``BEGIN`` line;
- markdown cells: the lines from ``<!-- BEGIN ANSWER -->`` to ``<!-- END ANSWER -->`` become
  ``*Your answer here*``.

Unclosed, nested or stray markers, markers in a cell without the ``solution`` tag, and a
``solution`` cell without markers are errors that name the notebook and the cell. The output is
normalised (no outputs, no execution counts, only the ``tags`` and ``exercise`` cell metadata), so
regenerating is byte-identical.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import nbformat

from .checks.markers import ANSWER_BEGIN, ANSWER_END, ANSWER_PLACEHOLDER, CODE_BEGIN, CODE_END, SOLUTION_TAG

__all__ = [
    "BuildError",
    "SOLUTIONS_DIR",
    "EXERCISES_DIR",
    "strip_solution_code",
    "strip_answer_markdown",
    "build_notebook",
    "render",
    "build_all",
    "check_all",
    "build_graded_release",
    "main",
]

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS_DIR = ROOT / "solutions"
EXERCISES_DIR = ROOT / "exercises"

KEPT_CELL_METADATA = ("tags", "exercise", "jupyter")  # jupyter: the collapsed Colab setup cell
NOTEBOOK_NAME = re.compile(r"^(\d{2})_[A-Za-z0-9_\-]+\.ipynb$")


class BuildError(ValueError):
    """A solution notebook whose markers cannot be turned into an exercise; says where and why."""


def _replace_regions(lines, begin, end, replacement, where):
    """Replace every ``begin``...``end`` region of `lines`; `replacement(indent)` gives the new line."""
    out, start, indent = [], None, ""
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == begin:
            if start is not None:
                raise BuildError(
                    f"{where}: nested '{begin}' on line {number} (the one on line {start} is not closed yet)."
                )
            start, indent = number, line[: len(line) - len(line.lstrip())]
        elif marker == end:
            if start is None:
                raise BuildError(f"{where}: '{end}' on line {number} has no '{begin}' before it.")
            out.append(replacement(indent))
            start = None
        elif begin in line or end in line:
            raise BuildError(f"{where}: line {number} has a marker that is not alone on its line: {line.strip()!r}.")
        elif start is None:
            out.append(line)
    if start is not None:
        raise BuildError(f"{where}: '{begin}' on line {start} is never closed with '{end}'.")
    return out


def strip_solution_code(source: str, exercise_id: str, where: str = "cell") -> str:
    """Replace each solution region of a code cell by a ``NotImplementedError`` stub at the same indentation."""
    stub = f'raise NotImplementedError("Exercise {exercise_id}: write your code here")'
    return "\n".join(_replace_regions(source.split("\n"), CODE_BEGIN, CODE_END, lambda indent: indent + stub, where))


def strip_answer_markdown(source: str, where: str = "cell") -> str:
    """Replace each answer region of a markdown cell by ``*Your answer here*``."""
    lines = _replace_regions(source.split("\n"), ANSWER_BEGIN, ANSWER_END, lambda indent: ANSWER_PLACEHOLDER, where)
    return "\n".join(lines)


def _has_marker(source: str) -> bool:
    return any(marker in source for marker in (CODE_BEGIN, CODE_END, ANSWER_BEGIN, ANSWER_END))


def build_notebook(nb, name: str):
    """The exercise version of a solution notebook (a new, normalised `NotebookNode`).

    Parameters
    ----------
    nb : NotebookNode
        The solution notebook (nbformat 4).
    name : str
        Its file name, ``NN_title.ipynb``, for messages and to check exercise ids.

    Raises
    ------
    BuildError
        For bad markers, untagged marker cells, solution cells without markers or exercise ids.
    """
    match = NOTEBOOK_NAME.match(name)
    if not match:
        raise BuildError(f"{name}: solution notebooks are named NN_title.ipynb (two digits, then a title).")
    number = int(match.group(1))
    cells = []
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}" + (f" (id {cell.get('id')})" if cell.get("id") else "")
        source = cell.source
        tags = list(cell.metadata.get("tags", []))
        exercise_id = cell.metadata.get("exercise")
        if SOLUTION_TAG in tags or _has_marker(source):
            if SOLUTION_TAG not in tags:
                raise BuildError(f"{where}: has solution/answer markers but no '{SOLUTION_TAG}' tag; tag the cell.")
            if not isinstance(exercise_id, str) or not re.fullmatch(rf"{number}\.\d+", exercise_id):
                raise BuildError(
                    f"{where}: a '{SOLUTION_TAG}' cell needs metadata \"exercise\": \"{number}.M\" "
                    f"(the question it answers), found {exercise_id!r}."
                )
            if cell.cell_type == "code":
                if ANSWER_BEGIN in source or ANSWER_END in source:
                    raise BuildError(f"{where}: answer markers belong in markdown cells; use '{CODE_BEGIN}' in code.")
                new_source = strip_solution_code(source, exercise_id, where)
            elif cell.cell_type == "markdown":
                if CODE_BEGIN in source or CODE_END in source:
                    raise BuildError(
                        f"{where}: solution markers belong in code cells; use '{ANSWER_BEGIN}' in markdown."
                    )
                new_source = strip_answer_markdown(source, where)
                if new_source.strip() != ANSWER_PLACEHOLDER:
                    raise BuildError(
                        f"{where}: the answer cell of exercise {exercise_id} holds text outside its answer region; "
                        "move the question into the markdown cell above, so that an untouched answer cell holds "
                        f"only {ANSWER_PLACEHOLDER} and is graded blank."
                    )
            else:
                raise BuildError(f"{where}: a {cell.cell_type} cell cannot hold a solution.")
            if new_source == source:
                raise BuildError(
                    f"{where}: tagged '{SOLUTION_TAG}' but has no markers; mark the answer or remove the tag."
                )
            source = new_source
        cells.append(_normalised_cell(cell, source, index))
    out = nbformat.v4.new_notebook()
    out.nbformat, out.nbformat_minor = 4, 5
    kernelspec = nb.metadata.get("kernelspec") or {"name": "python3", "display_name": "Python 3", "language": "python"}
    out.metadata = {"kernelspec": dict(kernelspec), "language_info": {"name": "python"}}
    out.cells = cells
    return out


def _normalised_cell(cell, source, index):
    metadata = {key: cell.metadata[key] for key in KEPT_CELL_METADATA if key in cell.metadata}
    cell_id = cell.get("id") or f"cell-{index}"
    if cell.cell_type == "code":
        new = nbformat.v4.new_code_cell(source=source, metadata=metadata)
    elif cell.cell_type == "markdown":
        new = nbformat.v4.new_markdown_cell(source=source, metadata=metadata)
    else:
        new = nbformat.v4.new_raw_cell(source=source, metadata=metadata)
    new["id"] = cell_id
    return new


def render(nb) -> str:
    """The exact text written for a notebook (sorted keys, one-space indent, final newline)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def _solution_files(solutions_dir: Path):
    return sorted(p for p in Path(solutions_dir).glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))


def build_all(solutions_dir=SOLUTIONS_DIR, exercises_dir=EXERCISES_DIR) -> list:
    """Write ``exercises_dir/NN_*.ipynb`` for every ``solutions_dir/NN_*.ipynb``; returns the paths written.

    Every notebook is built before any is written, so one bad marker writes nothing.
    """
    built = []
    for path in _solution_files(solutions_dir):
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:
            raise BuildError(f"{path.name}: not a readable notebook ({type(exc).__name__}: {exc}).") from None
        built.append((Path(exercises_dir) / path.name, render(build_notebook(nb, path.name))))
    Path(exercises_dir).mkdir(parents=True, exist_ok=True)
    for target, text in built:
        target.write_text(text, encoding="utf-8")
    return [target for target, _ in built]


def check_all(solutions_dir=SOLUTIONS_DIR, exercises_dir=EXERCISES_DIR) -> list:
    """Regenerate into a temporary folder and list every difference with `exercises_dir` (empty: all good)."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p for p in build_all(solutions_dir, tmp)}
        current = {p.name: p for p in Path(exercises_dir).glob("*.ipynb") if NOTEBOOK_NAME.match(p.name)}
        for name in sorted(fresh.keys() - current.keys()):
            problems.append(f"{name}: missing from {exercises_dir}.")
        for name in sorted(current.keys() - fresh.keys()):
            problems.append(f"{name}: in {exercises_dir} but no solutions/{name} generates it (stale; delete it).")
        for name in sorted(fresh.keys() & current.keys()):
            expected, found = fresh[name].read_bytes(), current[name].read_bytes()
            if expected != found:
                problems.append(
                    f"{name}: differs from what solutions/{name} generates ({_first_difference(expected, found)})."
                )
    return problems


def build_graded_release(target, solutions_dir=SOLUTIONS_DIR) -> list:
    """Write ``target/exercises/`` and ``target/utils/`` (the library without reference solutions).

    Returns the paths written. Refuses a `target` that already holds a ``utils/`` folder.
    """
    from .checks.release import student_library, write_files

    target = Path(target)
    if (target / "utils").exists():
        raise BuildError(f"{target / 'utils'} exists already; give an empty or new folder for the graded release.")
    written = build_all(solutions_dir, target / "exercises")
    files = student_library(ROOT)
    write_files(files, target, read_only=False)
    return written + [target / relative for relative in files]


def _first_difference(expected: bytes, found: bytes) -> str:
    try:
        a, b = nbformat.reads(expected.decode(), as_version=4), nbformat.reads(found.decode(), as_version=4)
    except Exception:
        return "the file is not a readable notebook"
    for index, (x, y) in enumerate(zip(a.cells, b.cells)):
        if x != y:
            return f"first at cell {index}"
    if len(a.cells) != len(b.cells):
        return f"{len(b.cells)} cells instead of {len(a.cells)}"
    return "notebook metadata or formatting"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.build_exercises", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="regenerate into a temporary folder and fail on any difference"
    )
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS_DIR, help="folder of solution notebooks")
    parser.add_argument("--exercises", type=Path, default=EXERCISES_DIR, help="folder of generated exercise notebooks")
    parser.add_argument("--graded", type=Path, metavar="DIR", default=None,
                        help="write a graded release into DIR: exercises/ and a utils/ without reference solutions, "
                             "where qM.solution() shows nothing")
    args = parser.parse_args(argv)
    try:
        if args.graded is not None:
            written = build_graded_release(args.graded, args.solutions)
            print(f"wrote a graded release to {args.graded} ({len(written)} files): exercises/ and utils/ without "
                  "reference solutions.")
            return 0
        if args.check:
            problems = check_all(args.solutions, args.exercises)
            for problem in problems:
                print(f"exercises out of date: {problem}", file=sys.stderr)
            if problems:
                print(
                    "Regenerate with: python -m utils.build_exercises (never edit exercises/ by hand).",
                    file=sys.stderr,
                )
                return 1
            print(f"exercises are up to date ({len(_solution_files(args.solutions))} notebooks).")
            return 0
        for path in build_all(args.solutions, args.exercises):
            print(f"wrote {path}")
        return 0
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
