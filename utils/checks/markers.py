"""The markers that delimit answers in solution notebooks (Lesson 01 onwards).

They belong to the checks: ``utils.build_exercises`` replaces what lies between them when it
generates the exercises, and the grader (``utils.grading``) reads written answers between them.

- code cells: the lines from `CODE_BEGIN` to `CODE_END` become a ``NotImplementedError`` stub;
- markdown cells: the lines from `ANSWER_BEGIN` to `ANSWER_END` become `ANSWER_PLACEHOLDER`.

A cell that holds an answer carries the tag `SOLUTION_TAG` and the metadata ``"exercise": "N.M"``.
"""

__all__ = ["SOLUTION_TAG", "CODE_BEGIN", "CODE_END", "ANSWER_BEGIN", "ANSWER_END", "ANSWER_PLACEHOLDER",
           "EXERCISE_KEY"]

SOLUTION_TAG = "solution"
CODE_BEGIN, CODE_END = "### BEGIN SOLUTION", "### END SOLUTION"
ANSWER_BEGIN, ANSWER_END = "<!-- BEGIN ANSWER -->", "<!-- END ANSWER -->"
ANSWER_PLACEHOLDER = "*Your answer here*"
EXERCISE_KEY = "exercise"  # the cell metadata key naming the question ("1.3")
