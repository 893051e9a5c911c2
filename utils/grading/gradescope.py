"""A Gradescope autograder bundle, so that Gradescope's fleet grades each submission (Lesson 01 onwards).

    python -m utils.grade autograder --out autograder.zip [--fast] [--cell-timeout S] ...

writes a zip to upload as a Gradescope "programming assignment" autograder. It holds

- ``setup.sh``: installs bubblewrap and Python, then the course's pinned requirements into
  ``/autograder/source/.venv`` (Gradescope runs it once, when it builds the image);
- ``run_autograder``: grades the notebooks in ``/autograder/submission`` with the same sandbox and
  checks as ``python -m utils.grade`` and writes ``/autograder/results/results.json``; it reads
  ``AUTOGRADER_ROOT`` (default ``/autograder``) so that it can be tried on a folder laid out the
  same way, and ``AUTOGRADER_PYTHON`` (default: the bundle's ``.venv``);
- the course library ``utils/``, ``requirements.txt``, ``pyproject.toml`` and the digits cache.

The options given when the bundle is built (time limits, ``--fast``, ``--unsafe-no-sandbox``) are
stored in ``autograder_options.json`` inside it. Exit code of ``run_autograder``: 0 when every
notebook was graded, 1 on a grader error (``results.json`` then says that this is not a grade).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from pathlib import Path

from .batch import grade_batch
from .options import UNSAFE_BANNER, number_type
from .sandbox import Limits, SandboxUnavailable, probe_bwrap
from .submissions import Submission, parse_name

__all__ = ["build_bundle", "run_gradescope", "main"]

ROOT = Path(__file__).resolve().parents[2]
OPTIONS_FILE = "autograder_options.json"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu).
set -euo pipefail
apt-get update
apt-get install -y bubblewrap python3 python3-venv python3-pip
cd /autograder/source
PY=python3
if command -v python3.11 >/dev/null 2>&1; then PY=python3.11; fi
"$PY" -m venv .venv
.venv/bin/python -m pip install --upgrade pip
.venv/bin/python -m pip install -r requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission; results go to $ROOT/results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${AUTOGRADER_PYTHON:-$SOURCE/.venv/bin/python}"
if [ ! -x "$PY" ]; then PY=python3; fi
cd "$SOURCE"
exec "$PY" -m utils.grade gradescope --root "$ROOT" --options "$SOURCE/autograder_options.json"
"""


def _bundle_files(root: Path) -> list:
    files = [p for p in sorted((root / "utils").rglob("*.py")) if "__pycache__" not in p.parts]
    files += [p for p in (root / "requirements.txt", root / "pyproject.toml", root / "data" / "mnist5k.npz")
              if p.exists()]
    return files


