"""Turn what a sandbox brought back into a grade, in the grader process (Lesson 01 onwards).

Everything here runs outside the student's kernel: the hidden inputs are drawn here (only once
the student's cells have run), the reference answers are computed here, and the student's raw
answers (plain JSON) are validated and compared here. A check scores when its function answered
correctly, even if a later cell timed out or killed the kernel (the cells before it are kept);
a check with no answer scores 0 and says why. Answers from a function that was not defined in the
notebook (an alias of a library function, say) are flagged for a person to look at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat
import numpy as np

from ..checks.harness import NOTEBOOK_ORIGIN, answers_from_json, origins_from_json
from ..checks.markers import ANSWER_BEGIN, ANSWER_END, ANSWER_PLACEHOLDER, EXERCISE_KEY
from .states import GRADESCOPE_STATUS, RunStatus, TestOutcome

__all__ = [
    "TestResult", "NotebookResult", "draw_inputs", "score_run", "read_notebook",
    "written_answers", "written_tests", "unreadable_result", "grader_error_result", "MAX_NOTEBOOK_BYTES",
]

MAX_NOTEBOOK_BYTES = 50 * 2**20
MAX_WRITTEN_CHARS = 5000


@dataclass
class TestResult:
    """One line of a report: a check (public or hidden) of a function question, or a written answer."""

    name: str
    question: str  # "1.1"; "" for the line about the notebook's run
    outcome: TestOutcome
    score: float
    max_score: float
    output: str
    kind: str = "function"  # "function", "written" or "run"
    flag: str = ""  # why a person should look at this answer ("" when nothing is odd)

    def to_gradescope(self) -> dict:
        data = {"name": self.name, "score": self.score, "max_score": self.max_score, "output": self.output,
                "extra_data": {"outcome": str(self.outcome), "flag": self.flag}}
        if self.outcome in GRADESCOPE_STATUS:
            data["status"] = GRADESCOPE_STATUS[self.outcome]
        return data


@dataclass
class NotebookResult:
    """The grade of one submission: its tests, and how its run went."""

    student: str
    notebook: str
    exercise: int | None
    tests: list
    run: RunStatus
    detail: str = ""
    stopped_at: int | None = None
    seconds: float = 0.0
    output_bytes: int = 0
    cell_errors: list = field(default_factory=list)
    unsafe: bool = False  # graded without a sandbox (--unsafe-no-sandbox)
    source: str = ""  # the submitted file, for the instructor's summary (never in the student's report)
    protections: dict = field(default_factory=dict)  # what guarded this run (`utils.grading.jail.Jail.protections`)
    usage: dict = field(default_factory=dict)  # what the sandbox used, as its cgroup counted it
    warning: str = ""  # a protection that was missing (no cgroup ...): said in every report

    @property
    def graded(self) -> bool:
        """False for a grader error: this submission has no grade yet, and must not read as a 0."""
        return self.run != RunStatus.GRADER_ERROR

    @property
    def score(self) -> float:
        return float(sum(t.score for t in self.tests))

    @property
    def max_score(self) -> float:
        return float(sum(t.max_score for t in self.tests))

    @property
    def flags(self) -> list:
        return [f"{t.question}: {t.flag}" for t in self.tests if t.flag]

    @property
    def status(self) -> str:
        """What happened, in words: "ran", "ran with 2 errors", "timed out in cell 5", ..."""
        errors = len(self.cell_errors)
        with_errors = f" with {errors} error{'s' if errors != 1 else ''}" if errors else ""
        if self.run == RunStatus.OK:
            return f"ran{with_errors}"
        where = f" in cell {self.stopped_at}" if self.stopped_at is not None else ""
        if self.run == RunStatus.TIMEOUT:
            return f"timed out{where}" + (f" (ran{with_errors} before)" if errors else "")
        if self.run == RunStatus.DEAD:
            return f"kernel died{where}" + (f" (ran{with_errors} before)" if errors else "")
        if self.run == RunStatus.UNREADABLE:
            return "could not be read"
        if self.run == RunStatus.MALFORMED:
            return "sent malformed output"
        return "grader error: not graded"

    def to_gradescope(self) -> dict:
        if not self.graded:
            summary = (f"This notebook could not be graded because the grader failed ({self.detail}). "
                       "This is not a grade: it will be graded again.")
        else:
            summary = f"{self.score:g} / {self.max_score:g} automatic points. Your notebook {self.status}"
            summary += f" ({self.detail})." if self.detail and self.run != RunStatus.OK else "."
            if self.run in (RunStatus.TIMEOUT, RunStatus.DEAD):
                summary += " The checks of the functions defined before that cell still count."
            summary += " Written answers are graded by hand."
        if self.unsafe:
            summary += " WARNING: graded WITHOUT a sandbox (--unsafe-no-sandbox)."
        if self.warning:
            summary += f" WARNING: {self.warning}."
        if self.flags:
            summary += " Some answers are flagged for a person to look at: " + "; ".join(self.flags)
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": self.seconds,
            "output": summary,
            "tests": [t.to_gradescope() for t in self.tests],
            "extra_data": {
                "student": self.student,
                "notebook": self.notebook,
                "run_status": str(self.run),
                "status": self.status,
                "run_detail": self.detail,
                "stopped_at": self.stopped_at,
                "cell_errors": self.cell_errors,
                "output_bytes": self.output_bytes,
                "sandboxed": not self.unsafe,
                "protections": self.protections,
                "usage": self.usage,
                "warning": self.warning,
                "flags": self.flags,
            },
        }

    def rows(self) -> list:
        """``scores.csv`` rows: one per question (the hidden checks decide a function question's score)."""
        rows = []
        for test in self.tests:
            if test.kind == "run" or test.name.endswith("public checks"):
                continue
            written = test.kind == "written"
            rows.append({"student": self.student, "notebook": self.notebook, "question": test.question,
                         "kind": test.kind,
                         "score": "" if written or not self.graded else f"{test.score:g}",
                         "max_score": f"{test.max_score:g}" if not written else "",
                         "status": str(test.outcome), "run": self.status, "flag": test.flag})
        if not rows:
            rows.append({"student": self.student, "notebook": self.notebook, "question": "", "kind": "",
                         "score": "" if not self.graded else "0", "max_score": "", "status": str(self.run),
                         "run": self.status, "flag": ""})
        return rows


def read_notebook(data: bytes):
    """Parse a submitted notebook; ValueError with a plain explanation when it is not one."""
    if len(data) == 0:
        raise ValueError("the file is empty")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB")
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None
    except Exception as exc:
        raise ValueError(f"the file is not a valid notebook (JSON): {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(nb.get("cells"), list) or not all(isinstance(c, dict) and "cell_type" in c for c in nb.cells):
        raise ValueError("the file is JSON but not a notebook (no list of cells)")
    for cell in nb.cells:
        if not isinstance(cell.get("source", ""), str):
            raise ValueError("a cell's source is not text")
    return nb


def written_answers(nb, exercise) -> dict:
    """The text of each written answer: the markdown cells whose metadata names that question.

    ``{question id: text}``; "" when the cell still holds the placeholder, None when no cell names it.
    """
    answers = {}
    for question in exercise.written_questions:
        texts = [_without_markers(c.source) for c in nb.cells
                 if c.get("cell_type") == "markdown" and c.get("metadata", {}).get(EXERCISE_KEY) == question.id]
        text = "\n\n".join(t for t in texts if t)
        answers[question.id] = None if not texts else ("" if text == ANSWER_PLACEHOLDER else text[:MAX_WRITTEN_CHARS])
    return answers


def _without_markers(source: str) -> str:
    return "\n".join(line for line in source.split("\n") if line.strip() not in (ANSWER_BEGIN, ANSWER_END)).strip()


def draw_inputs(exercise, rng: np.random.Generator):
    """Public and fresh hidden inputs for every function question of `exercise`.

    Returns
    -------
    spec : dict
        The harness spec (question ids "N.M/public" and "N.M/hidden").
    arrays : dict of str -> ndarray
        Every input array, by the key the spec names.
    cases : dict of str -> list of dict
        The same inputs as argument dicts, by spec question id, for the reference answers.
    """
    spec, arrays, cases = {"questions": []}, {}, {}
    for question in exercise.function_questions:
        for checks, drawn in (("public", question.public_cases()), ("hidden", question.hidden_cases(rng))):
            qid = f"{question.id}/{checks}"
            keys = []
            for i, args in enumerate(drawn):
                case = {}
                for name, value in args.items():
                    key = f"q{question.id}-{checks}-{i}-{name}"
                    arrays[key] = np.asarray(value)
                    case[name] = key
                keys.append(case)
            spec["questions"].append({"id": qid, "function": question.function_name, "cases": keys})
            cases[qid] = drawn
    return spec, arrays, cases


def _test_names(question):
    base = f"{question.id} {question.function_name}"
    return f"{base}: public checks", f"{base}: hidden checks"


def _run_test(run, status_text: str) -> TestResult:
    errors = run.cell_errors or []
    listed = "; ".join(f"cell {e.get('cell')}: {e.get('ename')}: {e.get('evalue')}" for e in errors[:10])
    output = f"Your notebook {status_text}" + (f" ({run.detail})" if run.detail else "") + "."
    if errors:
        output += f" Errors: {listed}."
    outcome = TestOutcome.PASSED if run.status == RunStatus.OK and not errors else TestOutcome.FAILED
    return TestResult("notebook runs", "", outcome, 0.0, 0.0, output, kind="run")


def score_run(exercise, cases: dict, run, status_text: str = "", provenance: dict | None = None) -> list:
    """The tests of one submission from its `RunResult` (`run`) and the inputs it was given.

    `provenance`: ``{question id: [flag, ...]}`` read from the notebook's source on the host
    (`utils.grading.provenance.function_flags`); the kernel's own word on where a function came
    from (``origin``) only adds to it, since the student's code can change it.
    """
    tests = [_run_test(run, status_text or str(run.status))]
    counts = {qid: len(c) for qid, c in cases.items()}
    try:
        parsed, problems = answers_from_json(run.answer_lines if isinstance(run.answer_lines, list) else [], counts)
        origins = origins_from_json(run.answer_lines)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):  # malformed: the student's 0
        parsed, problems, origins = {}, {}, {}
    why_not = run.harness_problem or (f"your notebook {status_text}" if run.status != RunStatus.OK else "")
    for question in exercise.function_questions:
        for checks, name in zip(("public", "hidden"), _test_names(question)):
            points = float(question.points) if checks == "hidden" else 0.0
            qid = f"{question.id}/{checks}"
            if qid not in parsed:
                reason = problems.get(qid, "no answers came back")
                text = f"Not checked: {reason}" + (f" ({why_not})" if why_not else "") + "."
                tests.append(TestResult(name, question.id, TestOutcome.NOT_RUN, 0.0, points, text))
                continue
            try:
                verdict = question.grade(cases[qid], parsed[qid], checks=checks)
            except Exception as exc:  # a judge that cannot read this answer never awards points
                tests.append(TestResult(name, question.id, TestOutcome.FAILED, 0.0, points,
                                        f"This answer could not be compared ({type(exc).__name__}: {exc})."))
                continue
            origin = origins.get(qid, "")
            found = list((provenance or {}).get(question.id, []))
            if origin and origin != NOTEBOOK_ORIGIN and not found:
                found.append(f"`{question.function_name}` is `{origin}`, not a function defined in the notebook; "
                             "check by hand where its answers come from")
            flag = "; ".join(dict.fromkeys(found))
            outcome = TestOutcome.PASSED if verdict.passed else TestOutcome.FAILED
            output = verdict.message + (f" FLAGGED: {flag}." if flag else "")
            tests.append(TestResult(name, question.id, outcome, points if verdict.passed else 0.0, points, output,
                                    flag=flag if checks == "hidden" else ""))
    return tests


def written_tests(exercise, answers: dict | None) -> list:
    """One line per written question (0 automatic points): the student's answer, answered or blank."""
    tests = []
    for question in exercise.written_questions:
        text = None if answers is None else answers.get(question.id)
        if answers is None:
            outcome, output = TestOutcome.NO_ANSWER_CELL, "The notebook could not be read, so no answer was found."
        elif text is None:
            outcome = TestOutcome.NO_ANSWER_CELL
            output = f"No answer cell for exercise {question.id} was found (its cell metadata names the question)."
        elif not text:
            outcome, output = TestOutcome.BLANK, f"Not answered (the cell still says {ANSWER_PLACEHOLDER})."
        else:
            outcome, output = TestOutcome.ANSWERED, text
        tests.append(TestResult(f"{question.id} written answer: {question.title}", question.id, outcome, 0.0, 0.0,
                                output, kind="written"))
    return tests


def _placeholder_result(submission, exercise, run: RunStatus, reason: str, outcome: TestOutcome) -> NotebookResult:
    tests = [TestResult("notebook runs", "", TestOutcome.FAILED, 0.0, 0.0, reason, kind="run")]
    if exercise is not None:
        for question in exercise.function_questions:
            for checks, name in zip(("public", "hidden"), _test_names(question)):
                points = float(question.points) if checks == "hidden" else 0.0
                tests.append(TestResult(name, question.id, outcome, 0.0, points, f"Not graded: {reason}."))
        tests += written_tests(exercise, None)
    return NotebookResult(submission.student, submission.notebook, submission.number, tests, run, reason,
                          source=str(submission.path))


def unreadable_result(submission, exercise, reason: str) -> NotebookResult:
    """The result of a submission that could not even be run (not a notebook, unknown exercise): 0."""
    return _placeholder_result(submission, exercise, RunStatus.UNREADABLE,
                               f"This submission could not be graded: {reason}", TestOutcome.NOT_RUN)


def grader_error_result(submission, exercise, reason: str) -> NotebookResult:
    """The result of a submission the grader failed on: no grade (never a 0); grade it again."""
    return _placeholder_result(submission, exercise, RunStatus.GRADER_ERROR, reason, TestOutcome.NOT_GRADED)
