"""Exercise 03's checks (utils/checks/ex03.py) and the maths behind lesson 03's teaching points.

The lesson notebook asserts its own numbers on the trained target (tests/test_notebooks.py runs it);
here: the reference answers agree with the attack library, the checks accept the reference on
fresh inputs and catch the common slips with a specific message.
"""

import numpy as np
import pytest
from scipy.special import expit

from utils.attacks import lira, shadow
from utils.checks import ex03, load_exercise
from utils.checks.core import capture


def outcome(question, function):
    return question.evaluate(function)


def hidden_verdict(question, function, seed):
    cases = question.hidden_cases(np.random.default_rng(seed))
    return question.grade(cases, [capture(function, c) for c in cases], checks="hidden")


# ---------------------------------------------------------------- references agree with the library
def test_lira_score_matches_the_library_online_lira():
    rng = np.random.default_rng(0)
    n_shadows, n_records = 16, 40
    observations = rng.normal(2.0, 1.5, size=(n_shadows, n_records))
    in_mask = np.zeros((n_shadows, n_records), bool)
    in_mask[::2] = True
    observations[in_mask] += 2.0
    target = rng.normal(3.0, 2.0, size=n_records)
    library = lira.likelihood_ratio_online(target, observations, in_mask)
    ours = [
        ex03.lira_score(expit(target[i]), expit(observations[in_mask[:, i], i]), expit(observations[~in_mask[:, i], i]))
        for i in range(n_records)
    ]
    assert np.allclose(ours, library, rtol=1e-6, atol=1e-6)


def test_lira_score_known_answer():
    # IN logits {1, 3} (mean 2, sd sqrt 2), OUT logits {-1, 1} (mean 0, sd sqrt 2), target logit 2:
    # log N(2; 2, sqrt2) - log N(2; 0, sqrt2) = 4 / (2 * 2) = 1.
    value = ex03.lira_score(expit(2.0), expit(np.array([1.0, 3.0])), expit(np.array([-1.0, 1.0])))
    assert value == pytest.approx(1.0, abs=1e-9)


def test_shadow_attack_dataset_layout_known_answer():
    logits = np.array([[[0.0, 0.0], [np.log(3.0), 0.0]], [[1000.0, -1000.0], [0.0, 0.0]]])
    in_mask = np.array([[True, False], [False, True]])
    rows = ex03.shadow_attack_dataset(logits, in_mask, np.array([1, 0]))
    expected = np.array([[0.5, 0.5, 1, 1], [0.75, 0.25, 0, 0], [1.0, 0.0, 1, 0], [0.5, 0.5, 0, 1]])
    assert np.allclose(rows, expected)


def test_shadow_attack_dataset_membership_is_the_shadows_in_mask():
    X = np.random.default_rng(1).random((40, 3)).astype(np.float32)
    y = np.arange(40) % 2
    halves = shadow.balanced_halves(40, 4, seed=0)
    in_mask = np.zeros((4, 40), bool)
    in_mask[np.arange(4)[:, None], halves] = True
    rows = ex03.shadow_attack_dataset(np.zeros((4, 40, 2)), in_mask, y)
    assert rows.shape == (160, 4) and rows[:, -1].sum() == 80  # every record IN for half the shadows
    assert np.array_equal(rows[:40, 2], y) and np.array_equal(rows[:, -1].reshape(4, 40), in_mask)
    assert len(X) == 40


# ---------------------------------------------------------------- the checks
@pytest.mark.parametrize("question", [ex03.q1, ex03.q2])
def test_reference_passes_public_and_hidden_checks(question):
    assert outcome(question, question.reference).passed
    for seed in range(5):
        assert hidden_verdict(question, question.reference, seed).passed


@pytest.mark.parametrize("question", [ex03.q1, ex03.q2])
def test_hidden_cases_are_fresh(question):
    a = question.hidden_cases(np.random.default_rng(1))
    b = question.hidden_cases(np.random.default_rng(1))
    c = question.hidden_cases(np.random.default_rng(2))
    key = next(iter(a[0]))
    assert np.array_equal(np.asarray(a[0][key]), np.asarray(b[0][key]))
    assert not np.array_equal(np.asarray(a[-1][key]), np.asarray(c[-1][key]))


def _record_major(shadow_logits, in_mask, labels):
    rows = ex03.shadow_attack_dataset(shadow_logits, in_mask, labels)
    n_shadows, n_records, _ = np.shape(shadow_logits)
    return rows.reshape(n_shadows, n_records, -1).transpose(1, 0, 2).reshape(n_shadows * n_records, -1)


def _naive_softmax(shadow_logits, in_mask, labels):
    with np.errstate(over="ignore", invalid="ignore"):  # the slip under test: exp overflows
        p = np.exp(np.asarray(shadow_logits, dtype=np.float64))
        p = p / p.sum(-1, keepdims=True)
    return np.column_stack(
        [p.reshape(-1, p.shape[-1]), np.broadcast_to(labels, np.shape(in_mask)).ravel(), np.ravel(in_mask)]
    )


