"""``python -m utils.grade SUBMISSIONS... --out DIR``: grade a batch of exercise notebooks.

For each submission (in parallel, one sandboxed kernel each): execute it with time and memory
limits, call the student's functions on the public inputs and on fresh hidden inputs, and compare
with the reference answers here, in the grader process. The batch always finishes: a submission
that breaks (syntax errors, infinite loops, a dead kernel, huge allocations or outputs, a file
that is not a notebook) gets an error status and 0 for what it could not show, and every other
student keeps their results. The exit code is 0 whenever the batch finished.
"""

from __future__ import annotations

import argparse
import os
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..checks import load_exercise
from . import report, scoring
from .sandbox import Limits, LibrarySnapshot, read_capped, run_submission
from .submissions import find_submissions

__all__ = ["main", "grade_batch", "grade_one"]


def _seed_sequence(seed: int, submission):
    """Each submission's own stream of hidden inputs, derived from the batch seed and its name."""
    key = zlib.crc32(f"{submission.student}/{submission.notebook}".encode())
    return np.random.SeedSequence(entropy=int(seed), spawn_key=(key,))


def grade_one(submission, exercises: dict, library: LibrarySnapshot, limits: Limits, *, seed: int, env=None):
    """Grade one `Submission`; never raises for anything the submission does.

    `seed` is the batch seed: the hidden inputs of this submission follow from it and its name.
    """
    exercise = exercises.get(submission.number)
    if isinstance(exercise, str):
        return scoring.unreadable_result(submission, None, exercise)
    try:
        data = read_capped(submission.path, scoring.MAX_NOTEBOOK_BYTES)
        nb = scoring.read_notebook(data)
    except (ValueError, OSError) as exc:
        return scoring.unreadable_result(submission, exercise, str(exc))
    seed_sequence = _seed_sequence(seed, submission)
    spec, arrays, cases = scoring.draw_inputs(exercise, np.random.default_rng(seed_sequence))
    run = run_submission(data, submission.path.name, spec, arrays, library, limits, env=env)
    tests = scoring.score_run(exercise, cases, run)
    tests += scoring.written_tests(exercise, scoring.written_answers(nb, exercise))
    return scoring.NotebookResult(
        submission.student, submission.notebook, submission.number, tests, run.status, run.detail,
        hidden_seed=f"--seed {seed}",
        seconds=run.seconds, output_bytes=run.output_bytes, cell_errors=run.cell_errors or [],
    )


def _load_exercises(numbers) -> dict:
    """Import every exercise module before any student code runs; a missing one becomes an error text."""
    exercises = {}
    for number in sorted(set(numbers)):
        try:
            exercises[number] = load_exercise(number)
        except ValueError as exc:
            exercises[number] = str(exc)
    return exercises


def grade_batch(submissions, out: Path, limits: Limits, *, jobs: int = 1, seed: int | None = None, env=None,
                progress=True) -> list:
    """Grade `submissions` with `jobs` kernels at a time and write every report into `out`.

    `seed` None draws a fresh batch seed from OS entropy (nobody can know the hidden inputs in
    advance); each report records it, and ``--seed`` with that number reproduces the inputs.
    """
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    exercises = _load_exercises(s.number for s in submissions)
    library = LibrarySnapshot()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade_one, s, exercises, library, limits, seed=seed, env=env): s for s in submissions}
        for future in tqdm(as_completed(futures), total=len(futures), desc="grading", unit="notebook", disable=not progress):
            submission = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # a grader bug must not lose the rest of the batch
                exercise = exercises.get(submission.number)
                result = scoring.unreadable_result(
                    submission, exercise if not isinstance(exercise, str) else None,
                    f"the grader failed on this submission ({type(exc).__name__}: {exc})")
            report.write_json(out, result)
            results.append(result)
    report.write_scores_csv(out, results)
    report.write_manual_answers(out, results, {k: v for k, v in exercises.items() if not isinstance(v, str)})
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m utils.grade",
        description="Grade exercise notebooks: run each in a sandboxed kernel with time and memory limits, "
                    "run its public and hidden checks, and write Gradescope reports.")
    parser.add_argument("submissions", nargs="+", type=Path,
                        help="notebooks, or folders of student_id/NN_*.ipynb or NN_*__student_id.ipynb")
    parser.add_argument("--out", type=Path, required=True, help="folder for the reports")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="kernels run at once (default: CPU count)")
    parser.add_argument("--cell-timeout", type=float, default=60.0, help="seconds per cell (default 60)")
    parser.add_argument("--notebook-timeout", type=float, default=300.0, help="seconds for all cells together (default 300)")
    parser.add_argument("--harness-timeout", type=float, default=60.0, help="seconds for the hidden checks (default 60)")
    parser.add_argument("--memory-mb", type=int, default=3072, help="memory per kernel in MiB (default 3072)")
    parser.add_argument("--seed", type=int, default=None,
                        help="batch seed of the hidden inputs (default: fresh OS entropy; each report records it)")
    parser.add_argument("--fast", action="store_true", help="run notebooks with COURSE_FAST=1 (smaller sizes, same code)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    submissions, warnings = find_submissions(args.submissions)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not submissions:
        print("error: no submissions found (notebooks are named NN_title.ipynb).", file=sys.stderr)
        return 2
    if args.jobs < 1 or args.cell_timeout <= 0 or args.notebook_timeout <= 0 or args.memory_mb < 256:
        print("error: --jobs >= 1, positive timeouts and --memory-mb >= 256 are required.", file=sys.stderr)
        return 2
    jobs = min(args.jobs, len(submissions))
    limits = Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                    harness_timeout=args.harness_timeout, memory_mb=args.memory_mb,
                    threads=max(1, (os.cpu_count() or 1) // jobs))
    env = {"COURSE_FAST": "1"} if args.fast else None
    results = grade_batch(submissions, args.out, limits, jobs=jobs, seed=args.seed, env=env, progress=not args.no_progress)
    print(report.summary_table(results))
    print(f"\n{len(results)} notebooks graded; reports in {args.out}/ (scores.csv, manual_answers.md, <student>/<notebook>.json)")
    return 0
