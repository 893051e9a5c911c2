"""The capstone library (utils/capstone/, utils/plots/capstone.py): threat models, the audit, the
privacy-utility point and the deletion experiment (lesson 08).

Small synthetic data with random labels, so a model can only fit its training records by memorising
them: every attack then has something to find, in a fraction of a second.
"""

import functools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from utils.capstone import (
    ATTACK_NEEDS,
    AuditResult,
    ThreatModel,
    TradeoffPoint,
    allowed_attacks,
    choose_group,
    deletion_experiment,
    draft_verdict,
    excluded_attacks,
    group_membership,
    group_power,
    point_from_defence,
    point_from_scores,
    risk_level,
    run_audit,
    weights_fingerprint,
)
from utils.models import MLP
from utils.plots import ATTACK_STYLES, attack_style
from utils.plots.capstone import plot_audit_rocs, plot_audit_tradeoff, plot_deletion
from utils.recipe import Recipe
from utils.train import init_model, train_model

BUILD = functools.partial(MLP, in_features=20, hidden=(64,), n_classes=4)
RECIPE = Recipe(epochs=60, batch_size=32, lr=1e-2)


@pytest.fixture(scope="module")
def world():
    """200 candidates with random labels: the first 100 trained the target (members)."""
    rng = np.random.default_rng(0)
    X = rng.random((200, 20)).astype(np.float32)
    y = rng.integers(0, 4, 200).astype(np.int64)
    membership = np.r_[np.ones(100, np.int64), np.zeros(100, np.int64)]
    target = train_model(init_model(BUILD, 0), X[:100], y[:100], RECIPE, seed=0)
    return X, y, membership, target


@pytest.fixture(scope="module")
def population():
    """100 more records from the same population, never seen by the target (RMIA compares with them)."""
    rng = np.random.default_rng(1)
    return rng.random((100, 20)).astype(np.float32), rng.integers(0, 4, 100).astype(np.int64)


@pytest.fixture(scope="module")
def full_audit(world, population):
    X, y, membership, target = world
    return run_audit(target, ThreatModel(), X, y, membership, build_model=BUILD, recipe=RECIPE, n_shadows=4, seed=1,
                     population=population)


# ----------------------------------------------------------------------------- threat models
def test_allowed_attacks_known_answers():
    labels_no_shadows = ("gap", "boundary-distance")
    confidences = ("loss", "confidence", "entropy", "modified-entropy")
    assert allowed_attacks(ThreatModel("labels", False)) == labels_no_shadows
    assert allowed_attacks(ThreatModel("labels", True)) == labels_no_shadows + ("label-robustness",)
    assert allowed_attacks(ThreatModel("confidences", False)) == labels_no_shadows + confidences
    assert allowed_attacks(ThreatModel("confidences", True)) == tuple(ATTACK_NEEDS)


def test_every_capstone_attack_is_a_registered_attack():
    from utils.attacks import registry

    for name in ATTACK_NEEDS:
        assert callable(registry.get(name))
        assert name in ATTACK_STYLES, f"{name} has no course-wide style in utils.plots.base.ATTACK_STYLES"


def test_more_capability_never_removes_an_attack():
    weakest = set(allowed_attacks(ThreatModel("labels", False)))
    for outputs in ("labels", "confidences"):
        for shadow_data in (False, True):
            assert weakest <= set(allowed_attacks(ThreatModel(outputs, shadow_data)))
    assert set(allowed_attacks(ThreatModel("confidences", False))) < set(
        allowed_attacks(ThreatModel("confidences", True))
    )


def test_excluded_attacks_say_why():
    excluded = excluded_attacks(ThreatModel("labels", False))
    assert "confidences" in excluded["loss"] and "confidences" in excluded["lira-online"]
    assert "shadow" in excluded_attacks(ThreatModel("confidences", False))["shokri"]
    assert excluded_attacks(ThreatModel()) == {}
    for tm in (ThreatModel("labels", True), ThreatModel("confidences", False)):
        assert set(excluded_attacks(tm)) | set(allowed_attacks(tm)) == set(ATTACK_NEEDS)


@pytest.mark.parametrize("kwargs, message", [
    (dict(outputs="probabilities"), "did you mean 'confidences'"),
    (dict(outputs="label"), "outputs must be one of"),
    (dict(shadow_data=1), "True or False"),
    (dict(shadow_data="yes"), "True or False"),
])
def test_threat_model_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ThreatModel(**kwargs)


def test_threat_model_describes_itself():
    assert "only the predicted label" in ThreatModel("labels", False).describe()
    assert "cannot train shadow models" in ThreatModel("labels", False).describe()
    assert "can train shadow models" in ThreatModel().describe()
    with pytest.raises(ValueError, match="ThreatModel"):
        allowed_attacks({"outputs": "labels"})


