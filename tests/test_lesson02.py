"""Lesson 02: the membership game, the threshold plot and slider, and exercise 02's checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from utils import metrics
from utils.checks import core, ex02
from utils.experiments import membership_game
from utils.plots import plot_loss_threshold, plot_membership_game
from utils.widgets import threshold_explorer


def toy_attack(n=2000, shift=1.0, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(n // 2, int), np.zeros(n - n // 2, int)]
    losses = rng.lognormal(-3.0 - shift * labels, 1.5)  # members have lower losses
    return labels, -losses


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise 2.1: write your code here")


# ----------------------------------------------------------------------------- the membership game
def test_game_win_rate_converges_to_half_of_one_plus_tpr_minus_fpr():
    labels, scores = toy_attack()
    game = membership_game(labels, scores, -0.02, n_rounds=40_000, seed=1)
    flagged = scores >= -0.02
    tpr, fpr = flagged[labels == 1].mean(), flagged[labels == 0].mean()
    assert game.tpr == pytest.approx(tpr) and game.fpr == pytest.approx(fpr)
    assert game.expected_win_rate == pytest.approx(0.5 * (1 + tpr - fpr))
    assert abs(game.win_rate - game.expected_win_rate) < 0.01  # 4 standard errors at 40,000 rounds
    assert abs(game.advantage - (tpr - fpr)) < 0.02
    assert 0.4 < game.coins.mean() < 0.6  # a fair coin


def test_game_with_an_uninformative_attack_is_a_coin_flip():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 4000)
    game = membership_game(labels, -rng.random(4000), -0.5, n_rounds=40_000, seed=0)
    assert abs(game.win_rate - 0.5) < 0.01 and abs(game.expected_win_rate - 0.5) < 0.03


def test_game_is_reproducible_and_plots():
    labels, scores = toy_attack()
    a, b = (membership_game(labels, scores, -0.02, n_rounds=500, seed=7) for _ in range(2))
    assert np.array_equal(a.coins, b.coins) and np.array_equal(a.guesses, b.guesses)
    c = membership_game(labels, scores, -0.02, n_rounds=500, seed=8)
    assert not np.array_equal(a.coins, c.coins)
    ax = plot_membership_game(a)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    plt.close("all")


# ----------------------------------------------------------------------------- threshold plot and slider
def test_confusion_matrix_and_rates_match_sklearn():
    labels, scores = toy_attack(seed=2)
    axes = plot_loss_threshold(labels, scores, max_loss=0.05)
    expected = confusion_matrix(labels, (-scores <= 0.05).astype(int), labels=[0, 1])
    shown = np.array([[int(t.get_text()) for t in row] for row in np.array(axes[1].texts).reshape(2, 2)])
    assert np.array_equal(shown, expected)
    tpr, fpr = expected[1, 1] / expected[1].sum(), expected[0, 1] / expected[0].sum()
    assert f"TPR {tpr:.1%}" in axes[1].get_title() and f"FPR {fpr:.1%}" in axes[1].get_title()
    assert axes[0].get_xscale() == "log"
    plt.close("all")


def test_threshold_slider_builds_and_redraws():
    widgets = pytest.importorskip("ipywidgets")
    labels, scores = toy_attack()
    explorer = threshold_explorer(labels, scores, max_loss=0.01)
    slider = explorer.controls.children[0]
    assert isinstance(slider, widgets.FloatLogSlider) and slider.value == pytest.approx(0.01)
    slider.value = 0.1  # the callback re-counts; no error
    plt.close("all")


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda lab, s: plot_loss_threshold(lab, -s, 0.1), "minus the loss"),
        (lambda lab, s: plot_loss_threshold(lab, s, 0.0), "max_loss must be a positive number"),
        (lambda lab, s: plot_loss_threshold(lab, s[:-1], 0.1), "one entry per record"),
        (lambda lab, s: membership_game(lab, s, float("nan")), "threshold must be a finite number"),
        (lambda lab, s: membership_game(np.ones_like(lab), s, -0.1), "only members"),
        (lambda lab, s: membership_game(lab, s, -0.1, n_rounds=0), "n_rounds must be an integer >= 1"),
    ],
    ids=["positive-scores", "bad-threshold", "lengths", "nan-threshold", "one-class", "no-rounds"],
)
def test_bad_input_is_reported(call, words):
    labels, scores = toy_attack(n=100)
    with pytest.raises(ValueError, match=words):
        call(labels, scores)
    plt.close("all")


# ----------------------------------------------------------------------------- exercise 02: references
def test_tpr_at_fpr_reference_known_answers():
    assert ex02.tpr_at_fpr([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.1) == 0.5
    # Ties: 0.7 is shared by a member and a non-member, so FPR 0 allows only the record scored 0.9.
    labels, scores = [1, 1, 0, 1, 0, 0, 1, 0], [0.9, 0.7, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1]
    assert ex02.tpr_at_fpr(labels, scores, 0.2) == 0.25
    assert ex02.tpr_at_fpr(labels, scores, 0.25) == 0.75  # the budget includes its limit
    assert ex02.tpr_at_fpr([0, 1], [0.9, 0.1], 0.4) == 0.0  # only "flag nobody" fits


def test_tpr_at_fpr_reference_matches_the_library():
    rng = np.random.default_rng(0)
    for _ in range(20):
        for case in ex02.q1.hidden_cases(rng):
            assert ex02.tpr_at_fpr(**case) == metrics.tpr_at_fpr(case["labels"], case["scores"], case["fpr"])


def test_random_scores_give_tpr_close_to_fpr_and_perfect_scores_give_one():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 20_000)
    assert abs(ex02.tpr_at_fpr(labels, rng.random(20_000), 0.1) - 0.1) < 0.02
    assert ex02.tpr_at_fpr(labels, labels + 0.0, 0.001) == 1.0


def test_choose_threshold_reference_known_answers():
    assert ex02.choose_threshold([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 0.34) == 0.3
    assert ex02.choose_threshold([1, 1, 0, 1, 0, 0, 1, 0], [0.9, 0.7, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1], 0.2) == 0.9
    assert ex02.choose_threshold([0, 1, 1, 0], [0.9, 0.8, 0.7, 0.1], 0.1) == np.inf


def test_choose_threshold_stays_within_budget_with_the_most_members():
    rng = np.random.default_rng(2)
    for _ in range(20):
        for case in ex02.q2.hidden_cases(rng):
            labels, scores, budget = case["labels"], case["scores"], case["max_fpr"]
            t = ex02.choose_threshold(**case)
            assert np.mean(scores[labels == 0] >= t) <= budget
            lower = scores[scores < t]
            if len(lower):  # the next lower threshold breaks the budget
                assert np.mean(scores[labels == 0] >= lower.max()) > budget


# ----------------------------------------------------------------------------- exercise 02: the three outcomes
def test_references_pass_public_and_hidden_checks():
    for question in (ex02.q1, ex02.q2):
        assert question.evaluate(question.reference).passed
        for seed in range(3):
            cases = question.hidden_cases(np.random.default_rng(seed))
            assert question.grade(cases, [core.capture(question.reference, c) for c in cases], checks="hidden").passed


@pytest.mark.parametrize("question", [ex02.q1, ex02.q2])
def test_starter_is_not_attempted(question):
    verdict = question.evaluate(stub)
    assert verdict.outcome == core.NOT_ATTEMPTED and "not attempted" in verdict.message


def _strict(labels, scores, fpr):
    from sklearn.metrics import roc_curve

    f, t, _ = roc_curve(labels, scores)
    return float(t[f < fpr].max())


def _untied(labels, scores, fpr):
    labels, scores = np.asarray(labels), np.asarray(scores)
    lab = labels[np.argsort(-scores, kind="stable")]
    tprs, fprs = np.cumsum(lab) / lab.sum(), np.cumsum(1 - lab) / (1 - lab).sum()
    return float(np.r_[0.0, tprs[fprs <= fpr]].max())


@pytest.mark.parametrize(
    "function, words",
    [
        (_strict, "FPR < fpr"),
        (_untied, "flagged together"),
        (lambda labels, scores, fpr: ex02.tpr_at_fpr(labels, -np.asarray(scores), fpr), "lowest scores first"),
        (lambda labels, scores, fpr: 100 * ex02.tpr_at_fpr(labels, scores, fpr), "percentage"),
        (lambda labels, scores, fpr: [ex02.tpr_at_fpr(labels, scores, fpr)] * 2, "returned 2 numbers"),
        (lambda labels, scores, fpr: None, "`return`"),
    ],
    ids=["strict", "ties", "reversed", "percent", "array", "no-return"],
)
def test_q1_explains_common_slips(function, words):
    verdict = ex02.q1.evaluate(function)
    assert not verdict.passed and words in verdict.message, verdict.message


def _one_step_too_low(labels, scores, max_fpr):
    t = ex02.choose_threshold(labels, scores, max_fpr)
    lower = np.asarray(scores)[np.asarray(scores) < t]
    return float(lower.max()) if len(lower) else t


@pytest.mark.parametrize(
    "function, words",
    [
        (_one_step_too_low, "more than max_fpr"),
        (lambda labels, scores, max_fpr: float(np.max(scores)) + 1.0, "Return the *lowest* threshold"),
        (lambda labels, scores, max_fpr: np.quantile(scores, [0.5, 0.9]), "should return one number"),
        (lambda labels, scores, max_fpr: float("nan"), "returned nan"),
    ],
    ids=["too-low", "too-strict", "array", "nan"],
)
def test_q2_explains_common_slips(function, words):
    verdict = ex02.q2.evaluate(function)
    assert not verdict.passed and words in verdict.message, verdict.message


def test_any_threshold_with_the_same_effect_passes():
    def midpoint(labels, scores, max_fpr):  # halfway to the next lower score: flags the same records
        t = ex02.choose_threshold(labels, scores, max_fpr)
        lower = np.asarray(scores)[np.asarray(scores) < t]
        return t if not np.isfinite(t) or not len(lower) else 0.5 * (t + lower.max())

    assert ex02.q2.evaluate(midpoint).passed


def test_hidden_checks_catch_answers_that_only_fit_the_public_inputs():
    for question, name in ((ex02.q1, "fpr"), (ex02.q2, "max_fpr")):
        table = {(len(c["labels"]), c[name]): question.reference(**c) for c in question.public_cases()}

        def memorised(labels, scores, table=table, **kwargs):
            return table.get((len(labels), next(iter(kwargs.values()))), 0.0)

        assert question.evaluate(memorised).passed
        caught = 0
        for seed in range(5):
            hidden = question.hidden_cases(np.random.default_rng(seed))
            caught += not question.grade(hidden, [core.capture(memorised, c) for c in hidden], checks="hidden").passed
        assert caught == 5


def test_hidden_cases_include_ties_exact_budgets_and_flag_nobody():
    for question, name in ((ex02.q1, "fpr"), (ex02.q2, "max_fpr")):
        cases = question.hidden_cases(np.random.default_rng(4))
        assert any(len(np.unique(c["scores"])) < len(c["scores"]) for c in cases)  # ties
        assert any(  # a budget exactly on a step
            c[name] * np.sum(c["labels"] == 0) == round(c[name] * np.sum(c["labels"] == 0))
            and c[name] > 0.5 / np.sum(c["labels"] == 0)
            for c in cases
        )
        nobody = [c for c in cases if np.isclose(c[name] * np.sum(c["labels"] == 0), 0.5)]
        assert nobody and all(c["labels"][np.argmax(c["scores"])] == 0 for c in nobody)


def test_written_question_has_a_model_answer(capsys):
    ex02.q3.solution()
    text = capsys.readouterr().out
    assert "broker" in text and "scrap" in text and "leak" in text
