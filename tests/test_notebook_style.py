"""Notebook code stays readable in JupyterLab: no code line longer than 100 characters.

JupyterLab cuts longer lines off at the right edge of a default-width notebook, so a student
cannot read their end. One test per notebook in lessons/, solutions/ and exercises/ (the
exercises are generated from the solutions, so a long line there points at its solution).
"""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from utils.nbrun import find_notebooks

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("lessons", "solutions", "exercises")
NOTEBOOKS = find_notebooks(ROOT, folders=FOLDERS)
MAX_LINE = 100  # characters; what a default-width JupyterLab code cell shows without cutting off


def long_code_lines(nb, limit=MAX_LINE):
    """(cell index, line number from 1, length, line) of every code line longer than `limit`."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for number, line in enumerate(cell.source.split("\n"), start=1):
            if len(line) > limit:
                found.append((index, number, len(line), line))
    return found


def test_every_folder_holds_notebooks():
    for folder in FOLDERS:
        assert any(p.parent.name == folder for p in NOTEBOOKS), f"no notebook found under {ROOT / folder}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in NOTEBOOKS])
def test_code_lines_fit_the_notebook_width(path):
    found = long_code_lines(nbformat.read(path, as_version=4))
    where = "\n".join(f"  cell {i}, line {n} ({length} characters): {line}" for i, n, length, line in found)
    fix = "Break the argument list, split the f-string or name an intermediate value."
    if path.parent.name == "exercises":
        fix += " Exercises are generated: fix the solution notebook and run `python -m utils.build_exercises`."
    if found:
        pytest.fail(f"{path.relative_to(ROOT)} has {len(found)} code line(s) over {MAX_LINE} characters, "
                    f"which JupyterLab cuts off:\n{where}\n{fix}", pytrace=False)


def test_long_code_lines_finds_long_code_but_not_markdown():
    nb = new_notebook(cells=[
        new_markdown_cell("m" * 150),
        new_code_cell("x = 1\n" + "y" * 100 + "\n" + "z" * 101),
        new_code_cell("# " + "c" * 120),
    ])
    assert long_code_lines(nb) == [(1, 3, 101, "z" * 101), (2, 1, 122, "# " + "c" * 120)]
    assert long_code_lines(nb, limit=200) == []


def control_characters(nb):
    """(cell index, character, context) of every control character but newline, and tab before a letter in markdown.

    A Python string built the notebook: "$\\varepsilon$" written without the backslash doubled becomes a
    vertical tab and "arepsilon", and "\\times" a tab and "imes", which the page shows as gaps and nonsense.
    """
    found = []
    for index, cell in enumerate(nb.cells):
        for at, char in enumerate(cell.source):
            after = cell.source[at + 1:at + 2]
            lost_backslash = char == "\t" and cell.cell_type == "markdown" and after.isalpha()
            if (ord(char) < 32 and char not in "\n\t") or lost_backslash:
                found.append((index, repr(char), cell.source[max(0, at - 15):at + 15]))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in NOTEBOOKS])
def test_no_control_characters_in_cells(path):
    found = control_characters(nbformat.read(path, as_version=4))
    assert not found, (f"{path.relative_to(ROOT)}: control characters (a LaTeX backslash lost in a Python string?): "
                       f"{found}")


def test_control_characters_are_found():
    nb = new_notebook(cells=[new_markdown_cell("DP at $\x0barepsilon = 8$, $16 \times 8$"),
                             new_code_cell("x = 1\n\ty = 2")])
    assert [(i, c) for i, c, _ in control_characters(nb)] == [(0, "'\\x0b'"), (0, "'\\t'")]
