"""Exercise 10's checks pass the reference, name the usual slips of wrong answers, and run hidden cases."""

import numpy as np
import pytest
from scipy.stats import norm

from utils.checks import core, ex10, load_exercise


def _logit(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(p) - np.log1p(-p)


def test_references_pass_public_and_hidden_checks():
    rng = np.random.default_rng(0)
    for q in (ex10.q1, ex10.q2):
        assert q.evaluate(q.reference).outcome == core.CORRECT
        cases = q.hidden_cases(rng)
        assert q.grade(cases, [core.capture(q.reference, a) for a in cases], checks="hidden").passed
    assert load_exercise(10) is ex10.EXERCISE and [q.id for q in ex10.EXERCISE.questions] == ["10.1", "10.2", "10.3"]


@pytest.mark.parametrize("wrong, phrase", [
    (lambda t, u, r: -ex10.ulira_score(t, u, r), "sign is flipped"),
    (lambda t, u, r: float(norm.logpdf(_logit(t), _logit(u).mean(), _logit(u).std())
                           - norm.logpdf(_logit(t), _logit(r).mean(), _logit(r).std())), "ddof=0"),
    (lambda t, u, r: float(norm.logpdf(t, np.mean(u), np.std(u, ddof=1))
                           - norm.logpdf(t, np.mean(r), np.std(r, ddof=1))), "logit scale"),
    (lambda t, u, r: float(np.exp(ex10.ulira_score(t, u, r))), "its logarithm"),
])
def test_q1_names_the_slip(wrong, phrase):
    def student(target_confidence, unlearned_confidences, retrained_confidences):
        return wrong(target_confidence, unlearned_confidences, retrained_confidences)

    verdict = ex10.q1.evaluate(student)
    assert verdict.outcome == core.INCORRECT and phrase in verdict.message, verdict.message


def test_q1_not_attempted_and_missing_return():
    def stub(target_confidence, unlearned_confidences, retrained_confidences):
        raise NotImplementedError

    def no_return(target_confidence, unlearned_confidences, retrained_confidences):
        ex10.ulira_score(target_confidence, unlearned_confidences, retrained_confidences)

    assert ex10.q1.evaluate(stub).outcome == core.NOT_ATTEMPTED
    assert "forget the `return`" in ex10.q1.evaluate(no_return).message


def _whole_shards(shard_of, forget):
    return int(np.isin(shard_of, np.unique(shard_of[forget])).sum())


def _per_record(shard_of, forget):
    sizes = np.bincount(shard_of, minlength=int(shard_of.max()) + 1)
    return int(sizes[shard_of[forget]].sum() - len(forget))


@pytest.mark.parametrize("wrong, phrase", [
    (_whole_shards, "forgotten records too"),
    (_per_record, "retrained once, not once per record"),
    (lambda shard_of, forget: len(np.unique(shard_of[forget])), "number of shards"),
    (lambda shard_of, forget: len(shard_of) - len(forget), "full retraining"),
])
def test_q2_names_the_slip(wrong, phrase):
    def student(shard_of, forget):
        return wrong(np.asarray(shard_of), np.asarray(forget))

    verdict = ex10.q2.evaluate(student)
    assert verdict.outcome == core.INCORRECT and phrase in verdict.message, verdict.message


def test_written_question_has_a_model_answer_and_hints(capsys):
    ex10.q3.check()
    assert "written answer" in capsys.readouterr().out
    assert "U-LiRA" in ex10.q3.model_answer and len(ex10.q3.hints) == 2
