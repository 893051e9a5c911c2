"""Self-checks for the exercises (Lesson 01 onwards): ``from utils.checks import ex01``.

Each lesson's exercise has a module ``exNN`` (NN = the notebook's two-digit prefix) that defines
its questions ``q1``, ``q2``, ... and ``EXERCISE``. In the notebook, pass your function explicitly::

    ex01.q1.check(per_record_losses)
    ex01.q1.hint()
    ex01.q1.solution()

Public checks run fixed inputs and print "public checks passed"; the grader (``python -m
utils.grade``) also runs hidden checks on fresh random inputs. Importing this package imports no
exercise module and changes no settings.

Modules: `core` (questions, answers, verdicts), `compare` (shared judges), `harness` (what runs in
the grading kernel), `markers` (answer markers of solution notebooks), `release` and `public` (the
student copy without reference solutions, for the grader's sandbox and graded releases).
"""

from __future__ import annotations

import importlib
import re

__all__ = ["load_exercise", "module_name", "number_from_filename"]


def module_name(number: int) -> str:
    """The checks module of exercise `number`: ``utils.checks.ex01`` for 1."""
    return f"{__name__}.ex{int(number):02d}"


def load_exercise(number: int):
    """The `Exercise` declared by ``utils.checks.exNN`` (NN = `number`, two digits).

    Raises
    ------
    ValueError
        When no such module exists, or it declares no ``EXERCISE``.
    """
    name = module_name(number)
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise ValueError(
            f"exercise {int(number):02d} has no checks module {name}; add utils/checks/ex{int(number):02d}.py "
            "declaring EXERCISE (see utils/checks/ex01.py)."
        ) from None
    exercise = getattr(module, "EXERCISE", None)
    if exercise is None:
        raise ValueError(f"{name} declares no EXERCISE; end it with EXERCISE = Exercise(...) as ex01.py does.")
    return exercise


def number_from_filename(filename: str) -> int | None:
    """The exercise number of a notebook file name (``01_overfit_a_model.ipynb`` -> 1), or None."""
    match = re.match(r"^(\d{2})_", filename)
    return int(match.group(1)) if match else None
