"""Exercise checks without reference solutions (Lesson 01 onwards).

The grader's sandbox and a graded release (``python -m utils.build_exercises --graded DIR``) give
students a copy of the course library in which every ``utils/checks/exNN.py`` is a small generated
module that loads its questions from here: the public inputs with the reference's answers on them,
stored as data (``exNN_public.npz``), the hints, and no reference code, judge or model answer.

``check()`` still runs the public cases and compares with the stored answers (shape, then values
within a tolerance; the full library's judges give more specific messages), ``hint()`` works, and
``solution()`` says that solutions are not part of a graded release.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .core import Answer, AnswerKind, Exercise, FunctionQuestion, WrittenQuestion

__all__ = ["PublicFunctionQuestion", "PublicWrittenQuestion", "load_public_exercise", "RTOL", "ATOL"]

RTOL, ATOL = 1e-4, 1e-6
_NO_SOLUTION = "Solutions are not part of this graded release of the course; the hints are: try .hint()."


def _unwrap(array: np.ndarray):
    return array.item() if array.ndim == 0 else array


def _generic_judge(args, expected: Answer, answer: Answer):
    """None when `answer` has the stored answer's shape and values; else what differs."""
    if expected.values is None:
        return None if answer.values is None else "the grader checks this answer (no stored value to compare with)."
    if answer.values is None:
        return f"expected numbers of shape {expected.values.shape}, got a {answer.type_name}."
    if answer.values.shape != expected.values.shape:
        return f"expected shape {expected.values.shape}, got shape {answer.values.shape}."
    close = np.isclose(answer.values, expected.values, rtol=RTOL, atol=ATOL)
    if close.all():
        return None
    first = np.argwhere(~close)[0]
    where = f" at index {tuple(int(i) for i in first)}" if expected.values.ndim else ""
    return (f"{int((~close).sum())} of {close.size} values differ from the expected ones; first{where}: "
            f"expected {expected.values[tuple(first)]:.6g}, got {answer.values[tuple(first)]:.6g}.")


def _no_reference(**_):
    raise RuntimeError("this copy of the course library holds no reference solutions")


@dataclass
class PublicFunctionQuestion(FunctionQuestion):
    """A `FunctionQuestion` whose public answers are stored data; it has no reference to call."""

    stored_cases: list = field(default_factory=list)
    stored_expected: list = field(default_factory=list)

    def expected(self, args: dict):
        raise RuntimeError("this copy of the course library holds no reference solutions")

    def grade(self, cases, answers, *, checks="public", expected=None):
        if expected is None:
            if cases is not self.stored_cases:
                raise RuntimeError("without reference solutions, only the stored public cases can be checked")
            expected = self.stored_expected
        return super().grade(cases, answers, checks=checks, expected=expected)

    def solution(self) -> None:
        print(_NO_SOLUTION)


@dataclass
class PublicWrittenQuestion(WrittenQuestion):
    """A `WrittenQuestion` without its model answer."""

    def solution(self) -> None:
        print(_NO_SOLUTION)


def load_public_exercise(meta: dict, data_path) -> tuple[dict, Exercise]:
    """The questions (by module attribute name) and `Exercise` of a generated module.

    Parameters
    ----------
    meta : dict
        What `utils.checks.release` stored: number, title, and per question its attribute name,
        kind, id, title, hints, points, and for function questions the function name and the
        npz keys of its public cases and expected answers.
    data_path : path-like
        The ``exNN_public.npz`` next to the generated module.
    """
    with np.load(Path(data_path), allow_pickle=False) as f:
        arrays = {key: f[key] for key in f.files}
    named, questions = {}, []
    for q in meta["questions"]:
        if q["kind"] == "function":
            cases = [{name: _unwrap(arrays[key]) for name, key in case.items()} for case in q["cases"]]
            expected = [Answer(AnswerKind.VALUE, e["type"], arrays[e["key"]] if e["key"] else None)
                        for e in q["expected"]]
            question = PublicFunctionQuestion(
                id=q["id"], function_name=q["function_name"], title=q["title"], reference=_no_reference,
                public_cases=None, hidden_cases=None, judge=_generic_judge, hints=list(q["hints"]),
                points=q["points"], stored_cases=cases, stored_expected=expected)
            question.public_cases = lambda cases=cases: cases
        else:
            question = PublicWrittenQuestion(id=q["id"], title=q["title"], prompt=q["prompt"], model_answer="",
                                             hints=list(q["hints"]), points=q["points"])
        named[q["name"]] = question
        questions.append(question)
    return named, Exercise(number=meta["number"], title=meta["title"], questions=tuple(questions))


def loads_meta(text: str) -> dict:
    """Parse the metadata a generated module embeds (JSON)."""
    return json.loads(text)