def build_bundle(out: Path, options: dict, root: Path = ROOT) -> Path:
    """Write the autograder zip to `out` (see the module docstring); returns its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            bundle.writestr(info, text)
        bundle.writestr(OPTIONS_FILE, json.dumps(options, indent=2) + "\n")
        for path in _bundle_files(Path(root)):
            try:
                bundle.write(path, path.relative_to(root).as_posix())
            except FileNotFoundError:  # removed while we listed it
                continue
    os.replace(tmp, out)
    return out


def _student_id(root: Path) -> str:
    try:
        meta = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        user = meta["users"][0]
        return str(user.get("email") or user.get("name") or user.get("id") or "student")
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return "student"


def _find_notebooks(folder: Path, student: str) -> tuple[list, list]:
    """The NN_*.ipynb notebooks of a Gradescope submission (any depth, no links)."""
    found, skipped = [], []
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts) or path.is_dir():
            continue
        if path.is_symlink():
            skipped.append(f"{path.name}: a symbolic link")
            continue
        item = parse_name(path, folder_student=student)
        if isinstance(item, Submission):
            found.append(Submission(path, student, item.notebook, item.number))
        elif path.suffix.lower() == ".ipynb":
            skipped.append(f"{path.name}: {item.reason}")
    return found, skipped


def run_gradescope(root: Path, options: dict) -> int:
    """Grade ``root/submission`` and write ``root/results/results.json``; the exit code."""
    root = Path(root)
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    student = _student_id(root)
    submissions, skipped = _find_notebooks(root / "submission", student)
    seen, unique = set(), []
    for sub in submissions:
        if sub.notebook.casefold() in seen:
            skipped.append(f"{sub.path.name}: a second copy of {sub.notebook} (only the first is graded)")
            continue
        seen.add(sub.notebook.casefold())
        unique.append(sub)
    output = []
    if skipped:
        output.append("Not graded: " + "; ".join(skipped) + ".")
    if not unique:
        output.append("No notebook named NN_title.ipynb (e.g. 01_overfit_a_model.ipynb) was found in your submission.")
        _write_results(results_dir, {"score": 0.0, "output": " ".join(output), "tests": []})
        return 0
    bwrap = None
    if not options.get("unsafe_no_sandbox"):
        try:
            bwrap = probe_bwrap()
        except SandboxUnavailable as exc:
            _write_results(results_dir, {"score": 0.0, "tests": [], "output": (
                f"The autograder could not start its sandbox ({exc}). This is not a grade: tell your instructor.")})
            return 1
    limits = Limits(**{k: options[k] for k in ("cell_timeout", "notebook_timeout", "harness_timeout", "memory_mb",
                                               "tmpfs_mb", "pids") if k in options})
    env = {"COURSE_FAST": "1"} if options.get("fast") else {}
    results, _ = grade_batch(unique, limits, jobs=1, seed=None, bwrap=bwrap, env=env, progress=False)
    tests, score, seconds = [], 0.0, 0.0
    for result in sorted(results, key=lambda r: r.notebook):
        report = result.to_gradescope()
        output.append(f"{result.notebook}: {report['output']}")
        for test in report["tests"]:
            tests.append({**test, "name": f"{result.notebook}: {test['name']}"})
        score += report["score"]
        seconds += report["execution_time"]
    if bwrap is None:
        output.append(UNSAFE_BANNER)
    _write_results(results_dir, {"score": score, "execution_time": seconds, "output": "\n\n".join(output),
                                 "tests": tests})
    return 0 if all(r.graded for r in results) else 1


def _write_results(folder: Path, data: dict) -> None:
    tmp = folder / "results.json.part"
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, folder / "results.json")


def _limit_options(parser) -> None:
    parser.add_argument("--cell-timeout", type=number_type(float, 0, 86400, low_open=True), default=60.0)
    parser.add_argument("--notebook-timeout", type=number_type(float, 0, 86400, low_open=True), default=300.0)
    parser.add_argument("--harness-timeout", type=number_type(float, 0, 86400, low_open=True), default=60.0)
    parser.add_argument("--memory-mb", type=number_type(int, 256, 2**20), default=3072)
    parser.add_argument("--tmpfs-mb", type=number_type(int, 16, 2**20), default=256)
    parser.add_argument("--pids", type=number_type(int, 16, 2**22), default=256)
    parser.add_argument("--fast", action="store_true", help="run notebooks with COURSE_FAST=1")
    parser.add_argument("--unsafe-no-sandbox", action="store_true", help="grade without bubblewrap")


def main(argv) -> int:
    """``autograder --out ZIP [options]`` builds the bundle; ``gradescope --root DIR`` runs inside it."""
    command, rest = argv[0], argv[1:]
    if command == "autograder":
        parser = argparse.ArgumentParser(prog="python -m utils.grade autograder",
                                         description="Write a Gradescope autograder bundle (zip).")
        parser.add_argument("--out", type=Path, required=True, help="the zip to write, e.g. autograder.zip")
        _limit_options(parser)
        args = parser.parse_args(rest)
        options = {k: v for k, v in vars(args).items() if k != "out"}
        path = build_bundle(args.out, options)
        print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment.")
        return 0
    parser = argparse.ArgumentParser(prog="python -m utils.grade gradescope",
                                     description="Grade one Gradescope submission (run by run_autograder).")
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--options", type=Path, default=None, help="the bundle's autograder_options.json")
    args = parser.parse_args(rest)
    options = {}
    if args.options is not None:
        try:
            options = json.loads(args.options.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"error: cannot read {args.options} ({exc})", file=sys.stderr)
            return 2
    try:
        return run_gradescope(args.root, options)
    except Exception as exc:  # a grader failure: say so in results.json, never a silent 0
        (args.root / "results").mkdir(parents=True, exist_ok=True)
        _write_results(args.root / "results", {"score": 0.0, "tests": [], "output": (
            f"The autograder failed ({type(exc).__name__}: {exc}). This is not a grade: tell your instructor.")})
        return 1
