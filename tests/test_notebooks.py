"""Every lesson and solution notebook runs top to bottom in a fresh kernel (COURSE_FAST=1).

Wall times are appended to reports/notebook_times.csv (git-ignored); nothing here asserts a
duration. `python -m utils.bench notebooks` compares the times with the budgets.
"""

import csv
import os
import time
from pathlib import Path

import nbformat
import pytest

from utils.nbrun import find_notebooks, run_notebook, unfinished_bars

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = find_notebooks(ROOT)
TIMES_CSV = ROOT / "reports" / "notebook_times.csv"
HANG_GUARD_S = 600  # per notebook; a guard against hangs, not a performance budget


def _record_time(run) -> None:
    TIMES_CSV.parent.mkdir(parents=True, exist_ok=True)
    new = not TIMES_CSV.exists()
    with TIMES_CSV.open("a", newline="") as f:
        writer = csv.writer(f)
        if new:
            writer.writerow(["timestamp", "notebook", "course_fast", "ok", "wall_s"])
        writer.writerow([
            time.strftime("%Y-%m-%dT%H:%M:%S"),
            run.path.relative_to(ROOT).as_posix(),
            os.environ.get("COURSE_FAST", "0"),
            run.ok,
            f"{run.wall_s:.2f}",
        ])


def test_lessons_folder_holds_notebooks():
    lessons = [p for p in NOTEBOOKS if p.parent.name == "lessons"]
    assert lessons, f"no notebook found under {ROOT / 'lessons'}; the course needs at least lesson 01."


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path):
    assert os.environ.get("COURSE_FAST") == "1"  # set by conftest.py, inherited by the kernel
    before = path.read_bytes()
    run = run_notebook(path, timeout_s=HANG_GUARD_S)
    _record_time(run)
    assert run.ok, f"{path.relative_to(ROOT)} failed after {run.wall_s:.1f} s\n{run.error}"
    assert path.read_bytes() == before, "running a notebook must not write it back"
    frozen = unfinished_bars(run.nb)
    assert not frozen, f"{path.relative_to(ROOT)}: a saved copy would show these bars unfinished: {frozen}"



def test_stored_notebooks_have_no_outputs():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, (
                    f"{path.relative_to(ROOT)} cell {i} is stored with outputs; clear them before committing."
                )


# ---------------------------------------------------------------- the runner itself, on tiny notebooks


def _write_notebook(path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_runner_reports_the_failing_cell_and_its_error(tmp_path):
    path = _write_notebook(tmp_path / "broken.ipynb", "x = 1", "y = x + undefined_name", "z = 3")
    run = run_notebook(path, timeout_s=120)
    assert not run.ok
    assert "cell 1 failed" in run.error
    assert "--- source ---\ny = x + undefined_name\n--- error ---" in run.error  # the whole cell, verbatim
    assert "NameError" in run.error and "undefined_name" in run.error
    assert len(run.cell_s) == 1  # only the cell before the failure finished


def test_runner_uses_the_notebook_folder_and_extra_env(tmp_path):
    (tmp_path / "data.txt").write_text("found")
    path = _write_notebook(
        tmp_path / "ok.ipynb",
        "import os\nassert open('data.txt').read() == 'found'",
        "assert os.environ['COURSE_MARKER'] == 'abc', os.environ.get('COURSE_MARKER')",
        "assert os.environ['COURSE_FAST'] == '1'",
        "assert os.environ['OMP_WAIT_POLICY'] == 'PASSIVE'",
    )
    run = run_notebook(path, timeout_s=120, env={"COURSE_MARKER": "abc"})
    assert run.ok, run.error
    assert len(run.cell_s) == 4 and run.wall_s >= sum(run.cell_s)


def test_runner_stops_a_hanging_notebook(tmp_path):
    path = _write_notebook(tmp_path / "hang.ipynb", "import time\ntime.sleep(60)")
    run = run_notebook(path, timeout_s=3)
    assert not run.ok and "cell 0" in run.error and "time.sleep(60)" in run.error


def test_find_notebooks_lists_lessons_and_solutions_only(tmp_path):
    for folder in ("lessons", "solutions", "exercises"):
        (tmp_path / folder).mkdir()
        _write_notebook(tmp_path / folder / f"01_{folder}.ipynb", "pass")
    (tmp_path / "lessons" / ".ipynb_checkpoints").mkdir()
    _write_notebook(tmp_path / "lessons" / ".ipynb_checkpoints" / "01_lessons-checkpoint.ipynb", "pass")
    found = [p.relative_to(tmp_path).as_posix() for p in find_notebooks(tmp_path)]
    assert found == ["lessons/01_lessons.ipynb", "solutions/01_solutions.ipynb"]