# ----------------------------------------------------------------------------- the audit
def test_audit_runs_every_allowed_attack(full_audit):
    assert full_audit.attacks == tuple(ATTACK_NEEDS)
    assert set(full_audit.table["attack"]) == set(ATTACK_NEEDS)
    for scores in full_audit.scores.values():
        assert scores.shape == (200,) and np.isfinite(scores).all()
    assert len(full_audit.shadows) == 4 and full_audit.excluded == {}


def test_strongest_is_the_best_tpr_at_one_percent(full_audit):
    table = full_audit.table.set_index("attack")
    best = full_audit.strongest
    assert table.loc[best, "tpr@1%fpr"] == table["tpr@1%fpr"].max()
    # random labels: a memorising model gives its members away, online LiRA most of all
    assert full_audit.tpr("lira-online") > 0.2
    assert table.loc["lira-online", "auc"] > 0.8


def test_labels_only_audit_runs_label_attacks_only(world):
    X, y, membership, target = world
    result = run_audit(target, ThreatModel("labels", False), X, y, membership)
    assert result.attacks == ("gap", "boundary-distance") and result.shadows is None
    assert "loss" in result.excluded and "label-robustness" in result.excluded
    # the gap attack's AUC is (1 + train accuracy - test accuracy) / 2
    correct = (target(torch.from_numpy(X)).argmax(-1).numpy() == y).astype(float)
    expected = (1 + correct[:100].mean() - correct[100:].mean()) / 2
    assert result.table.set_index("attack").loc["gap", "auc"] == pytest.approx(expected)


def test_rmia_needs_population_records(world, full_audit):
    X, y, membership, target = world
    without = run_audit(target, ThreatModel(), X, y, membership, shadows=full_audit.shadows,
                        attacks=["lira-online"])
    assert without.attacks == ("lira-online",)
    by_default = run_audit(target, ThreatModel("confidences", True), X, y, membership, shadows=full_audit.shadows)
    assert "rmia-online" not in by_default.attacks and "lira-online" in by_default.attacks
    with pytest.raises(ValueError, match="population=\\(X_pop, y_pop\\)"):
        run_audit(target, ThreatModel(), X, y, membership, shadows=full_audit.shadows, attacks=["rmia-offline"])


def test_point_from_defence_matches_measure_defence(world):
    from utils.defenses import measure_defence, no_defence

    X, y, _, _ = world
    result = measure_defence(no_defence(RECIPE, build_model=BUILD), X, y, n_shadows=4, n_targets=2, seed=0)
    point = point_from_defence(result)
    assert point.accuracy == result.test_accuracy and point.tpr == result.tpr("lira-online", 0.01)
    assert (point.tpr_low, point.tpr_high) == result.interval("lira-online", 0.01) and point.attack == "lira-online"
    with pytest.raises(ValueError, match="not measured with 'rmia-online'"):
        point_from_defence(result, attack="rmia-online")
    with pytest.raises(ValueError, match="FPRs"):
        point_from_defence(result, fpr=0.05)
    with pytest.raises(ValueError, match="DefenceResult"):
        point_from_defence(point)


def test_under_a_weaker_threat_model_keeps_only_its_attacks(full_audit):
    labels = full_audit.under(ThreatModel("labels", True))
    assert labels.attacks == ("gap", "boundary-distance", "label-robustness")
    assert list(labels.table["attack"]) == list(labels.attacks) and "loss" in labels.excluded
    assert np.array_equal(labels.scores["gap"], full_audit.scores["gap"])
    assert labels.strongest in labels.attacks
    narrow = labels.under(ThreatModel("labels", False))
    assert narrow.attacks == ("gap", "boundary-distance")
    with pytest.raises(ValueError, match="did not run"):
        narrow.under(ThreatModel("labels", True))


def test_audit_reuses_given_shadows(world, full_audit):
    X, y, membership, target = world
    again = run_audit(target, ThreatModel(), X, y, membership, shadows=full_audit.shadows, attacks=["lira-online"])
    assert np.array_equal(again.scores["lira-online"], full_audit.scores["lira-online"])


