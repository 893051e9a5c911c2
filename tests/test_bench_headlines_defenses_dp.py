"""The headlines of `python -m utils.bench defenses` and `dp` (protocol: utils/bench/all.py).

The real headlines run once each at the COURSE_FAST sizes (set by conftest.py: 2 targets x 8
shadows for the defences, 4 shadows for DP; about 6 s each on an idle machine) and their figures
are held to bands that hold over seeds 0-3 with margin: weight decay lowers LiRA's TPR at 1% FPR
(seed 0-3 at these sizes: 7.3-8.3% undefended, 4.9-5.1% with weight decay), the audit of an
epsilon-8 model certifies no more than its accountant spent, and the non-private target's audit
does certify a leak. The mapping from each module's table rows to the figures (units, sizes in
the names, the time ratio) is checked on canned rows, without training. No timing is asserted.
"""

import math
import re

import numpy as np
import pytest

from utils.bench import all as bench_all
from utils.bench import defenses, dp
from utils.metrics import AttackSummary

UNIT = re.compile(r"\(([^()]+)\)$")


def _check_pairs(pairs, n):
    """n pairs of (name ending in '(unit)', finite float); returns them as a dict keyed by name."""
    assert isinstance(pairs, list) and len(pairs) == n, pairs
    assert bench_all._as_pairs(pairs) == pairs  # what `python -m utils.bench all` accepts
    for name, value in pairs:
        assert isinstance(name, str) and UNIT.search(name), f"{name!r} does not end with its unit in parentheses"
        assert type(value) is float and math.isfinite(value), (name, value)
    assert len({name for name, _ in pairs}) == n, "figure names must differ"
    return dict(pairs)


def _figure(figures, start):
    (value,) = [v for name, v in figures.items() if name.startswith(start)]
    return value


@pytest.fixture(scope="module")
def defence_figures():
    return _check_pairs(defenses.headline(), 3)


@pytest.fixture(scope="module")
def dp_figures():
    return _check_pairs(dp.headline(), 5)


def test_defences_headline_weight_decay_lowers_lira_and_labels_still_leak(defence_figures):
    undefended = _figure(defence_figures, "undefended, online LiRA TPR at 1% FPR")
    decayed = _figure(defence_figures, "weight decay 1e-2, online LiRA TPR at 1% FPR")
    label_auc = _figure(defence_figures, "top-1-label answers, label-robustness attack")
    assert all("2 targets x 8 shadows" in name for name in defence_figures), "COURSE_FAST sizes in the names"
    assert all(name.endswith("(%)") for name in defence_figures if "LiRA" in name)
    assert 3.0 < undefended < 20.0, "LiRA against 50-epoch MLPs: well above the 1% of chance"
    assert 1.0 < decayed < undefended - 1.0, "weight decay 1e-2 lowers LiRA's TPR at 1% FPR by >1 point"
    assert 0.55 < label_auc < 0.75, "the top-1 label alone still leaks membership (Lesson 07)"


def test_dp_headline_audit_stays_below_the_accountant(dp_figures):
    accuracy = _figure(dp_figures, "DP-SGD at epsilon 8, test accuracy")
    spent = _figure(dp_figures, "DP-SGD at epsilon 8, accountant's epsilon")
    audited = _figure(dp_figures, "DP-SGD at epsilon 8, audited epsilon")
    leak = _figure(dp_figures, "non-private target, audited epsilon")
    slowdown = _figure(dp_figures, "DP-SGD training time over its non-private twin's")
    assert 7.9 <= spent <= 8.0, "the noise was chosen to spend epsilon 8 to within 0.01, never above"
    assert 0.0 <= audited <= spent, "a 95% lower bound above the accountant's epsilon means broken DP or audit"
    assert leak > 1.0 and leak > audited + 1.0, "the audit certifies the non-private target's leak"
    assert 70.0 < accuracy < 95.0
    assert slowdown > 0.0  # a ratio of two timings: positive and finite, its size is not asserted
    assert all("4 shadows" in name for name in dp_figures if "audited" in name), "COURSE_FAST sizes in the names"


