"""The typed states of grading: how a notebook's run went, and each test's outcome (Lesson 01 onwards)."""

from __future__ import annotations

import enum

__all__ = ["RunStatus", "TestOutcome", "GRADESCOPE_STATUS"]


class RunStatus(enum.StrEnum):
    """How one submission's run went."""

    OK = "ok"  # every cell ran (some may have raised: see the cell errors)
    TIMEOUT = "timeout"  # a cell or the whole notebook ran too long; the cells before it still count
    DEAD = "dead"  # the kernel died; the cells before the fatal one still count
    MALFORMED = "malformed output"  # the sandbox sent something the protocol does not allow: the student's 0
    UNREADABLE = "unreadable"  # not a notebook, empty, too large, unknown exercise: nothing to run
    GRADER_ERROR = "grader error"  # the grader or its machine failed: not graded, never a 0


class TestOutcome(enum.StrEnum):
    """The outcome of one line of a report."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not run"  # the check could not run: no answers came back for it
    ANSWERED = "answered"  # a written answer, for a person to grade
    BLANK = "blank"  # a written answer still holding the placeholder
    NO_ANSWER_CELL = "no answer cell"  # no markdown cell names this question
    NOT_GRADED = "not graded"  # a grader error: this student must be graded again


# Gradescope knows only "passed" and "failed"; written answers and grader errors carry no status there.
GRADESCOPE_STATUS = {TestOutcome.PASSED: "passed", TestOutcome.FAILED: "failed", TestOutcome.NOT_RUN: "failed"}
