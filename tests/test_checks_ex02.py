"""Exercise 02's checks name each common wrong answer, on the public checks (before submission).

Each test feeds one wrong answer from the student's point of view and expects the message that
names its mistake; the public cases include a budget exactly on an ROC step, so an answer that uses
< instead of <= fails before grading, not only at grading.
"""

import numpy as np
import pytest

from utils.checks import core, ex02


def strict_threshold(labels, scores, max_fpr):
    """choose_threshold with FPR < max_fpr instead of <=."""
    labels, scores = np.asarray(labels), np.asarray(scores, float)
    candidates = np.unique(scores)[::-1]
    fprs = np.array([np.mean(scores[labels == 0] >= t) for t in candidates])
    allowed = candidates[fprs < max_fpr]
    return float(allowed.min()) if len(allowed) else np.inf


def strict_tpr(labels, scores, fpr):
    """tpr_at_fpr with FPR < fpr instead of <=."""
    labels, scores = np.asarray(labels), np.asarray(scores, float)
    best = 0.0
    for t in np.unique(scores):
        flagged = scores >= t
        if np.mean(flagged[labels == 0]) < fpr:
            best = max(best, np.mean(flagged[labels == 1]))
    return float(best)


def test_public_cases_hold_a_budget_exactly_on_a_step():
    for question, name in ((ex02.q1, "fpr"), (ex02.q2, "max_fpr")):
        on_step = [c for c in question.public_cases()
                   if c[name] * np.sum(c["labels"] == 0) == round(c[name] * np.sum(c["labels"] == 0))]
        assert on_step, f"{question.id}: no public budget on a step"


def test_strict_comparison_fails_the_public_checks_of_2_2_with_the_boundary_message():
    verdict = ex02.q2.evaluate(strict_threshold)
    assert verdict.outcome == core.INCORRECT
    assert "equals max_fpr exactly" in verdict.message and "FPR <= max_fpr (not <)" in verdict.message


def test_strict_comparison_fails_the_public_checks_of_2_1_with_the_boundary_message():
    verdict = ex02.q1.evaluate(strict_tpr)
    assert verdict.outcome == core.INCORRECT and "you required FPR < fpr" in verdict.message


@pytest.mark.parametrize(
    "question, function, words",
    [
        (ex02.q2, lambda labels, scores, max_fpr: (None if np.isinf(t := ex02.choose_threshold(labels, scores, max_fpr))
                                                   else t), "return np.inf"),
        (ex02.q1, lambda labels, scores, fpr: ex02.tpr_at_fpr(labels, scores, fpr) or None, "return 0.0"),
    ],
    ids=["2.2", "2.1"],
)
def test_none_when_nothing_fits_is_named_not_taken_for_a_missing_return(question, function, words):
    verdict = question.evaluate(function)
    assert verdict.outcome == core.INCORRECT, verdict.message
    assert "returned None here but a number on other cases" in verdict.message and words in verdict.message
    assert "forget the `return`" not in verdict.message


def test_a_function_that_always_returns_none_still_forgot_its_return():
    verdict = ex02.q2.evaluate(lambda labels, scores, max_fpr: None)
    assert verdict.outcome == core.NOT_ATTEMPTED and "forget the `return` line" in verdict.message


def test_swapped_labels_are_named_as_such_not_as_reversed_scores():
    verdict = ex02.q1.evaluate(lambda labels, scores, fpr: ex02.tpr_at_fpr(1 - np.asarray(labels), scores, fpr))
    assert "you swapped the labels" in verdict.message and "lowest scores first" not in verdict.message


def test_reversed_scores_are_named_as_such():
    verdict = ex02.q1.evaluate(lambda labels, scores, fpr: ex02.tpr_at_fpr(labels, -np.asarray(scores), fpr))
    assert "you flagged the lowest scores first" in verdict.message and "swapped" not in verdict.message


def test_the_same_wrong_answers_fail_the_hidden_checks_too():
    rng = np.random.default_rng(0)
    cases = ex02.q2.hidden_cases(rng)
    verdict = ex02.q2.grade(cases, [core.capture(strict_threshold, c) for c in cases], checks="hidden")
    assert not verdict.passed


def test_reference_passes_the_new_public_cases():
    assert ex02.q1.evaluate(ex02.tpr_at_fpr).passed and ex02.q2.evaluate(ex02.choose_threshold).passed
