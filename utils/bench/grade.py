"""Benchmark: the grader's sandbox start-up cost, and a cohort of copies of every solution notebook.

    python -m utils.bench grade [--copies 20] [--jobs 2] [--no-fast] [--skip-batch]

Prints

1. the start-up cost of one bubblewrap sandbox: ``python -c pass`` inside it vs outside (best of 5),
   and inside the full sandbox of issue 18 (its cgroups made and removed, the launcher that joins
   them and, as root, drops to an unprivileged host uid): the cost of the new limits;
2. the start-up cost per notebook: a one-cell notebook graded in the sandbox with its cgroups (now),
   in the sandbox without cgroups (``COURSE_GRADER_NO_CGROUP=1``, as before issue 18) and with
   ``--unsafe-no-sandbox`` (kernel start included; best of 3);
3. the wall time of grading ``--copies`` copies of each ``solutions/NN_*.ipynb`` with ``--jobs``
   sandboxes at once (``COURSE_FAST=1`` unless ``--no-fast``), and the time per notebook.

Nothing is asserted: timings on a shared machine are noisy; compare figures from one run.

`headline` (for ``python -m utils.bench all``): figures 1 and 2, without the cohort.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np

from ..config import pick

__all__ = ["headline", "main"]

ROOT = Path(__file__).resolve().parents[2]


def _best(samples) -> str:
    return f"{min(samples):.2f} s (best of {len(samples)}; all: {', '.join(f'{s:.2f}' for s in samples)})"


def _bwrap_startup(bwrap, repeats=5):
    """Seconds of ``python -c pass``: in bubblewrap alone, outside, and in the full sandbox (cgroups, uid)."""
    from ..grading.jail import Jail
    from ..grading.sandbox import COURSE_DIR, HOME_DIR, Limits, bwrap_command, sandbox_env

    env = sandbox_env(Limits(), {}, course=COURSE_DIR, home=HOME_DIR)
    inside, outside, jailed = [], [], []
    scratch = Path(tempfile.mkdtemp())
    try:
        scratch.chmod(0o755)
        (scratch / "submission").mkdir(mode=0o755)
        notebook = scratch / "submission" / "x.ipynb"
        notebook.write_text("{}")
        command = bwrap_command(bwrap, course=scratch, notebook=None, limits=Limits()) + [sys.executable, "-c", "pass"]
        for _ in range(repeats):
            t = time.perf_counter()
            subprocess.run(command, env=env, check=True)
            inside.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
            outside.append(time.perf_counter() - t)
            t = time.perf_counter()
            with Jail(bwrap, course=scratch, notebook=notebook, limits=Limits()) as jail:
                subprocess.run(jail.full_command([sys.executable, "-c", "pass"]), env=env, check=True)
            jailed.append(time.perf_counter() - t)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return inside, outside, jailed


def _notebook_startup(bwrap, repeats=3, *, strict=False, modes=("sandbox", "sandbox, no cgroup", "no sandbox")):
    from ..grading.batch import course_copy, remove_tree
    from ..grading.jail import NO_CGROUP_ENV
    from ..grading.runner import run_submission
    from ..grading.sandbox import Limits

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    data = nbformat.writes(nb).encode()
    course = course_copy()
    times = {mode: [] for mode in modes}
    try:
        for _ in range(repeats):
            for mode in modes:
                wrap = bwrap if mode.startswith("sandbox") else None
                if mode == "sandbox, no cgroup":
                    os.environ[NO_CGROUP_ENV] = "1"
                try:
                    t = time.perf_counter()
                    run = run_submission(data, "01_x.ipynb", lambda: ({"questions": []}, {"a": np.zeros(1)}, 1.0),
                                         course, Limits(), bwrap=wrap)
                    times[mode].append(time.perf_counter() - t)
                finally:
                    os.environ.pop(NO_CGROUP_ENV, None)
                if str(run.status) != "ok":
                    message = f"the {mode} run ended with {run.status}: {run.detail}"
                    if strict:  # a timing of a failed run would be a figure about something else
                        raise RuntimeError(f"a one-cell notebook could not be graded: {message}")
                    print(f"  warning: {message}")
    finally:
        remove_tree(course)
    return times


def _cohort(copies, jobs, fast):
    solutions = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    root = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    try:
        for i in range(copies):
            folder = root / "submissions" / f"student{i:03d}"
            folder.mkdir(parents=True)
            for path in solutions:
                shutil.copy(path, folder / path.name)
        command = [sys.executable, "-m", "utils.grade", str(root / "submissions"), "--out", str(root / "out"),
                   "--jobs", str(jobs), "--no-progress"] + (["--fast"] if fast else [])
        t = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - t
        full = sum(1 for line in done.stdout.splitlines() if " ran" in line and _full(line))
        return seconds, len(solutions) * copies, full, done.returncode, done.stderr[-500:]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _full(line: str) -> bool:
    for cell in line.split():
        if "/" in cell:
            got, _, out_of = cell.partition("/")
            try:
                return float(got) == float(out_of) and float(out_of) > 0
            except ValueError:
                return False
    return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.bench grade", description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=20, help="copies of each solution notebook (default 20)")
    parser.add_argument("--jobs", type=int, default=2, help="sandboxes at once (default 2)")
    parser.add_argument("--no-fast", action="store_true", help="grade with the default sizes, not COURSE_FAST=1")
    parser.add_argument("--skip-batch", action="store_true", help="only the start-up costs")
    args = parser.parse_args(argv)
    from ..grading.sandbox import SandboxUnavailable, probe_bwrap

    try:
        bwrap = probe_bwrap()
    except SandboxUnavailable as exc:
        print(f"no sandbox here: {exc}")
        return 1
    from ..grading.jail import protections_missing

    inside, outside, jailed = _bwrap_startup(bwrap)
    print("1. python -c pass, in a bubblewrap sandbox vs outside:")
    print(f"   bubblewrap alone (before issue 18)      {_best(inside)}\n   outside {_best(outside)}")
    print(f"   full sandbox (cgroups, launcher, uid)   {_best(jailed)}")
    print(f"   sandbox start-up cost: {min(inside) - min(outside):+.2f} s; the new limits add "
          f"{min(jailed) - min(inside):+.3f} s" + (f" (WARNING: {protections_missing()})" if protections_missing()
                                                   else ""))
    times = _notebook_startup(bwrap)
    print("2. a one-cell notebook graded (kernel start included):")
    for mode, samples in times.items():
        print(f"   {mode:18s} {_best(samples)}")
    print(f"   sandbox start-up cost per notebook: {min(times['sandbox']) - min(times['no sandbox']):+.2f} s, of "
          f"which the cgroups: {min(times['sandbox']) - min(times['sandbox, no cgroup']):+.2f} s")
    if args.skip_batch:
        return 0
    seconds, n, full, code, err = _cohort(args.copies, args.jobs, not args.no_fast)
    mode = "COURSE_FAST=1" if not args.no_fast else "default sizes"
    print(f"3. {args.copies} copies of each solution notebook ({n} notebooks, {mode}) with --jobs {args.jobs}: "
          f"{seconds:.1f} s ({seconds / max(n, 1):.2f} s per notebook); {full}/{n} at full marks; exit code {code}")
    if code != 0:
        print(f"   grader stderr: {err}")
    return 0


def headline() -> list[tuple[str, float]]:
    """The figures `python -m utils.bench all` lists (protocol: utils/bench/all.py): the sandbox's start-up cost.

    ``python -c pass`` inside a bubblewrap sandbox minus outside it (best of 5 each: bubblewrap's own
    cost), and the wall time of grading a one-cell notebook in the sandbox (kernel start and checks
    included: what every submission pays before its own cells; best of 3, 1 with ``COURSE_FAST=1``).
    No cohort. About 5 s (2 s fast) on a busy 2-core machine.

    Raises
    ------
    SandboxUnavailable
        When bubblewrap is missing or cannot build a sandbox here (the message says what to do);
        `python -m utils.bench all` reports it and goes on.
    """
    from ..grading.sandbox import SandboxUnavailable, probe_bwrap

    try:
        bwrap = probe_bwrap()
    except SandboxUnavailable as exc:
        raise SandboxUnavailable(f"no sandbox here, so no figure: {exc}") from None
    inside, outside, _ = _bwrap_startup(bwrap)
    times = _notebook_startup(bwrap, repeats=pick(default=3, fast=1), strict=True, modes=("sandbox",))
    return [("bubblewrap sandbox start-up cost, python -c pass inside minus outside (s)", min(inside) - min(outside)),
            ("one-cell notebook graded in the sandbox, kernel start included (s)", min(times["sandbox"]))]
