"""Exercise 08's checks (utils/checks/ex08.py): the references agree with the capstone library, the checks
accept the reference on fresh inputs, and they catch the common slips with a message that names them."""

import numpy as np
import pytest

from utils.capstone import ATTACK_NEEDS, ThreatModel, allowed_attacks, group_power
from utils.checks import ex08, load_exercise
from utils.checks.core import capture
from utils.metrics import tpr_at_fpr


def hidden_verdict(question, function, seed):
    cases = question.hidden_cases(np.random.default_rng(seed))
    return question.grade(cases, [capture(function, c) for c in cases], checks="hidden")


# ---------------------------------------------------------------- references agree with the library
@pytest.mark.parametrize("outputs", ["labels", "confidences"])
@pytest.mark.parametrize("shadow_data", [False, True])
def test_is_allowed_matches_allowed_attacks(outputs, shadow_data):
    ours = [
        a
        for a, needs in ATTACK_NEEDS.items()
        if ex08.is_allowed(needs["outputs"], needs["shadows"], outputs, shadow_data)
    ]
    assert ours == list(allowed_attacks(ThreatModel(outputs, shadow_data)))


def test_group_tpr_known_answer():
    # non-members 0.8, 0.5, 0.5, 0.2, 0.1; fpr 0.2 allows one false positive -> flag scores above 0.5
    case = ex08.q2.public_cases()[0]
    assert ex08.group_tpr(**case) == pytest.approx(2 / 4)
    assert ex08.group_tpr(case["scores"], case["membership"], [4], 0.2) == 0.0  # 0.3, under the threshold
    assert ex08.group_tpr(case["scores"], case["membership"], [3], 0.2) == 1.0
    # a tie with the threshold is not flagged
    assert ex08.group_tpr(case["scores"], case["membership"], [1], 0.2) == 0.0
    assert ex08.group_tpr(case["scores"], case["membership"], [1], 1.0) == 1.0  # every non-member may be flagged


@pytest.mark.parametrize("seed", range(4))
def test_group_tpr_matches_the_library(seed):
    for case in ex08.q2.hidden_cases(np.random.default_rng(seed)):
        scores, membership, group = (np.asarray(case[k]) for k in ("scores", "membership", "group"))
        rows = np.r_[group, np.flatnonzero(membership == 0)]
        labels = np.r_[np.ones(len(group), int), np.zeros(int((membership == 0).sum()), int)]
        expected = tpr_at_fpr(labels, scores[rows], case["fpr"])
        assert ex08.group_tpr(**case) == pytest.approx(expected, abs=1e-12)
        power = group_power(scores, membership, group, fpr=case["fpr"])
        assert power.tpr_at_fpr[case["fpr"]] == pytest.approx(expected)


# ---------------------------------------------------------------- the checks
@pytest.mark.parametrize("question", [ex08.q1, ex08.q2])
def test_reference_passes_public_and_hidden_checks(question):
    assert question.evaluate(question.reference).passed
    for seed in range(5):
        assert hidden_verdict(question, question.reference, seed).passed


@pytest.mark.parametrize("question", [ex08.q1, ex08.q2])
def test_hidden_cases_are_fresh(question):
    a, b, c = (question.hidden_cases(np.random.default_rng(s)) for s in (1, 1, 2))
    flat = lambda cases: [np.asarray(v).tolist() for case in cases for v in case.values()]  # noqa: E731
    assert flat(a) == flat(b) and flat(a) != flat(c)


def test_q2_public_cases_include_ties_at_the_threshold():
    # a `>=` slip must be caught on the public inputs, so at least one case has a group score equal to the threshold
    def ge(scores, membership, group, fpr):
        scores = np.asarray(scores)
        non = np.sort(scores[np.asarray(membership) == 0])[::-1]
        return float(np.mean(scores[group] >= non[int(np.floor(fpr * len(non) + 1e-9))]))

    assert not ex08.q2.evaluate(ge).passed


def _slip_ge(scores, membership, group, fpr):
    scores = np.asarray(scores)
    non = np.sort(scores[np.asarray(membership) == 0])[::-1]
    return float(np.mean(scores[group] >= non[int(np.floor(fpr * len(non) + 1e-9))]))