def _raw_logits(shadow_logits, in_mask, labels):
    z = np.asarray(shadow_logits, dtype=np.float64)
    return np.column_stack(
        [z.reshape(-1, z.shape[-1]), np.broadcast_to(labels, np.shape(in_mask)).ravel(), np.ravel(in_mask)]
    )


@pytest.mark.parametrize(
    "function, message",
    [
        (
            lambda shadow_logits, in_mask, labels: ex03.shadow_attack_dataset(
                shadow_logits, ~np.asarray(in_mask), labels
            ),
            "flipped",
        ),
        (
            lambda shadow_logits, in_mask, labels: ex03.shadow_attack_dataset(shadow_logits, in_mask, labels)[:, :-1],
            "Both extra columns",
        ),
        (
            lambda shadow_logits, in_mask, labels: tuple(
                np.hsplit(ex03.shadow_attack_dataset(shadow_logits, in_mask, labels), [1])
            ),
            "one 2-D array",
        ),
        (_record_major, "ordered record by record"),
        (_naive_softmax, "NaN or infinite"),
        (_raw_logits, "raw logits"),
        (lambda shadow_logits, in_mask, labels: None, "forget the `return`"),
    ],
)
def test_q1_catches_common_slips(function, message):
    verdict = outcome(ex03.q1, function)
    assert not verdict.passed and message in verdict.message, verdict.message


def _ddof0(target_confidence, in_confidences, out_confidences):
    from scipy.stats import norm

    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    a, b, x = logit(np.asarray(in_confidences)), logit(np.asarray(out_confidences)), logit(target_confidence)
    return norm.logpdf(x, a.mean(), a.std()) - norm.logpdf(x, b.mean(), b.std())


def _raw_scale(target_confidence, in_confidences, out_confidences):
    from scipy.stats import norm

    a, b = np.asarray(in_confidences), np.asarray(out_confidences)
    return norm.logpdf(target_confidence, a.mean(), a.std(ddof=1)) - norm.logpdf(
        target_confidence, b.mean(), b.std(ddof=1)
    )


@pytest.mark.parametrize(
    "function, message",
    [
        (lambda **kw: -ex03.lira_score(**kw), "sign is flipped"),
        (_ddof0, "ddof=0"),
        (_raw_scale, "logit scale"),
        (lambda **kw: np.exp(ex03.lira_score(**kw)), "likelihood ratio itself"),
        (lambda **kw: np.full(3, ex03.lira_score(**kw)), "one number"),
    ],
)
def test_q2_catches_common_slips(function, message):
    verdict = outcome(ex03.q2, function)
    assert not verdict.passed and message in verdict.message, verdict.message


def test_q2_hidden_checks_reject_an_answer_memorised_from_the_public_cases():
    public = {round(c["target_confidence"], 12): ex03.lira_score(**c) for c in ex03.q2.public_cases()}

    def memorised(target_confidence, in_confidences, out_confidences):
        return public.get(round(target_confidence, 12), 0.0)

    assert outcome(ex03.q2, memorised).passed
    assert not hidden_verdict(ex03.q2, memorised, seed=3).passed


def test_exercise_03_is_registered_with_a_written_question_4():
    exercise = load_exercise(3)
    assert exercise is ex03.EXERCISE
    assert [q.id for q in exercise.function_questions] == ["3.1", "3.2"]
    (written,) = exercise.written_questions
    assert "Shokri" in written.prompt and "shadow" in written.model_answer


# ---------------------------------------------------------------- lesson 03: one shadow suffices for Shokri's attack
def test_shokri_attack_works_with_a_single_shadow():
    """The attack model sees prediction vectors, never record identities: one shadow suffices (Salem et al. 2019)."""
    from functools import partial

    from utils.metrics import auc
    from utils.models import MLP
    from utils.train import init_model, train_model

    toy = partial(MLP, in_features=20, hidden=(128,), n_classes=4)
    recipe = dict(epochs=60, lr=2e-2, batch_size=50)
    rng = np.random.default_rng(0)
    X, y = rng.random((400, 20), dtype=np.float32), rng.integers(0, 4, 400)
    members, nonmembers, pool = np.arange(100), np.arange(100, 200), np.arange(200, 400)
    target = train_model(init_model(toy, 0), X[members], y[members], seed=0, **recipe)
    one = shadow.train_shadow_models(toy, X[pool], y[pool], n_shadows=1, seed=1, **recipe)
    attack = shadow.fit_attack_models(one, X[pool], y[pool])
    assert attack.n_shadows == 1
    idx, labels = np.r_[members, nonmembers], np.r_[np.ones(100, int), np.zeros(100, int)]
    scores = shadow.score(target, X[idx], y[idx], shadows=one, pool=(X[pool], y[pool]))
    assert scores.shape == (200,) and np.isfinite(scores).all()
    assert auc(labels, scores) > 0.6  # random features, memorised labels: even one shadow finds the members