def test_audit_bad_input(world, full_audit):
    X, y, membership, target = world
    with pytest.raises(ValueError, match="'loss' is ruled out here.*confidences"):
        run_audit(target, ThreatModel("labels", True), X, y, membership, attacks=["loss"])
    with pytest.raises(ValueError, match="unknown attack 'lira'"):
        run_audit(target, ThreatModel(), X, y, membership, attacks=["lira"])
    with pytest.raises(ValueError, match="build_model=.*recipe="):
        run_audit(target, ThreatModel(), X, y, membership, attacks=["shokri"])
    with pytest.raises(ValueError, match="even"):
        run_audit(target, ThreatModel(), X, y, membership, build_model=BUILD, recipe=RECIPE, n_shadows=5)
    with pytest.raises(ValueError, match="halves of 200 records, but the audit has 100"):
        run_audit(
            target,
            ThreatModel(),
            X[:100],
            y[:100],
            membership[:100] * 0 + np.r_[np.ones(50), np.zeros(50)].astype(int),
            shadows=full_audit.shadows,
            attacks=["lira-online"],
        )
    with pytest.raises(ValueError, match="membership has 199 entries"):
        run_audit(target, ThreatModel("labels", False), X, y, membership[:199])
    with pytest.raises(ValueError, match="attacks is empty"):
        run_audit(target, ThreatModel("labels", False), X, y, membership, attacks=[])
    with pytest.raises(ValueError, match="torch.nn.Module"):
        run_audit("model", ThreatModel("labels", False), X, y, membership)


# ----------------------------------------------------------------------------- the verdict
def test_risk_level_known_answers():
    assert risk_level(0.051, 0.01) == "high"
    assert risk_level(0.05, 0.01) == "elevated"
    assert risk_level(0.011, 0.01) == "elevated"
    assert risk_level(0.01, 0.01) == "not measurable"
    assert risk_level(0.0, 0.001) == "not measurable" and risk_level(0.006, 0.001) == "high"
    with pytest.raises(ValueError, match="tpr_low"):
        risk_level(1.5)
    with pytest.raises(ValueError, match="fpr"):
        risk_level(0.1, fpr=0.0)


def test_draft_verdict_quotes_the_measured_numbers(full_audit):
    text = draft_verdict(full_audit, test_accuracy=0.25)
    best = full_audit.strongest
    row = full_audit.table.set_index("attack").loc[best]
    assert f"The strongest attack, {best}, flags {row['tpr@1%fpr']:.1%}" in text
    assert f"{row['auc']:.3f}" in text and "25.0% accurate" in text
    assert f"Risk: {risk_level(row['tpr@1%fpr_low'])}." in text
    assert len(text.split("\n\n")) == 4
    with pytest.raises(ValueError, match="AuditResult"):
        draft_verdict(full_audit.table, test_accuracy=0.5)
    with pytest.raises(ValueError, match="test_accuracy"):
        draft_verdict(full_audit, test_accuracy=89.4)


# ----------------------------------------------------------------------------- privacy-utility points
def test_point_from_scores_known_answer():
    membership = np.r_[np.ones(10, int), np.zeros(100, int)]
    scores = np.r_[np.arange(10) + 100.0, np.arange(100.0)]  # 10 members above every non-member
    point = point_from_scores("released", 0.9, membership, scores, attack="loss")
    assert point.tpr == 1.0 and point.tpr_high == 1.0 and 0.6 < point.tpr_low < 0.8
    assert point.accuracy == 0.9 and point.fpr == 0.01
    with pytest.raises(ValueError, match="name"):
        point_from_scores("", 0.9, membership, scores, attack="loss")
    with pytest.raises(ValueError, match="accuracy"):
        point_from_scores("x", 90.0, membership, scores, attack="loss")


def test_privacy_utility_chart():
    points = [TradeoffPoint("released", 0.9, 0.1, 0.08, 0.12, 0.01, "lira-online"),
              TradeoffPoint("early stopping", 0.87, 0.06, 0.05, 0.08, 0.01, "lira-online")]
    ax = plot_audit_tradeoff(points, baseline="released")
    assert [t.get_text() for t in ax.texts] == ["released (lira-online)", "early stopping (lira-online)"]
    assert "accuracy" in ax.get_xlabel() and ax.get_yscale() == "log"
    plt.close(ax.figure)
    masked = TradeoffPoint("masked", 0.9, 0.11, 0.09, 0.13, 0.01, "label-robustness")  # same accuracy as released
    ax = plot_audit_tradeoff(points + [masked])
    assert [t.xyann for t in ax.texts] == [(5, 4), (5, 4), (5, -12)], "labels at one accuracy must not overlap"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="same FPR"):
        plot_audit_tradeoff(points + [TradeoffPoint("x", 0.9, 0.1, 0.0, 0.2, 0.001, "loss")])
    with pytest.raises(ValueError, match="baseline"):
        plot_audit_tradeoff(points, baseline="dp")
    with pytest.raises(ValueError, match="empty"):
        plot_audit_tradeoff([])


