"""Turn what a worker brought back into a grade, in the grader process (Lesson 01 onwards).

Everything here runs outside the student's kernel: the hidden inputs are drawn here, the
reference answers are computed here, and the student's raw answers (plain JSON) are validated and
compared here. A notebook that timed out, whose kernel died, or that sent back nothing usable
scores 0 on every automatic check, with a status that says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat
import numpy as np

from ..build_exercises import ANSWER_BEGIN, ANSWER_END, ANSWER_PLACEHOLDER
from ..checks.harness import answers_from_json

__all__ = [
    "TestResult", "NotebookResult", "draw_inputs", "score_run", "read_notebook",
    "written_answers", "written_tests", "unreadable_result",
]

MAX_NOTEBOOK_BYTES = 50 * 2**20
MAX_WRITTEN_CHARS = 5000


@dataclass
class TestResult:
    """One line of the Gradescope report.

    `status` is "passed", "failed", "error" (the check could not run: timeout, dead kernel, no
    answers) or "manual" (a written answer, graded by a person).
    """

    name: str
    exercise: str
    status: str
    score: float
    max_score: float
    output: str

    def to_json(self) -> dict:
        return {"name": self.name, "score": self.score, "max_score": self.max_score, "status": self.status, "output": self.output}


@dataclass
class NotebookResult:
    """The grade of one submission: its tests, and how its run went."""

    student: str
    notebook: str
    exercise: int | None
    tests: list
    run_status: str
    detail: str = ""
    hidden_seed: str = ""
    seconds: float = 0.0
    output_bytes: int = 0
    cell_errors: list = field(default_factory=list)
    written: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return float(sum(t.score for t in self.tests))

    @property
    def max_score(self) -> float:
        return float(sum(t.max_score for t in self.tests))

    @property
    def status(self) -> str:
        """"error" when the notebook did not run to the end, else "passed" or "failed" (automatic checks)."""
        automatic = [t for t in self.tests if t.max_score > 0]
        if self.run_status != "ok" or any(t.status == "error" for t in automatic):
            return "error"
        return "passed" if all(t.status == "passed" for t in automatic) else "failed"

    def to_gradescope(self) -> dict:
        summary = f"{self.score:g} / {self.max_score:g} automatic points."
        if self.run_status != "ok":
            summary += f" Your notebook did not finish ({self.detail}), so every automatic check scores 0."
        summary += " Written answers are graded by hand."
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": self.seconds,
            "output": summary,
            "tests": [t.to_json() for t in self.tests],
            "extra_data": {
                "student": self.student,
                "notebook": self.notebook,
                "run_status": self.run_status,
                "run_detail": self.detail,
                "hidden_seed": self.hidden_seed,
                "cell_errors": self.cell_errors,
                "output_bytes": self.output_bytes,
            },
        }

    def rows(self) -> list:
        """``scores.csv`` rows: one per question (hidden checks decide the score of a function question)."""
        rows = []
        for test in self.tests:
            if test.name.endswith("public checks") or test.exercise == "":
                continue
            rows.append({"student": self.student, "notebook": self.notebook, "exercise": test.exercise,
                         "score": test.score, "max_score": test.max_score, "status": test.status})
        if not rows:
            rows.append({"student": self.student, "notebook": self.notebook, "exercise": "",
                         "score": 0.0, "max_score": 0.0, "status": "error"})
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
    """The text of each written answer: the markdown cells whose metadata names that question."""
    answers = {}
    for question in exercise.written_questions:
        texts = [_without_markers(c.source) for c in nb.cells
                 if c.get("cell_type") == "markdown" and c.get("metadata", {}).get("exercise") == question.id]
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


def score_run(exercise, cases: dict, run) -> list:
    """The tests of one submission from its `RunResult` (`run`) and the inputs it was given."""
    tests = []
    if run.status == "ok":
        errors = run.cell_errors or []
        listed = "; ".join(f"cell {e.get('cell')}: {e.get('ename')}: {e.get('evalue')}" for e in errors[:10])
        output = "Every cell ran." + (f" {len(errors)} cells raised an error ({listed})." if errors else "")
        tests.append(TestResult("notebook runs", "", "passed", 0.0, 0.0, output))
    else:
        tests.append(TestResult("notebook runs", "", "error", 0.0, 0.0, f"The notebook did not finish: {run.detail}."))
    parsed, problem = None, ""
    if run.status != "ok":
        problem = f"Your notebook did not finish ({run.detail}); a notebook that does not finish scores 0 on every automatic check."
    elif run.answers is None:
        problem = f"No answers came back: {run.answers_problem}."
    else:
        counts = {qid: len(c) for qid, c in cases.items()}
        try:
            parsed = answers_from_json(run.answers, counts)
        except (ValueError, TypeError) as exc:
            problem = f"The answers your kernel sent back are malformed ({exc}); they cannot be graded."
    for question in exercise.function_questions:
        for checks, name in zip(("public", "hidden"), _test_names(question)):
            points = float(question.points) if checks == "hidden" else 0.0
            if parsed is None:
                tests.append(TestResult(name, question.id, "error", 0.0, points, problem))
                continue
            qid = f"{question.id}/{checks}"
            try:
                verdict = question.grade(cases[qid], parsed[qid], checks=checks)
            except Exception as exc:  # a judge that cannot read this answer never awards points
                tests.append(TestResult(name, question.id, "error", 0.0, points,
                                        f"This answer could not be compared ({type(exc).__name__}: {exc})."))
                continue
            status = "passed" if verdict.passed else "failed"
            tests.append(TestResult(name, question.id, status, points if verdict.passed else 0.0, points, verdict.message))
    return tests


def written_tests(exercise, answers: dict | None) -> list:
    """One "manual" test per written question (0 automatic points), its output the student's answer."""
    tests = []
    for question in exercise.written_questions:
        text = None if answers is None else answers.get(question.id)
        if answers is None:
            output = "The notebook could not be read, so no answer was found."
        elif text is None:
            output = f"No answer cell for exercise {question.id} was found (its cell metadata names the question)."
        elif not text:
            output = "Not answered yet (the cell still says *Your answer here*)."
        else:
            output = text
        tests.append(TestResult(f"{question.id} written answer: {question.title}", question.id, "manual", 0.0, 0.0, output))
    return tests


def unreadable_result(submission, exercise, reason: str) -> NotebookResult:
    """The result of a submission that could not even be run (not a notebook, unknown exercise)."""
    tests = [TestResult("notebook runs", "", "error", 0.0, 0.0, f"This submission could not be graded: {reason}.")]
    if exercise is not None:
        for question in exercise.function_questions:
            for checks, name in zip(("public", "hidden"), _test_names(question)):
                points = float(question.points) if checks == "hidden" else 0.0
                tests.append(TestResult(name, question.id, "error", 0.0, points, f"Not graded: {reason}."))
        tests += written_tests(exercise, None)
    return NotebookResult(submission.student, submission.notebook, submission.number, tests, "error", reason)
