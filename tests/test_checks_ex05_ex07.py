"""Exercises 05 and 07: the references pass their public and hidden checks, and the judges name the
likely slips (each wrong answer fed through the public checks)."""

import numpy as np
import pytest

from utils.checks import core, ex05, ex07

FUNCTION_QUESTIONS = [ex05.q1, ex05.q2, ex07.q1, ex07.q2]


@pytest.mark.parametrize("question", FUNCTION_QUESTIONS, ids=lambda q: q.id)
def test_reference_passes_public_and_hidden_checks(question):
    assert question.evaluate(question.reference).outcome == core.CORRECT
    for seed in range(3):
        hidden = question.hidden_cases(np.random.default_rng(seed))
        answers = [core.capture(question.reference, args) for args in hidden]
        assert question.grade(hidden, answers, checks="hidden").passed


@pytest.mark.parametrize("question", FUNCTION_QUESTIONS, ids=lambda q: q.id)
def test_hidden_cases_are_fresh_and_reproducible(question):
    def flat(cases):
        return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for c in cases for v in c.values()])

    a, b, c = (flat(question.hidden_cases(np.random.default_rng(s))) for s in (1, 1, 2))
    assert np.array_equal(a, b) and not (len(a) == len(c) and np.array_equal(a, c))


def test_early_stopping_known_answers():
    assert ex05.early_stopping_epoch([1.0, 0.8, 0.7, 0.75, 0.72, 0.9, 0.5], 3) == 2
    assert ex05.early_stopping_epoch([1.0, 0.8, 0.7, 0.75, 0.72, 0.9, 0.5], 4) == 6
    assert ex05.early_stopping_epoch([1.0, 0.9, 0.8], 1) == 2
    assert ex05.early_stopping_epoch([0.5, 0.5, 0.6, 0.4], 2) == 0  # a tie is no improvement
    assert ex05.early_stopping_epoch([0.5, 0.5, 0.6, 0.4], 3) == 3


def test_early_stopping_hidden_cases_punish_looking_past_the_stop():
    def argmin(val_losses, patience):
        return int(np.argmin(val_losses))

    caught = 0
    for seed in range(5):
        hidden = ex05.q1.hidden_cases(np.random.default_rng(seed))
        caught += not ex05.q1.grade(hidden, [core.capture(argmin, a) for a in hidden], checks="hidden").passed
    assert caught == 5


@pytest.mark.parametrize(("function", "words"), [
    (lambda val_losses, patience: int(np.argmin(val_losses)), "never saw that epoch"),
    (lambda val_losses, patience: ex05.early_stopping_epoch(val_losses, patience) + 1, "counted from 0"),
    (lambda val_losses, patience: len(val_losses) - 1, "not the latest"),
    (lambda val_losses, patience: ex05.early_stopping_epoch(val_losses, patience + 1), "one epoch too late"),
])
def test_q5_1_names_slips(function, words):
    verdict = ex05.q1.evaluate(function)
    assert verdict.outcome == core.INCORRECT and words in verdict.message


@pytest.mark.parametrize(("function", "words"), [
    (lambda activations, keep, p: np.where(keep, activations, 0.0), "scaled up by 1 / (1 - p)"),
    (lambda activations, keep, p: np.where(keep, activations * (1 - p), 0.0), "divides by (1 - p)"),
    (lambda activations, keep, p: np.where(keep, activations / p, 0.0), "you divided by p"),
    (lambda activations, keep, p: np.where(keep, 0.0, activations / (1 - p)), "zero the others"),
])
def test_q5_2_names_slips(function, words):
    verdict = ex05.q2.evaluate(function)
    assert verdict.outcome == core.INCORRECT and words in verdict.message


def test_top_k_known_answer_and_library_agreement():
    p = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    np.testing.assert_allclose(ex07.mask_top_k(p, 2), [[0.0, 0.6, 0.3], [0.5, 0.0, 0.3]])
    from utils.defenses.masking import mask_probabilities

    rng = np.random.default_rng(0)
    q = rng.dirichlet(np.ones(10), size=50)
    np.testing.assert_allclose(ex07.mask_top_k(q, 4), mask_probabilities(q, "top-k", k=4))


def _renormalised(probabilities, k):
    kept = ex07.mask_top_k(probabilities, k)
    return kept / kept.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(("function", "words"), [
    (_renormalised, "renormalised"),
    (lambda probabilities, k: (ex07.mask_top_k(probabilities, k) > 0).astype(float), "release their probabilities"),
    (lambda probabilities, k: np.where(np.argsort(np.argsort(probabilities, 1), 1) < k, probabilities, 0.0),
     "k smallest"),
])
def test_q7_1_names_slips(function, words):
    verdict = ex07.q1.evaluate(function)
    assert verdict.outcome == core.INCORRECT and words in verdict.message


@pytest.mark.parametrize(("function", "words"), [
    (lambda noisy_labels, y: (noisy_labels == y).sum(axis=0), "counts"),
    (lambda noisy_labels, y: (noisy_labels == y).mean(axis=1), "axis 0"),
    (lambda noisy_labels, y: (noisy_labels != y).mean(axis=0), "wrong"),
])
def test_q7_2_names_slips(function, words):
    verdict = ex07.q2.evaluate(function)
    assert verdict.outcome == core.INCORRECT and words in verdict.message


def test_written_questions_have_model_answers_about_their_lessons():
    assert "dropout" in ex05.q3.model_answer and "most exposed" in ex05.q3.prompt
    assert "label-robustness" in ex07.q3.model_answer and "differential privacy" in ex07.q3.model_answer


def test_ex05_q1_names_a_tie_counted_as_an_improvement():
    from utils.checks import ex05

    def ties_improve(val_losses, patience):
        best = since = 0
        for epoch in range(1, len(val_losses)):
            if val_losses[epoch] <= val_losses[best]:
                best, since = epoch, 0
            else:
                since += 1
                if since >= patience:
                    break
        return best

    verdict = ex05.q1.evaluate(ties_improve)
    assert not verdict.passed and "<= instead of <" in verdict.message and "too late" not in verdict.message


def test_ex05_q1_hidden_cases_catch_a_tie_counted_as_an_improvement():
    from utils.checks import ex05

    caught = 0
    for seed in range(10):
        hidden = ex05.q1.hidden_cases(np.random.default_rng(seed))
        answers = [core.capture(lambda **a: ex05._stop_counting_ties(np.asarray(a["val_losses"]), a["patience"]), c)
                   for c in hidden]
        caught += not ex05.q1.grade(hidden, answers, checks="hidden").passed
    assert caught >= 8