def test_audit_rocs_use_the_course_styles(full_audit):
    ax = plot_audit_rocs(full_audit.membership, full_audit.scores, attacks=["loss", "lira-offline"])
    curves = [line for line in ax.get_lines() if line.get_gid() == "roc"]
    assert [line.get_color() for line in curves] == [
        attack_style("loss")["color"],
        attack_style("lira-offline")["color"],
    ]
    assert curves[1].get_linestyle() == "--"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="no scores for"):
        plot_audit_rocs(full_audit.membership, full_audit.scores, attacks=["rmia"])


# ----------------------------------------------------------------------------- deletion
def test_group_membership_known_answer():
    membership = np.array([1, 1, 0, 1, 0])
    rows, labels = group_membership(membership, [3, 0])
    assert rows.tolist() == [0, 3, 2, 4] and labels.tolist() == [1, 1, 0, 0]
    rows_mask, _ = group_membership(membership, np.array([True, False, False, True, False]))
    assert rows_mask.tolist() == rows.tolist()


def test_group_power_known_answer():
    membership = np.array([1, 1, 1, 0, 0, 0])
    scores = np.array([5.0, 0.0, 4.0, 1.0, 2.0, 3.0])  # the group {0, 2} outranks every non-member; record 1 does not
    assert group_power(scores, membership, [0, 2]).auc == 1.0
    assert group_power(scores, membership, [1]).auc == 0.0


@pytest.mark.parametrize("group, message", [
    ([2], "non-members"),
    ([], "empty"),
    ([0, 0], "twice"),
    ([7], "indices from 7 to 7"),
    (np.array([True, False]), "one entry per record"),
    ([0.0, 1.0], "integers"),
    ([0, 1, 3], "every member"),
])
def test_bad_groups(group, message):
    with pytest.raises(ValueError, match=message):
        group_membership(np.array([1, 1, 0, 1, 0]), group)


def test_choose_group():
    membership = np.r_[np.ones(50, int), np.zeros(50, int)]
    group = choose_group(membership, 10, seed=1)
    assert len(group) == 10 and membership[group].all() and np.array_equal(group, np.sort(group))
    assert np.array_equal(group, choose_group(membership, 10, seed=1))
    assert not np.array_equal(group, choose_group(membership, 10, seed=2))
    with pytest.raises(ValueError, match="smaller than the 50 members"):
        choose_group(membership, 50)


def test_weights_fingerprint_sees_any_change():
    model = BUILD()
    before = weights_fingerprint(model)
    assert weights_fingerprint(model) == before
    with torch.no_grad():
        next(model.parameters())[0, 0] += 1e-6
    assert weights_fingerprint(model) != before


def test_deleting_rows_does_not_forget_retraining_does(world):
    X, y, membership, target = world
    group = choose_group(membership, 40, seed=0)

    def loss_attack(model):
        from utils.attacks import threshold
        return threshold.score(model, X, y, kind="loss")

    result = deletion_experiment(target, X, y, membership, group, attack=loss_attack, build_model=BUILD,
                                 recipe=RECIPE, seed=5)
    assert result.fingerprint_before == result.fingerprint_after_delete  # deleting rows leaves the weights alone
    assert result.before.auc > 0.8  # the released model still singles out the deleted group
    assert abs(result.after.auc - 0.5) < 0.15  # the retrained model treats them as strangers
    assert result.remaining_after.auc > 0.85  # retraining protects only the deleted records
    assert result.n_train_before == 100 and result.n_train_after == 60
    assert result.retrain_seconds > result.delete_seconds
    assert result.accuracy_cost == pytest.approx(result.accuracy_before - result.accuracy_after)
    ax = plot_deletion(result)
    assert len(ax.patches) == 6
    plt.close(ax.figure)


def test_deletion_experiment_bad_input(world):
    X, y, membership, target = world
    ok = dict(attack=lambda m: np.zeros(200), build_model=BUILD, recipe=RECIPE)
    with pytest.raises(ValueError, match="non-members"):
        deletion_experiment(target, X, y, membership, [150], **ok)
    with pytest.raises(ValueError, match="one score per record"):
        deletion_experiment(target, X, y, membership, [1], **{**ok, "attack": lambda m: np.zeros(3)})
    with pytest.raises(ValueError, match="attack must be a function"):
        deletion_experiment(target, X, y, membership, [1], **{**ok, "attack": None})
    with pytest.raises(ValueError, match="Recipe"):
        deletion_experiment(target, X, y, membership, [1], **{**ok, "recipe": {"epochs": 5}})
    with pytest.raises(ValueError, match="membership has 100 entries but there are 200"):
        deletion_experiment(target, X, y, membership[50:150], [1], **ok)


def test_audit_result_type(full_audit):
    assert isinstance(full_audit, AuditResult)
    with pytest.raises(ValueError, match="ran no attack 'rmia'"):
        full_audit.tpr("rmia")
