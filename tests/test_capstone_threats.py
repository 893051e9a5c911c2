"""Lesson 08 invites the student to change its threat model: every choice it offers runs to the end.

The lesson's last cell asserts what each choice shows (its audit, its verdict, the masked API, the
random forest), so a run that finishes is a run whose text and asserts followed the choice.
"""

from pathlib import Path

import pytest

from utils.nbrun import run_notebook

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "08_capstone_privacy_audit.ipynb"
CHOICE = 'threat = ThreatModel(outputs="confidences", shadow_data=True)'
# The default (confidences, shadow data) is the lesson as shipped, run by tests/test_notebooks.py.
VARIANTS = [("labels", True), ("confidences", False), ("labels", False)]


def test_the_lesson_ships_the_line_the_student_is_told_to_change():
    assert LESSON.read_text().count(CHOICE.replace('"', '\\"')) == 1


@pytest.mark.parametrize("outputs, shadow_data", VARIANTS, ids=[f"{o}-{'shadows' if s else 'no-shadows'}"
                                                                for o, s in VARIANTS])
def test_lesson_08_runs_to_the_end_under_every_threat_model(outputs, shadow_data):
    choice = f'threat = ThreatModel(outputs="{outputs}", shadow_data={shadow_data})'
    run = run_notebook(LESSON, timeout_s=900, replace={CHOICE: choice})
    assert run.ok, f"lesson 08 with {choice} failed after {run.wall_s:.1f} s\n{run.error}"
    executed = "\n".join(c.source for c in run.nb.cells if c.cell_type == "code")
    assert choice in executed and CHOICE not in executed  # the run really used the student's line


def test_replace_refuses_a_line_that_is_not_in_the_notebook_exactly_once():
    with pytest.raises(ValueError, match="occurs 0 times"):
        run_notebook(LESSON, replace={"threat = ThreatModel(outputs='nothing')": ""})
