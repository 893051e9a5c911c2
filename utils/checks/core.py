"""The self-check framework behind every exercise: `check`, `hint`, `solution` (Lesson 01).

An exercise module (``utils/checks/ex01.py``, ``ex02.py``, ...) declares its questions:

- `FunctionQuestion`: the student writes a function. The question holds the reference
  implementation, fixed *public* inputs (what ``check()`` runs in the notebook), a generator of
  *hidden* inputs that takes a ``numpy.random.Generator`` (drawn fresh at grading time), and a
  ``judge`` that compares one answer with the reference's and explains any difference.
- `WrittenQuestion`: the student answers in markdown; a person grades it.

Both the notebook's ``check()`` and the grader reduce what the student's function returned to an
`Answer` (plain data: a type name and a float64 array) and pass it to the same ``judge``, so a
student sees the same message in the notebook and in the grader's report. Reading this code (or
``ex01.py``) gives no answers away: the grader compares on inputs nobody has seen before.

Three outcomes, as in Kaggle Learn: *not attempted* (the starter still raises
``NotImplementedError`` or the function returns ``None``), *incorrect* (with the input, the
expected and the actual value), *correct* ("public checks passed": graders also run hidden checks).
"""

from __future__ import annotations

import copy
import enum
import inspect
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "AnswerKind",
    "Outcome",
    "graded_release",
    "Answer",
    "Verdict",
    "capture",
    "to_answer",
    "FunctionQuestion",
    "WrittenQuestion",
    "Exercise",
    "describe_inputs",
]



class Outcome(enum.StrEnum):
    """The outcome of checking one question (a `str`, so ``outcome == "correct"`` still holds)."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    NOT_ATTEMPTED = "not attempted"


class AnswerKind(enum.StrEnum):
    """What calling a student's function produced (see `Answer`)."""

    VALUE = "value"
    RAISED = "raised"
    NOT_ATTEMPTED = "not attempted"
    MISSING = "missing"


CORRECT, INCORRECT, NOT_ATTEMPTED = Outcome.CORRECT, Outcome.INCORRECT, Outcome.NOT_ATTEMPTED
GRADED_VARIABLE = "COURSE_GRADED"  # set to 1 for a cohort whose exercises count: solution() shows nothing
MAX_ANSWER_VALUES = 1_000_000  # a larger return value is reported by shape only