def _slip_all_members(scores, membership, group, fpr):
    return ex08.group_tpr(scores, membership, np.flatnonzero(np.asarray(membership) == 1), fpr)


def _slip_quantile(scores, membership, group, fpr):
    scores = np.asarray(scores)
    return float(np.mean(scores[group] > np.quantile(scores[np.asarray(membership) == 0], 1 - fpr)))


def _slip_everyone(scores, membership, group, fpr):
    everyone = np.sort(np.asarray(scores))[::-1]
    return float(np.mean(np.asarray(scores)[group] > everyone[int(np.floor(fpr * len(everyone) + 1e-9))]))


def _slip_percent(scores, membership, group, fpr):
    return 100 * ex08.group_tpr(scores, membership, group, fpr)


@pytest.mark.parametrize("slip, message", [
    (_slip_ge, "ties"),
    (_slip_all_members, "all members"),
    (_slip_quantile, "np.quantile"),
    (_slip_everyone, "non-members only"),
    (_slip_percent, "percentage"),
    (lambda scores, membership, group, fpr: None, "forget the `return`"),
    (lambda scores, membership, group, fpr: [0.5, 0.5], "one number"),
])
def test_q2_names_the_slip(slip, message):
    verdict = ex08.q2.evaluate(slip)
    assert not verdict.passed and message in verdict.message


def _only_same_outputs(needs_outputs, needs_shadows, outputs, shadow_data):
    return needs_outputs == outputs and (not needs_shadows or shadow_data)


def _ignores_shadows(needs_outputs, needs_shadows, outputs, shadow_data):
    return needs_outputs == "labels" or outputs == "confidences"


def _shadows_must_match(needs_outputs, needs_shadows, outputs, shadow_data):
    return needs_shadows == shadow_data and (needs_outputs == "labels" or outputs == "confidences")


def _labels_read_confidences(needs_outputs, needs_shadows, outputs, shadow_data):
    return not needs_shadows or shadow_data


@pytest.mark.parametrize("slip, message", [
    (_only_same_outputs, "confidences include the label"),
    (_ignores_shadows, "no shadow data"),
    (_shadows_must_match, "never rules an attack out"),
    (_labels_read_confidences, "labels-only API never returns them"),
    (lambda needs_outputs, needs_shadows, outputs, shadow_data: "yes", "True or False"),
])
def test_q1_names_the_slip(slip, message):
    verdict = ex08.q1.evaluate(slip)
    assert not verdict.passed and message in verdict.message


def test_exercise_is_declared():
    exercise = load_exercise(8)
    assert [q.id for q in exercise.questions] == ["8.1", "8.2", "8.3", "8.4"]
    assert [q.kind for q in exercise.questions] == ["function", "function", "written", "written"]
    for q in exercise.written_questions:
        assert len(q.model_answer.split()) > 100 and q.hints


def _group_tpr_slip(scores, membership, group, fpr, *, ascending=False, shift=0, count=False):
    scores = np.asarray(scores, dtype=np.float64)
    non = np.sort(scores[np.asarray(membership) == 0])
    non = non if ascending else non[::-1]
    allowed = int(np.floor(fpr * len(non) + 1e-9)) + shift
    threshold = non[allowed] if 0 <= allowed < len(non) else -np.inf
    flags = scores[np.asarray(group)] > threshold
    return float(flags.sum() if count else flags.mean())


@pytest.mark.parametrize("options, named", [
    ({"ascending": True}, "ascending order"),
    ({"shift": 1}, "[allowed + 1]"),
    ({"shift": -1}, "[allowed - 1]"),
    ({"count": True}, "how many of the group"),
])
def test_ex08_q2_names_each_usual_slip(options, named):
    def slip(scores, membership, group, fpr):
        return _group_tpr_slip(scores, membership, group, fpr, **options)

    verdict = ex08.q2.evaluate(slip)
    assert not verdict.passed and named in verdict.message, verdict.message
    assert "flagged scores >=" not in verdict.message
