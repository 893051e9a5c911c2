"""Grade a batch of submissions, N sandboxes at a time (Lesson 01 onwards).

`grade_batch` never raises for anything a submission does: each failure becomes that student's
report. A failure of the grader itself (a bug, a full disk on the grader's side, a sandbox that
cannot start) becomes a *grader error* for that submission: no score (never a 0), and the command
exits non-zero so that the instructor grades it again.
"""

from __future__ import annotations

import compileall
import shutil
import stat
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checks import load_exercise
from ..checks.release import ROOT, student_library, write_files
from ..progress import progress_bar
from . import scoring
from .jail import protections_missing
from .provenance import function_flags
from .runner import read_capped, run_submission
from .sandbox import WRITABLE_COURSE_DIRS, Limits
from .submissions import id_key

__all__ = ["LoadedExercise", "load_exercises", "course_copy", "grade_one", "grade_batch", "remove_tree"]


@dataclass(frozen=True)
class LoadedExercise:
    """An exercise's checks, or why they could not be loaded (one of the two is set)."""

    exercise: object | None
    error: str = ""


def load_exercises(numbers) -> dict:
    """``{number: LoadedExercise}``, imported before any student code runs."""
    loaded = {}
    for number in sorted(set(numbers)):
        try:
            loaded[number] = LoadedExercise(load_exercise(number))
        except ValueError as exc:
            loaded[number] = LoadedExercise(None, str(exc))
    return loaded


def course_copy(target: Path | None = None, root: Path = ROOT) -> Path:
    """Write the student copy of the library (no references) and the digits cache; read-only."""
    target = Path(target) if target else Path(tempfile.mkdtemp(prefix="grade-course-"))
    files = student_library(root)
    cache = Path(root) / "data" / "mnist5k.npz"
    if not cache.exists():  # build the digits cache once here, not in every kernel
        try:
            from ..data import load_digits

            load_digits(cache_dir=cache.parent)
        except Exception:
            pass  # each kernel then parses the digits itself: slower, still correct
    if cache.exists():
        files["data/mnist5k.npz"] = cache.read_bytes()
    write_files(files, target)
    for name in WRITABLE_COURSE_DIRS:
        (target / name).mkdir(exist_ok=True)
    # compiled once here: every kernel imports the library without compiling it again
    compileall.compile_dir(str(target), quiet=2, workers=1)
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        folder.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return target


def _seed_sequence(seed: int, submission):
    """Each submission's own stream of hidden inputs, derived from the batch seed and who/what it is."""
    key = zlib.crc32(f"{id_key(submission.student)}/{submission.notebook}".encode())
    return np.random.SeedSequence(entropy=int(seed), spawn_key=(key,))


def grade_one(submission, exercises: dict, course: Path, limits: Limits, *, seed: int, bwrap: str | None,
              env=None, warning: str = ""):
    """Grade one `Submission`; never raises for anything the submission does.

    `warning`: a protection missing on this machine (`utils.grading.jail.protections_missing`), for its report.
    """
    loaded = exercises.get(submission.number) or LoadedExercise(None, f"no exercise {submission.number:02d}")
    unsafe = bwrap is None
    if loaded.exercise is None:
        result = scoring.unreadable_result(submission, None, loaded.error)
        result.unsafe = unsafe
        return result
    exercise = loaded.exercise
    try:
        data = read_capped(submission.path, scoring.MAX_NOTEBOOK_BYTES)
    except ValueError as exc:
        return scoring.unreadable_result(submission, exercise, str(exc))
    except OSError as exc:  # the grader cannot read a file it was given: not the student's doing
        return scoring.grader_error_result(submission, exercise, f"the file could not be read ({exc})")
    try:
        nb = scoring.read_notebook(data)
    except ValueError as exc:
        return scoring.unreadable_result(submission, exercise, str(exc))
    drawn = {}

    def draw():
        spec, arrays, cases = scoring.draw_inputs(exercise, np.random.default_rng(_seed_sequence(seed, submission)))
        drawn["cases"] = cases
        calls = sum(len(c) for c in cases.values()) or 1
        return spec, arrays, max(1.0, limits.harness_timeout / (calls + 1))

    run = run_submission(data, submission.path.name, draw, course, limits, bwrap=bwrap, env=env)
    if run.status == scoring.RunStatus.GRADER_ERROR:
        result = scoring.grader_error_result(submission, exercise, run.detail)
        result.unsafe = unsafe
        return result
    if "cases" not in drawn:  # the kernel never reached the checks: the inputs only name the questions
        draw()
    result = scoring.NotebookResult(
        submission.student, submission.notebook, submission.number, [], run.status, run.detail,
        stopped_at=run.stopped_at, seconds=run.seconds, output_bytes=run.output_bytes,
        cell_errors=run.cell_errors or [], unsafe=unsafe, source=str(submission.path),
        protections=run.protections, usage=run.usage, warning=warning)
    flags = {q.id: function_flags(nb, q) for q in exercise.function_questions}  # on the host, from the source
    result.tests = scoring.score_run(exercise, drawn["cases"], run, result.status, provenance=flags)
    result.tests += scoring.written_tests(exercise, scoring.written_answers(nb, exercise))
    return result


def grade_batch(submissions, limits: Limits, *, jobs: int = 1, seed: int | None = None, bwrap: str | None,
                env=None, progress=True) -> tuple[list, dict]:
    """Grade `submissions` with `jobs` sandboxes at a time; returns (results, {number: LoadedExercise}).

    `seed` None draws a fresh batch seed from OS entropy (nobody can know the hidden inputs in
    advance); it is never written into a report.
    """
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    exercises = load_exercises(s.number for s in submissions)
    warning = protections_missing() if bwrap else ""
    course = course_copy()
    results = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(grade_one, s, exercises, course, limits, seed=seed, bwrap=bwrap, env=env,
                                   warning=warning): s
                       for s in submissions}
            for future in progress_bar(as_completed(futures), total=len(futures), desc="grading", unit="notebook",
                               disable=not progress):
                submission = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # a grader bug or a full disk: this student is not graded, the batch goes on
                    loaded = exercises.get(submission.number)
                    result = scoring.grader_error_result(
                        submission, loaded.exercise if loaded else None,
                        f"the grader failed on this submission ({type(exc).__name__}: {exc})")
                    result.unsafe = bwrap is None
                results.append(result)
    finally:
        remove_tree(course)
    return results, exercises


def remove_tree(path: Path) -> None:
    """Delete a course copy whose sandbox left read-only files and folders behind."""
    for item in [path, *path.rglob("*")]:
        try:
            item.chmod(stat.S_IRWXU)
        except OSError:
            pass
    shutil.rmtree(path, ignore_errors=True)