@dataclass(frozen=True)
class Answer:
    """What a student's function produced, reduced to plain data.

    Attributes
    ----------
    kind : AnswerKind
        ``value``: it returned something; ``raised``: it raised an exception; ``not attempted``: it
        raised ``NotImplementedError`` or returned ``None``; ``missing``: no function of that name.
    type_name : str
        Type of the returned object (``"ndarray"``, ``"float"``, ``"str"`` ...) or of the exception.
    values : ndarray of float64 or None
        The returned value as numbers (any shape), or None when it is not numeric.
    error : str
        For ``raised``/``missing``: a one-line explanation.
    """

    kind: AnswerKind
    type_name: str = ""
    values: np.ndarray | None = None
    error: str = ""

    def __post_init__(self):
        object.__setattr__(self, "kind", AnswerKind(self.kind))  # ValueError for an unknown kind


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one question, and the message that explains it."""

    outcome: Outcome
    message: str

    def __post_init__(self):
        object.__setattr__(self, "outcome", Outcome(self.outcome))

    @property
    def passed(self) -> bool:
        return self.outcome == CORRECT


def to_answer(obj) -> Answer:
    """Reduce a returned object to an `Answer` (numbers become a float64 array, if possible)."""
    if obj is None:
        return Answer(AnswerKind.NOT_ATTEMPTED, "NoneType")
    type_name = type(obj).__name__
    if hasattr(obj, "detach") and hasattr(obj, "cpu"):  # a torch tensor: accept it as an array
        try:
            obj = obj.detach().cpu().numpy()
        except Exception:
            return Answer(AnswerKind.VALUE, type_name)
    if isinstance(obj, (str, bytes, dict, set)):
        return Answer(AnswerKind.VALUE, type_name)
    try:
        arr = np.asarray(obj)
    except Exception:
        return Answer(AnswerKind.VALUE, type_name)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        return Answer(AnswerKind.VALUE, type_name)
    if np.iscomplexobj(arr) or arr.size > MAX_ANSWER_VALUES:
        return Answer(AnswerKind.VALUE, f"{type_name} of shape {arr.shape} and dtype {arr.dtype}")
    return Answer(AnswerKind.VALUE, type_name, arr.astype(np.float64))


def _call(function: Callable, args: dict):
    """``function(**args)``, or by position (in the stub's order) when the student renamed the parameters."""
    try:
        inspect.signature(function).bind(**args)
    except TypeError:
        return function(*args.values())  # e.g. def dp_max_tpr(f, eps, d): the case's names are not theirs
    except ValueError:  # no signature to read (a builtin): call by keyword and let it say what it expects
        pass
    return function(**args)


def capture(function: Callable, args: dict) -> Answer:
    """Call ``function(**copies of args)`` and reduce what happens to an `Answer`.

    Arguments are deep-copied first, so a function that changes its inputs in place cannot spoil
    the reference answer or the next case.
    """
    try:
        result = _call(function, copy.deepcopy(args))
    except NotImplementedError:
        return Answer(AnswerKind.NOT_ATTEMPTED, "NotImplementedError")
    except Exception as exc:  # the student's bug: report it, never crash the check
        text = " ".join(str(exc).split())
        return Answer(AnswerKind.RAISED, type(exc).__name__, error=f"{type(exc).__name__}: {text[:300]}")
    return to_answer(result)


def describe_inputs(args: dict) -> str:
    """A one-line description of a case's inputs: names with shapes (small arrays in full)."""
    parts = []
    for name, value in args.items():
        arr = np.asarray(value)
        if arr.ndim == 0:
            parts.append(f"{name}={arr.item()!r}")
        elif arr.size <= 8:
            parts.append(f"{name}={np.array2string(arr, precision=4, separator=', ')}")
        else:
            parts.append(f"{name} of shape {arr.shape}")
    return ", ".join(parts)


@dataclass
class FunctionQuestion:
    """A question whose answer is a function the student writes.

    Parameters
    ----------
    id : str
        "N.M", the exercise and question number ("1.1"); the notebook's stub says "Exercise 1.1".
    function_name : str
        The name the student's function must have in the notebook (the grader calls it by name).
    title : str
        A few words: what the function computes.
    reference : callable
        The reference implementation, called with the same keyword arguments as the student's.
    public_cases : callable returning list of dict
        Fixed inputs (argument name -> value) that ``check()`` runs; the same on every call.
    hidden_cases : callable (numpy.random.Generator) -> list of dict
        Fresh inputs for grading, drawn from the generator the grader seeds from OS entropy.
    judge : callable (args, expected, answer) -> str or None
        None when ``answer`` (an `Answer`) matches ``expected`` (the reference's return value on
        ``args``); otherwise a specific, friendly message saying what differs.
    hints : list of str
        Numbered hints, each revealing a little more.
    points : float, default=2
        Points for passing the hidden checks (public checks alone earn none).
    library_allowed : tuple of str, default=()
        Course library functions (dotted, ``"utils.metrics.clopper_pearson"``) the student's function
        may call. The grader flags an answer whose function uses any other ``utils.*`` function
        (`utils.grading.provenance`): the library holds answers to some exercises under other names.
    """

    id: str
    function_name: str
    title: str
    reference: Callable
    public_cases: Callable[[], list]
    hidden_cases: Callable[[np.random.Generator], list]
    judge: Callable
    hints: list = field(default_factory=list)
    points: float = 2.0
    library_allowed: tuple = ()
    kind = "function"

    # ---------------------------------------------------------------- grading, shared by check() and the grader
    def expected(self, args: dict):
        """The reference's answer on one case (the inputs are copied first)."""
        return self.reference(**copy.deepcopy(args))

    def grade(self, cases: list, answers: list, *, checks: str = "public", expected: list | None = None) -> Verdict:
        """Compare the student's `answers` (one `Answer` per case) with the reference on `cases`.

        `checks` names the kind of inputs in messages: "public" or "hidden". `expected`, when
        given, holds the reference's answers on `cases` already (a library without references
        stores them), so the reference is not called.
        """
        label = f"{checks} case"
        if len(answers) != len(cases):
            return Verdict(INCORRECT, f"expected {len(cases)} answers, got {len(answers)}.")
        name = self.function_name
        for i, (args, answer) in enumerate(zip(cases, answers), start=1):
            where = f"{label} {i} of {len(cases)} ({describe_inputs(args)})"
            if answer.kind == AnswerKind.MISSING:
                return Verdict(
                    NOT_ATTEMPTED,
                    f"No function called `{name}` was found{': ' + answer.error if answer.error else ''}. "
                    f"Keep the name `{name}` and the arguments the exercise gives.",
                )
            if answer.kind == AnswerKind.NOT_ATTEMPTED:
                if answer.type_name == "NoneType":
                    return Verdict(
                        NOT_ATTEMPTED,
                        f"`{name}` returned None on {where}. Did you forget the `return` line?",
                    )
                return Verdict(
                    NOT_ATTEMPTED,
                    f"Exercise {self.id} is not attempted yet: `{name}` still raises NotImplementedError. "
                    "Replace the `raise NotImplementedError(...)` line with your code, then check again.",
                )
            if answer.kind == AnswerKind.RAISED:
                return Verdict(INCORRECT, f"Not quite yet. `{name}` raised {answer.error} on {where}.")
            problem = self.judge(args, self.expected(args) if expected is None else expected[i - 1], answer)
            if problem:
                return Verdict(INCORRECT, f"Not quite yet. On {where}: {problem}")
        return Verdict(CORRECT, f"Exercise {self.id}: {checks} checks passed ({len(cases)} cases).")

    # ---------------------------------------------------------------- what the student calls in the notebook
    def evaluate(self, function) -> Verdict:
        """Run the public checks on `function` and return the `Verdict` (``check`` prints it)."""
        if not callable(function):
            return Verdict(
                INCORRECT,
                f"check() needs your function itself, e.g. ex{int(self.id.split('.')[0]):02d}."
                f"q{self.id.split('.')[1]}.check({self.function_name}) (no parentheses after the name); "
                f"got a {type(function).__name__}.",
            )
        cases = self.public_cases()
        verdict = self.grade(cases, [capture(function, args) for args in cases], checks="public")
        if verdict.outcome == INCORRECT and self.hints:
            verdict = Verdict(INCORRECT, verdict.message + f" {self._handle()}.hint() can help.")
        return verdict

    def check(self, function) -> None:
        """Run the public checks on your function and print what they found.

        Passing prints "public checks passed": the grader also runs hidden checks on fresh inputs.
        """
        print(self.evaluate(function).message)

    def hint(self, n: int | None = None) -> None:
        """Print hint `n` (1 by default); later hints reveal more."""
        _print_hint(self, n)

    def solution(self) -> None:
        """Print the reference implementation (nothing in a graded release, see `graded_release`)."""
        if graded_release():
            print(_GRADED_MESSAGE)
            return
        source = textwrap.dedent(inspect.getsource(self.reference))
        print(f"Solution to exercise {self.id} ({self.title}):\n\n{source}")

    def _handle(self) -> str:
        number, question = self.id.split(".")
        return f"ex{int(number):02d}.q{question}"


@dataclass
class WrittenQuestion:
    """A question answered in words, in a markdown cell; a person grades it.

    The answer cell is the markdown cell whose metadata says ``"exercise": id`` (the build keeps it).
    """

    id: str
    title: str
    prompt: str
    model_answer: str
    hints: list = field(default_factory=list)
    points: float = 0.0
    kind = "written"

    def check(self, *_ignored) -> None:
        """Written answers have no automatic check; say so, kindly."""
        print(
            f"Exercise {self.id} is a written answer: a person reads it when your notebook is graded. "
            f"Once you have written yours, compare it with {self._handle()}.solution()."
        )

    def hint(self, n: int | None = None) -> None:
        """Print hint `n` (1 by default); later hints reveal more."""
        _print_hint(self, n)

    def solution(self) -> None:
        """Print the model answer (nothing in a graded release, see `graded_release`)."""
        if graded_release():
            print(_GRADED_MESSAGE)
            return
        print(f"A model answer to exercise {self.id} ({self.title}):\n\n{self.model_answer.strip()}")

    def _handle(self) -> str:
        number, question = self.id.split(".")
        return f"ex{int(number):02d}.q{question}"


_GRADED_MESSAGE = "Solutions are not shown in this course: your exercises are graded. Hints are: try .hint()."


def graded_release() -> bool:
    """True when solutions must stay hidden: ``COURSE_GRADED=1`` is set (a graded cohort).

    The grader's sandbox and ``python -m utils.build_exercises --graded`` go further: the library
    they hand to students holds no reference solutions at all (`utils.checks.release`).
    """
    return os.environ.get(GRADED_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def _print_hint(question, n):
    hints = question.hints
    if not hints:
        print(f"Exercise {question.id} has no hints.")
        return
    n = 1 if n is None else n
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(hints):
        print(f"Exercise {question.id} has hints 1 to {len(hints)}; try {question._handle()}.hint(1).")
        return
    more = f" For more, {question._handle()}.hint({n + 1})." if n < len(hints) else ""
    print(f"Hint {n} of {len(hints)} for exercise {question.id}: {hints[n - 1]}{more}")


@dataclass(frozen=True)
class Exercise:
    """One lesson's exercise: its number (the notebook's ``NN_`` prefix), title and questions."""

    number: int
    title: str
    questions: tuple

    def __post_init__(self):
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"exercise {self.number} declares question ids twice: {ids}.")
        for q in self.questions:
            if int(q.id.split(".")[0]) != self.number:
                raise ValueError(f"question {q.id} does not belong to exercise {self.number}.")

    @property
    def function_questions(self) -> list:
        return [q for q in self.questions if q.kind == "function"]

    @property
    def written_questions(self) -> list:
        return [q for q in self.questions if q.kind == "written"]
