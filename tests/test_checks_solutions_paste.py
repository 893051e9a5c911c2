"""Every solution a check shows (`exNN.qM.solution()`) runs when a student pastes it into the exercise.

The pasted text lands in the exercise notebook, whose first cell imports what every exercise uses
(math, NumPy as np, PyTorch); anything else the solution needs it must import itself, or pasting it
ends in a NameError (issue: ex06.q2.solution() named scipy's `beta` without importing it).
"""

import ast
import inspect
import math
import textwrap

import numpy as np
import pytest
import torch

from utils.checks import load_exercise
from utils.checks.core import FunctionQuestion
from utils.checks.release import exercise_numbers

QUESTIONS = [(n, q) for n in exercise_numbers() for q in load_exercise(n).questions if isinstance(q, FunctionQuestion)]


@pytest.mark.parametrize("number, question", QUESTIONS, ids=[q.id for _, q in QUESTIONS])
def test_shown_solution_runs_as_pasted(number, question):
    source = textwrap.dedent(inspect.getsource(question.reference))
    defined = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    assert defined, f"exercise {question.id}: the shown solution defines no function"
    namespace = {"math": math, "np": np, "torch": torch}
    exec(compile(source, f"<solution {question.id}>", "exec"), namespace)
    verdict = question.evaluate(namespace[defined[-1]])
    assert verdict.passed, f"exercise {question.id}, pasted solution: {verdict.message}"
