"""Exercise 09's checks: the reference passes, and each usual slip fails with the message that names it."""

import warnings
import zlib

import numpy as np
import pytest

from utils.checks import core, ex09


def _zlen(text):
    return len(zlib.compress(text.encode("utf-8")))


def test_references_pass_public_and_hidden_checks():
    rng = np.random.default_rng(0)
    for question in (ex09.q1, ex09.q2, ex09.q3):
        assert question.evaluate(question.reference).passed
        cases = question.hidden_cases(rng)
        assert question.grade(cases, [core.capture(question.reference, c) for c in cases], checks="hidden").passed


def test_exposure_known_answers():
    np.testing.assert_allclose(ex09.exposure_from_ranks([1, 5000, 10000], 10_000), [np.log2(10_000), 1.0, 0.0])


@pytest.mark.parametrize("wrong, words", [
    (lambda ranks, n_candidates: np.log(n_candidates) - np.log(ranks), "natural log"),
    (lambda ranks, n_candidates: np.log10(n_candidates) - np.log10(ranks), "log base 10"),
    (lambda ranks, n_candidates: np.log2(ranks) - np.log2(n_candidates), "wrong sign"),
    (lambda ranks, n_candidates: np.log2(n_candidates) - np.log2(np.asarray(ranks) + 1), "added 1 to the ranks"),
    (lambda ranks, n_candidates: np.log2(n_candidates - np.asarray(ranks) + 1), "wrong end"),
    (lambda ranks, n_candidates: np.log2(ranks), "returned log2(rank)"),
    (lambda ranks, n_candidates: float(np.mean(np.log2(n_candidates) - np.log2(ranks))), "single number"),
], ids=["ln", "log10", "sign", "plus-one", "reversed", "log-rank", "mean"])
def test_exposure_slips_are_named(wrong, words):
    verdict = ex09.q1.evaluate(wrong)
    assert verdict.outcome == core.INCORRECT and words in verdict.message, verdict.message


@pytest.mark.parametrize("wrong, words", [
    (lambda log_probs, text: -np.mean(log_probs) / _zlen(text), "wrong sign"),
    (lambda log_probs, text: np.mean(log_probs) / np.log(2) / _zlen(text), "bits"),
    (lambda log_probs, text: np.mean(log_probs) / len(text), "divided by len(text)"),
    (lambda log_probs, text: np.sum(log_probs) / _zlen(text), "summed"),
    (lambda log_probs, text: _zlen(text) / np.mean(log_probs), "other way round"),
], ids=["sign", "bits", "raw-length", "sum", "inverted"])
def test_zlib_slips_are_named(wrong, words):
    verdict = ex09.q2.evaluate(wrong)
    assert verdict.outcome == core.INCORRECT and words in verdict.message, verdict.message


def _lowest(log_probs, keep):
    return float(np.sort(log_probs)[:keep].mean())


@pytest.mark.parametrize("wrong, words", [
    (lambda log_probs, k: float(np.sort(log_probs)[::-1][:max(1, int(k * len(log_probs)))].mean()), "highest"),
    (lambda log_probs, k: _lowest(log_probs, max(1, int(k))), "k as a count"),
    (lambda log_probs, k: _lowest(log_probs, max(1, int(k * 100))), "percentage"),
    (lambda log_probs, k: _lowest(log_probs, int(k * len(log_probs))), "at least one byte"),
    (lambda log_probs, k: float(np.mean(log_probs)), "loss attack"),
    (lambda log_probs, k: -_lowest(log_probs, max(1, int(k * len(log_probs)))), "wrong sign"),
], ids=["sort-direction", "count", "percent", "empty", "all", "sign"])
def test_min_k_slips_are_named(wrong, words):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the empty-slice slip warns "Mean of empty slice" before it is judged
        verdict = ex09.q3.evaluate(wrong)
    assert verdict.outcome == core.INCORRECT and words in verdict.message, verdict.message


def test_the_same_slips_fail_the_hidden_checks():
    rng = np.random.default_rng(1)
    slips = [(ex09.q1, lambda ranks, n_candidates: np.log(n_candidates) - np.log(ranks)),
             (ex09.q2, lambda log_probs, text: np.mean(log_probs) / len(text)),
             (ex09.q3, lambda log_probs, k: _lowest(log_probs, max(1, int(k))))]
    for question, wrong in slips:
        cases = question.hidden_cases(rng)
        assert not question.grade(cases, [core.capture(wrong, c) for c in cases], checks="hidden").passed


def test_starter_stubs_are_not_attempted():
    def stub(**_):
        raise NotImplementedError

    for question in (ex09.q1, ex09.q2, ex09.q3):
        assert question.evaluate(stub).outcome == core.NOT_ATTEMPTED


def test_exercise_declares_a_written_answer_on_the_evaluation_trap():
    assert [q.id for q in ex09.EXERCISE.questions] == ["9.1", "9.2", "9.3", "9.4"]
    assert ex09.q4.kind == "written" and "IID" in ex09.q4.model_answer
