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
from .jail import protections_missing
from .options import UNSAFE_BANNER, number_type
from .probe import probe
from .sandbox import Limits, bwrap_path
from .submissions import Submission, parse_name, printable

__all__ = ["build_bundle", "run_gradescope", "main", "one_per_exercise", "assignment_points", "describe_protections"]

ROOT = Path(__file__).resolve().parents[2]
OPTIONS_FILE = "autograder_options.json"
UV_VERSION = "0.13.9"  # the uv that setup.sh installs to obtain PYTHON_VERSION
PYTHON_VERSION = "3.11"  # what pyproject.toml's requires-python and the pins need

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (pick the Ubuntu 22.04 base image; any
# Debian or Ubuntu works). The pinned NumPy, SciPy and pandas need the Python of pyproject.toml (3.11),
# which the image's python3 often is not (Ubuntu 22.04: 3.10): uv (a PyPI package) installs it.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends bubblewrap python3 python3-venv ca-certificates
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$SOURCE"
# Python __PYTHON_VERSION__ from the distribution when it has it (Debian 12; Ubuntu 22.04's universe), else from uv
PY=""
if apt-get install -y --no-install-recommends "python__PYTHON_VERSION__" "python__PYTHON_VERSION__-venv"; then
  PY="$(command -v "python__PYTHON_VERSION__")"
fi
if [ -z "$PY" ]; then
  python3 -m venv /opt/course-uv
  /opt/course-uv/bin/python -m pip install --quiet "uv==__UV_VERSION__"
  # outside /root: the sandbox's unprivileged uid reads the interpreter too
  export UV_PYTHON_INSTALL_DIR=/opt/course-python
  /opt/course-uv/bin/uv python install "__PYTHON_VERSION__"
  PY="$(/opt/course-uv/bin/uv python find "__PYTHON_VERSION__")"
fi
"$PY" --version
rm -rf .venv
"$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt
# Does the sandbox work on this machine? Said now (and again before every submission, in results.json).
.venv/bin/python -m utils.grade probe --out sandbox_probe.json || \
  echo "WARNING: the grading sandbox does not work on this image (see sandbox_probe.json): every submission will be" \
       "answered 'not graded' unless the bundle was built with --unsafe-no-sandbox" >&2
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
    setup = SETUP_SH.replace("__UV_VERSION__", UV_VERSION).replace("__PYTHON_VERSION__", PYTHON_VERSION)
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in (("setup.sh", setup), ("run_autograder", RUN_AUTOGRADER)):
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
    allowed = sorted({int(n) for n in options.get("exercises") or []})
    if allowed:
        for sub in [s for s in submissions if s.number not in allowed]:
            skipped.append(f"{printable(sub.path.name)}: exercise {sub.number:02d} is not part of this assignment "
                           f"({', '.join(f'{n:02d}' for n in allowed)})")
        submissions = [s for s in submissions if s.number in allowed]
    unique, duplicates = one_per_exercise(submissions)
    output = []
    for number, kept, dropped in duplicates:
        output.append(f"Exercise {number:02d}: {len(dropped) + 1} notebooks were handed in; only the last one "
                      f"(most recently modified) is graded: {printable(kept.path.name)}. Not graded: "
                      + ", ".join(printable(d.path.name) for d in dropped) + ".")
    extra = {"duplicates": [{"exercise": f"{n:02d}", "graded": k.path.name, "not_graded": [d.path.name for d in ds],
                             "rule": "last modified"} for n, k, ds in duplicates],
             "exercises": [f"{n:02d}" for n in allowed] or "any"}
    if skipped:
        output.append("Not graded: " + "; ".join(skipped) + ".")
    if not unique:
        output.append("No notebook named NN_title.ipynb (e.g. 01_overfit_a_model.ipynb) was found in your submission.")
        _write_results(results_dir, {"score": 0.0, "output": " ".join(output), "tests": [], "extra_data": extra})
        return 0
    bwrap = None
    if not options.get("unsafe_no_sandbox"):
        checked = probe()  # a real sandbox, as grading makes it: before every submission
        if not checked["ok"]:
            extra["protections"] = {"sandbox": "", "why": checked["error"]}
            _write_results(results_dir, {"score": 0.0, "tests": [], "extra_data": extra, "output": (
                f"The autograder could not start its sandbox ({checked['error']}). This is not a grade: tell your "
                "instructor.")})
            return 1
        bwrap = bwrap_path()
    limits = Limits(**{k: options[k] for k in ("cell_timeout", "notebook_timeout", "harness_timeout", "memory_mb",
                                               "tmpfs_mb", "pids") if k in options})
    env = {"COURSE_FAST": "1"} if options.get("fast") else {}
    results, _ = grade_batch(unique, limits, jobs=1, seed=None, bwrap=bwrap, env=env, progress=False)
    tests, score, seconds = [], 0.0, 0.0
    for result in sorted(results, key=lambda r: r.notebook):
        report = result.to_gradescope()
        output.append(f"{printable(result.notebook)}: {report['output']}")
        for test in report["tests"]:
            tests.append({**test, "name": f"{result.notebook}: {test['name']}"})
        score += report["score"]
        seconds += report["execution_time"]
    points = assignment_points(allowed) if allowed else sum(r.max_score for r in results)
    score = min(score, points)  # one grade per exercise already; never above the assignment's points either
    protections = next((r.protections for r in results if r.protections), {})
    extra.update(protections=protections, warning=protections_missing() if bwrap else "sandbox off",
                 assignment_points=points)
    output.append("Protections: " + describe_protections(protections, extra["warning"]))
    if bwrap is None:
        output.append(UNSAFE_BANNER)
    _write_results(results_dir, {"score": score, "execution_time": seconds, "output": "\n\n".join(output),
                                 "tests": tests, "extra_data": extra})
    return 0 if all(r.graded for r in results) else 1


def one_per_exercise(submissions) -> tuple[list, list]:
    """One notebook per exercise number: the most recently modified (then the last by name).

    Returns the kept submissions and ``[(number, kept, [dropped...])]`` for every number handed in twice.
    """
    by_number = {}
    for sub in submissions:
        by_number.setdefault(sub.number, []).append(sub)
    kept, duplicates = [], []
    for number, subs in sorted(by_number.items()):
        subs.sort(key=lambda s: (_mtime(s.path), s.path.name))
        kept.append(subs[-1])
        if len(subs) > 1:
            duplicates.append((number, subs[-1], subs[:-1]))
    return kept, duplicates


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def assignment_points(numbers) -> float:
    """The automatic points of the exercises `numbers` together (their function questions' points)."""
    from ..checks import load_exercise

    return float(sum(q.points for n in numbers for q in load_exercise(n).function_questions))


def describe_protections(protections: dict, warning: str) -> str:
    """One sentence: what guarded this run (for results.json)."""
    if not protections.get("sandbox"):
        return "none: graded without a sandbox." if warning == "sandbox off" else f"unknown ({warning})."
    parts = ["bubblewrap sandbox (no network, private /tmp, read-only root)"]
    if protections.get("cgroup"):
        parts.append(f"cgroup {protections['cgroup']} ({protections.get('memory_limit_mb')} MiB of memory and files, "
                     f"{protections.get('pids_limit')} processes)")
    parts.append(f"host uid {protections.get('host_uid')}")
    text = ", ".join(parts) + "."
    return text + (f" MISSING: {warning}." if warning else "")


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
    parser.add_argument("--exercises", type=number_type(int, 0, 99), nargs="+", default=None,
                        help="the exercise numbers of this assignment: notebooks of other exercises are not graded, "
                             "and the score never exceeds their points (default: any exercise)")


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
