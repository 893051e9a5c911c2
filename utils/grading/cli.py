"""``python -m utils.grade SUBMISSIONS... --out DIR``: grade a batch of exercise notebooks.

Every option is checked before anything runs (a clear message and exit code 2), and so are the
submissions (two files claiming one student's notebook: refused, naming both) and ``--out``
(another grader writing there: refused; results of an earlier run: refused unless ``--merge``).
Each notebook runs in its own sandbox (`utils.grading.sandbox`); ``--unsafe-no-sandbox`` is the
only way to grade without bubblewrap, and it is said loudly.

Exit codes: 0 every submission graded; 1 some submission hit a grader error (no score: grade it
again) or a report could not be moved into place; 2 bad options or input, nothing graded.
Also: ``python -m utils.grade autograder --out autograder.zip`` (a Gradescope bundle, see
`utils.grading.gradescope`).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import stat
import sys
from pathlib import Path

from . import report
from .batch import grade_batch
from .jail import protections_missing
from .merge import merge_conflicts
from .options import UNSAFE_BANNER, number_type
from .sandbox import Limits, SandboxUnavailable, probe_bwrap
from .submissions import find_submissions, printable

__all__ = ["main", "parse_args", "OutLock"]

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m utils.grade",
        description="Grade exercise notebooks: run each in a sandbox (bubblewrap) with time and memory limits, "
                    "check its functions on public and hidden inputs, and write Gradescope reports. "
                    "Also: python -m utils.grade autograder --out autograder.zip (a Gradescope bundle).")
    parser.add_argument("submissions", nargs="+", type=Path,
                        help="notebooks, or folders of student_id/NN_*.ipynb or NN_*__student_id.ipynb")
    parser.add_argument("--out", type=Path, required=True, help="folder for the reports")
    parser.add_argument("--merge", action="store_true",
                        help="--out holds earlier results: keep them, replacing only the notebooks graded again "
                             "(without it, such an --out is refused)")
    parser.add_argument("--replace", action="store_true",
                        help="with --merge: let a notebook from another file replace a student's earlier grade "
                             "for its exercise (without it, such a replacement is refused, naming both files)")
    parser.add_argument("--jobs", type=number_type(int, 1, 256), default=max(1, (os.cpu_count() or 1) // 2),
                        help="sandboxes run at once (default: half the CPU count)")
    parser.add_argument("--cell-timeout", type=number_type(float, 0, 86400, low_open=True), default=60.0,
                        help="seconds per cell (default 60)")
    parser.add_argument("--notebook-timeout", type=number_type(float, 0, 86400, low_open=True), default=300.0,
                        help="seconds for all cells together (default 300)")
    parser.add_argument("--harness-timeout", type=number_type(float, 0, 86400, low_open=True), default=60.0,
                        help="seconds for the checks (default 60)")
    parser.add_argument("--memory-mb", type=number_type(int, 256, 2**20), default=3072,
                        help="memory per process in MiB; with a cgroup, all of a sandbox's processes and files "
                             "together get --memory-mb + --tmpfs-mb (default 3072)")
    parser.add_argument("--tmpfs-mb", type=number_type(int, 16, 2**20), default=256,
                        help="size of each sandbox's private /tmp in MiB: all a notebook may write (default 256)")
    parser.add_argument("--pids", type=number_type(int, 16, 2**22), default=256,
                        help="processes and threads of one sandbox together (its cgroup; default 256)")
    parser.add_argument("--seed", type=number_type(int, 0, 2**63 - 1), default=None,
                        help="batch seed of the hidden inputs (default: fresh OS entropy, never written anywhere)")
    parser.add_argument("--fast", action="store_true",
                        help="run notebooks with COURSE_FAST=1 (smaller sizes, same code)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="grade without bubblewrap, as your own user: only for notebooks you trust")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def parse_args(argv=None):
    """The parsed options (argparse exits with code 2 and a message on a bad one)."""
    return build_parser().parse_args(argv)


class OutLock:
    """An exclusive lock on ``--out`` (``DIR/.grader.lock``, released when the process ends)."""

    def __init__(self, out: Path):
        self.path = Path(out) / ".grader.lock"
        self.file = None

    def acquire(self) -> bool:
        """True when the lock is ours; False when another grader holds it. OSError when the lock
        file is not a plain file (a symbolic link is never followed, its target never truncated)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise OSError(f"{self.path} cannot be the lock file ({exc.strerror}: a symbolic link or not a file); "
                          "remove it") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(f"{self.path} is not a plain file; remove it")
        self.file = os.fdopen(fd, "r+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.file.close()
            self.file = None
            return False
        self.file.truncate(0)
        self.file.write(f"{os.getpid()}\n")
        self.file.flush()
        return True

    def release(self) -> None:
        if self.file is not None:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("autograder", "gradescope") and not Path(argv[0]).exists():
        from . import gradescope

        return gradescope.main(argv)
    if argv and argv[0] == "probe" and not Path(argv[0]).exists():
        from . import probe

        return probe.main(argv[1:])
    args = parse_args(argv)
    submissions, skipped, collisions = find_submissions(args.submissions)
    for item in skipped:
        print(f"warning: {item}", file=sys.stderr)
    if collisions:
        for collision in collisions:
            print(f"error: {collision}", file=sys.stderr)
        return _error("student ids collide (listed above); rename the files so that each student has one id, "
                      "then grade again. Nothing was graded.")
    if not submissions:
        return _error("no submissions found (notebooks are named NN_title.ipynb).")
    if args.out.exists() and not args.out.is_dir():
        return _error(f"--out {args.out} exists and is not a folder.")
    bwrap = None
    if not args.unsafe_no_sandbox:
        try:
            bwrap = probe_bwrap()
        except SandboxUnavailable as exc:
            return _error(str(exc))
    lock = OutLock(args.out)
    try:
        if not lock.acquire():
            return _error(f"another grader is writing to {args.out} (it holds {lock.path}); wait for it to finish.")
    except OSError as exc:
        return _error(str(exc))
    try:
        earlier = report.earlier_results(args.out)
        if earlier and not args.merge:
            return _error(f"{args.out} holds results of an earlier run ({earlier[0].name}, ...). Pass --merge to "
                          "keep them and add this batch (notebooks graded again replace their old rows), or "
                          "choose an empty folder.")
        if args.merge:
            refused = merge_conflicts(args.out, submissions, replace=args.replace)
            if refused:
                for line in refused:
                    print(f"error: {line}", file=sys.stderr)
                return _error("--merge would break the rule of one id per student and one grade per exercise "
                              "(listed above); nothing was graded.")
        missing = protections_missing() if bwrap else ""
        if missing:
            print(f"WARNING: {missing}", file=sys.stderr)
        jobs = min(args.jobs, len(submissions))
        limits = Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                        harness_timeout=args.harness_timeout, memory_mb=args.memory_mb, tmpfs_mb=args.tmpfs_mb,
                        pids=args.pids,
                        threads=max(1, (os.cpu_count() or 1) // jobs))
        env = {"COURSE_FAST": "1"} if args.fast else {}
        if args.unsafe_no_sandbox:
            print(UNSAFE_BANNER, file=sys.stderr)
        results, exercises = grade_batch(submissions, limits, jobs=jobs, seed=args.seed, bwrap=bwrap, env=env,
                                         progress=not args.no_progress)
        try:
            problems = report.publish(args.out, results,
                                      {n: e.exercise for n, e in exercises.items() if e.exercise is not None},
                                      merge=args.merge)
        except (OSError, ValueError) as exc:
            problems = [f"the reports could not be written ({exc})"]
    finally:
        lock.release()
    print(report.summary_table(results))
    errors = [r for r in results if not r.graded]
    if problems:
        print(f"\n{len(results)} notebooks graded, but the reports were NOT all published in {printable(args.out)}/ "
              "(see the errors below)")
    else:
        print(f"\n{len(results)} notebooks graded; reports in {printable(args.out)}/ (scores.csv, manual_answers.md, "
              "<student>/<notebook>.json)")
    if missing:
        print(f"WARNING: {missing}")
    if skipped:
        print(f"{len(skipped)} paths skipped:")
        for item in skipped:
            print(f"  {item}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if errors:
        print(f"error: {len(errors)} notebooks were NOT graded because the grader failed (see 'grader error' above); "
              "grade them again.", file=sys.stderr)
    if args.unsafe_no_sandbox:
        print(UNSAFE_BANNER)
    return 1 if errors or problems else 0
