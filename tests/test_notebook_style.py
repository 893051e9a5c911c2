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
