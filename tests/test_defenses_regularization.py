"""Regularisation settings and their privacy-utility point (Lesson 05), the defences benchmark's table
(rows, columns, the hook for lesson 06's rows) and the privacy-utility chart."""

import math

import matplotlib
import numpy as np
import pytest
import torch

from utils.bench import defenses as bench
from utils.data import load_digits
from utils.defenses import regularization as reg
from utils.metrics import summarize_attack
from utils.models import MLP
from utils.plots import plot_privacy_utility
from utils.recipe import Recipe

matplotlib.use("Agg")


def test_settings_carry_the_right_model_and_recipe():
    base = Recipe(epochs=7)
    assert reg.no_defence(base).recipe == base and reg.no_defence(base).name == "none"
    d = reg.dropout(0.25, base)
    dropouts = [m.p for m in d.build_model().modules() if isinstance(m, torch.nn.Dropout)]
    assert d.name == "dropout 0.25" and dropouts == [0.25] and d.recipe == base
    w = reg.weight_decay(1e-2, base)
    assert w.recipe.weight_decay == 1e-2 and w.recipe.epochs == 7 and w.name == "weight decay 0.01"
    e = reg.early_stopping(4, base, validation_fraction=0.2)
    assert (e.recipe.early_stopping_patience, e.recipe.validation_fraction) == (4, 0.2)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: reg.dropout(1.0), "rate"),
    (lambda: reg.dropout(-0.1), "rate"),
    (lambda: reg.weight_decay(-1.0), "weight_decay"),
    (lambda: reg.early_stopping(0), "patience"),
    (lambda: reg.Defence("", MLP, Recipe()), "non-empty name"),
    (lambda: reg.Defence("x", 3, Recipe()), "build_model"),
    (lambda: reg.Defence("x", MLP, {"epochs": 3}), "Recipe"),
    (lambda: reg.measure_defence("dropout", np.zeros((4, 196), np.float32), np.zeros(4, int)), "Defence"),
])
def test_bad_settings_are_explained(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.fixture(scope="module")
def candidates():
    digits = load_digits()
    idx = np.random.default_rng(0).permutation(len(digits))[:300]
    return digits.X[idx], digits.y[idx]


def test_measure_defence_reports_a_consistent_point(candidates):
    X, y = candidates
    setting = reg.no_defence(Recipe(epochs=8, batch_size=50))
    result = reg.measure_defence(setting, X, y, n_shadows=4, n_targets=2, seed=0)
    assert 0 <= result.test_accuracy <= result.train_accuracy <= 1  # 8 epochs on 150 records: it overfits
    assert result.loss_gap > 0
    for attack in ("loss", "lira-online"):
        labels, scores = result.scores[attack]
        assert labels.shape == scores.shape == (2 * len(y),) and labels.sum() == len(y)
        summary = summarize_attack(labels, scores, fprs=(0.01, 0.001))
        assert result.tpr(attack, 0.01) == summary.tpr_at_fpr[0.01]
        low, high = result.interval(attack, 0.01)
        assert low <= result.tpr(attack, 0.01) <= high
    assert result.exposure.shape == (len(y),) and np.isfinite(result.exposure).all()
    assert result.experiment.n_targets == 2 and result.seconds > 0


def test_defense_row_and_table():
    labels = np.repeat([1, 0], 100)
    scores = np.concatenate([np.linspace(1, 2, 100), np.linspace(0, 1.5, 100)])
    row = bench.defense_row("dp-eps-4", test_acc=0.9, seconds=1.25, lira=(labels, scores))
    assert set(row) == set(bench.COLUMNS)
    assert math.isnan(row["loss_auc"]) and row["loss_tpr@1%fpr"] is None
    summary = summarize_attack(labels, scores, fprs=(0.01,))
    assert row["lira_auc"] == summary.auc and row["lira_tpr@1%fpr"][0] == summary.tpr_at_fpr[0.01]
    table = bench.format_table([row]).splitlines()
    assert table[0] == "| " + " | ".join(bench.COLUMNS) + " |"
    cells = [c.strip() for c in table[2].strip("|").split("|")]
    assert cells[0] == "dp-eps-4" and cells[1] == "0.900" and cells[2] == "-" and cells[-1] == "1.2"
    assert cells[5].startswith(f"{summary.tpr_at_fpr[0.01]:.2%} [")
    assert "utils.bench.dp" in bench.ROW_MODULES


def test_privacy_utility_chart():
    ax = plot_privacy_utility([0.9, 0.88], [0.07, 0.0], labels=["none", "wd"], lower=[0.06, 0.0], upper=[0.08, 0.01])
    assert ax.get_yscale() == "log" and "random guess" in [t.get_text() for t in ax.get_legend().get_texts()][-1]
    offsets = ax.collections[1].get_offsets()
    assert offsets[1][1] == pytest.approx(0.001)  # a TPR of 0 sits at the floor, fpr / 10
    with pytest.raises(ValueError, match="one entry per setting"):
        plot_privacy_utility([0.9], [0.1, 0.2], labels=["a"])
    with pytest.raises(ValueError, match="both lower and upper"):
        plot_privacy_utility([0.9], [0.1], labels=["a"], lower=[0.05])


@pytest.mark.parametrize(("attacks", "error", "match"), [
    ("loss", ValueError, "sequence of attack names"),  # before: trained every model, then looked up 'l'
    ((), ValueError, "non-empty"),
    (("loss", "lira"), KeyError, "no attack named 'lira'"),  # before: after training
])
def test_attack_names_are_checked_before_training(attacks, error, match):
    X = np.zeros((8, 4), np.float32)
    y = np.arange(8) % 2
    with pytest.raises(error, match=match):
        reg.measure_defence(reg.no_defence(), X, y, n_shadows=2, n_targets=2, attacks=attacks)
