"""Exercise 04's checks, the lesson-04 plots and the property benchmark's table."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils import property as prop  # noqa: E402
from utils.bench import property as bench  # noqa: E402
from utils.checks import core, ex04  # noqa: E402
from utils.plots import attack_style, plot_accuracy_vs_distance, plot_property_accuracies, plot_victim_scores  # noqa: E402


def test_references_agree_with_the_library():
    rng = np.random.default_rng(0)
    for _ in range(20):
        acc, r0, r1 = rng.uniform(0.3, 0.99), *rng.uniform(0.05, 0.95, 2)
        assert ex04.n_leaked(acc, r0, r1) == pytest.approx(prop.n_leaked(acc, r0, r1))
    d0, d1 = rng.integers(0, 4, (5, 30)).astype(float), rng.integers(0, 4, (7, 30)).astype(float)
    assert np.allclose(ex04.kl_votes(d0, d1), prop.kl_votes(d0, d1))


def test_reference_passes_public_and_hidden_checks(capsys):
    for question in (ex04.q1, ex04.q2):
        question.check(question.reference)
        assert "public checks passed" in capsys.readouterr().out
        cases = question.hidden_cases(np.random.default_rng(3))
        answers = [core.capture(question.reference, case) for case in cases]
        assert question.grade(cases, answers, checks="hidden").passed


@pytest.mark.parametrize(
    "question, function, words",
    [
        (ex04.q1, lambda accuracy, r0, r1: -ex04.n_leaked(accuracy, r0, r1), "wrong sign"),
        (
            ex04.q1,
            lambda accuracy, r0, r1: (
                0.0
                if r0 == r1 or accuracy <= 0.5
                else float(np.log(1 - (2 * accuracy - 1) ** 2) / np.log(max(r0 / r1, (1 - r1) / (1 - r0))))
            ),
            "order the worlds",
        ),
        (
            ex04.q1,
            lambda accuracy, r0, r1: ex04.n_leaked(max(accuracy, 1 - accuracy), r0, r1) if r0 != r1 else 0.0,
            "at or below chance",
        ),
        (ex04.q2, lambda kl_to_world0, kl_to_world1: ex04.kl_votes(kl_to_world0, kl_to_world1) + 0.5, "subtract 1/2"),
        (ex04.q2, lambda kl_to_world0, kl_to_world1: -ex04.kl_votes(kl_to_world0, kl_to_world1), "wrong way"),
        (
            ex04.q2,
            lambda kl_to_world0, kl_to_world1: (
                (np.asarray(kl_to_world1)[None] < np.asarray(kl_to_world0)[:, None]).mean(axis=(0, 1)) - 0.5
            ),
            "half a vote",
        ),
    ],
)
def test_judges_name_the_slip(question, function, words):
    verdict = question.evaluate(function)
    assert not verdict.passed and words in verdict.message


def test_starter_is_not_attempted():
    def stub(*args, **kwargs):
        raise NotImplementedError("Exercise 4.1: write your code here")

    assert ex04.q1.evaluate(stub).outcome == core.NOT_ATTEMPTED


def test_plots_draw_every_attack_in_its_own_style():
    results = [
        prop.PropertyResult(name, 0.5 + 0.1 * i, 0.4 + 0.1 * i, 0.6 + 0.1 * i, 0.0, 100)
        for i, name in enumerate(prop.PROPERTY_ATTACKS)
    ]
    ax = plot_property_accuracies({"(a)": results, "(b)": results[:2]})
    assert len(ax.patches) == 5 + 2 and ax.get_ylabel().startswith("Accuracy")
    expected = {attack_style(n)["color"].lower() for n in prop.PROPERTY_ATTACKS}
    assert len(expected) == 5 and expected == {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches}
    assert ax.get_xlabel() == "setting" and [t.get_text() for t in ax.get_xticklabels()] == ["(a)", "(b)"]
    ax = plot_property_accuracies(results)  # one unnamed cluster: no empty tick, an axis label instead
    assert list(ax.get_xticks()) == [] and ax.get_xlabel().startswith("attack")
    ax = plot_accuracy_vs_distance([0.2, 0.5], [results, results], marker_at=0.5)
    assert len(ax.lines) >= 5
    ax = plot_victim_scores(np.r_[-np.ones(5), np.ones(5)], np.r_[np.zeros(5), np.ones(5)])
    assert ax.get_ylabel() == "Victim models"


def test_bench_table_has_the_issues_columns(capsys):
    assert (
        bench.main(
            [
                "--only",
                "census-a",
                "--shadows",
                "5",
                "--victims",
                "20",
                "--epochs",
                "1",
                "--attacks",
                "property-kl",
                "meta-blackbox",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "| property | worlds | attack | accuracy | ci_low | ci_high | n_leaked | victims | seconds |" in out
    assert "| census-a | 0.2 vs 0.5 | property-kl |" in out and "| 20 |" in out


def _votes(kl_to_world0, kl_to_world1, *, ties=0.5, reduce="mean", axis=(0, 1)):
    d0, d1 = np.asarray(kl_to_world0), np.asarray(kl_to_world1)
    votes = (d1[None] < d0[:, None]) + ties * (d1[None] == d0[:, None])
    return getattr(votes, reduce)(axis=axis) - 0.5


@pytest.mark.parametrize("slip, named", [
    (lambda kl_to_world0, kl_to_world1: _votes(kl_to_world0, kl_to_world1, ties=1.0), "not as a full vote"),
    (lambda kl_to_world0, kl_to_world1: _votes(kl_to_world0, kl_to_world1, reduce="sum"), "summed the votes"),
    (lambda kl_to_world0, kl_to_world1: _votes(kl_to_world0, kl_to_world1, axis=2), "the wrong axis"),
])
def test_ex04_q2_names_each_usual_slip(slip, named):
    from utils.checks import ex04

    verdict = ex04.q2.evaluate(slip)
    assert not verdict.passed and named in verdict.message, verdict.message


def test_a_student_may_name_the_parameters_as_they_like():
    from utils.checks import ex04, ex06

    assert ex04.q2.evaluate(lambda a, b: ex04.kl_votes(a, b)).passed
    assert ex06.q1.evaluate(lambda f, eps, d: ex06.dp_max_tpr(f, eps, d)).passed
    verdict = ex06.q1.evaluate(lambda f, eps: 0.0)  # a missing parameter is still reported, not a crash
    assert not verdict.passed and "TypeError" in verdict.message