def test_defences_headline_maps_the_table_rows_to_figures(monkeypatch):
    """Default sizes when COURSE_FAST is off; TPRs in percent, the label-only AUC as is (canned rows)."""
    seen = {}

    def fake_rows(context, names=None):
        seen.update(n_shadows=context.n_shadows, n_targets=context.n_targets, names=tuple(names))
        none = defenses.defense_row("none", test_acc=0.9, seconds=1.0, lira=_canned(0.125),
                                    label_only=(np.array([1, 1, 0, 0]), np.array([2.0, 0.5, 1.0, 0.0])))
        decayed = defenses.defense_row("weight-decay", test_acc=0.9, seconds=1.0, lira=_canned(0.05))
        return [none, decayed]

    monkeypatch.setenv("COURSE_FAST", "0")
    monkeypatch.setattr(defenses, "regularisation_rows", fake_rows)
    figures = _check_pairs(defenses.headline(), 3)
    assert seen == {"n_shadows": 16, "n_targets": 4, "names": ("none", "weight-decay")}
    assert _figure(figures, "undefended, online LiRA TPR at 1% FPR, 4 targets x 16 shadows") == pytest.approx(12.5)
    assert _figure(figures, "weight decay 1e-2, online LiRA TPR at 1% FPR, 4 targets x 16 shadows") == \
        pytest.approx(5.0)
    # the label-only scores (members 2, 0.5; non-members 1, 0) rank 3 of the 4 member/non-member pairs right
    assert _figure(figures, "top-1-label answers, label-robustness attack") == pytest.approx(0.75)


def _canned(tpr_at_1pct):
    """A pooled attack summary whose TPR at 1% FPR is `tpr_at_1pct` (its other figures do not matter here)."""
    return AttackSummary(auc=0.6, advantage=0.1, balanced_accuracy=0.55, tpr_at_fpr={0.01: tpr_at_1pct},
                         tpr_interval={0.01: (0.0, 1.0)})


def test_regularisation_rows_names_an_unknown_defence():
    context = defenses.BenchContext(X=None, y=None, recipe=None, n_shadows=4, n_targets=2)
    with pytest.raises(ValueError, match=r"unknown defence rows \['dropuot'\]; choose from"):
        defenses.regularisation_rows(context, names=("none", "dropuot"))


def test_dp_headline_maps_the_sweep_rows_to_figures(monkeypatch):
    """Default sizes when COURSE_FAST is off; accuracy in percent, the time ratio DP over twin (canned rows)."""
    seen = {}

    def fake_sweep(epsilons, *, n_shadows, repeats, seed=0, verbose=True):
        seen.update(epsilons=tuple(epsilons), n_shadows=n_shadows, repeats=repeats, verbose=verbose)
        private = {"epsilon": 8.0, "test_acc": 0.8125, "audit_eps": 0.25, "accountant_eps": 7.995, "train_s": 0.9,
                   "nonprivate_train_s": 0.6}
        nonprivate = {"epsilon": math.inf, "test_acc": 0.875, "audit_eps": 3.5, "accountant_eps": math.inf,
                      "train_s": 0.6, "nonprivate_train_s": 0.6}
        return [private, nonprivate]

    monkeypatch.setenv("COURSE_FAST", "0")
    monkeypatch.setattr(dp, "sweep", fake_sweep)
    figures = _check_pairs(dp.headline(), 5)
    assert seen == {"epsilons": (8.0,), "n_shadows": 16, "repeats": 3, "verbose": False}
    assert _figure(figures, "DP-SGD at epsilon 8, test accuracy") == pytest.approx(81.25)
    assert _figure(figures, "DP-SGD at epsilon 8, accountant's epsilon") == pytest.approx(7.995)
    assert _figure(figures, "DP-SGD at epsilon 8, audited epsilon, 95% lower bound, 16 shadows") == 0.25
    assert _figure(figures, "non-private target, audited epsilon, 95% lower bound, 16 shadows") == 3.5
    assert _figure(figures, "DP-SGD training time over its non-private twin's") == pytest.approx(1.5)
