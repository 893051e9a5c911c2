"""Where a model sits on the privacy-utility chart, next to defended versions of it (Lesson 08).

One point per model: its accuracy on records it never saw (utility, x) and the TPR at 1% FPR of
the strongest attack allowed against it (privacy risk, y; lower is better). The audited model's
point comes from its audit (`point_from_scores`); defended versions come from lesson 05's
`utils.defenses.measure_defence` (`point_from_defence`), which trains targets and shadows with the
defence's own recipe, so that each point is measured against an attacker who knows that recipe.

    released = point_from_scores("released", 0.894, membership, audit.scores["lira-online"], attack="lira-online")
    defended = point_from_defence(measure_defence(weight_decay(1e-2, recipe), X, y, n_shadows=8, n_targets=2))
"""

from __future__ import annotations

from dataclasses import dataclass

from ..metrics import clopper_pearson, summarize_attack
from ..validation import check_fraction, check_membership

__all__ = ["TradeoffPoint", "point_from_scores", "point_from_defence"]


@dataclass(frozen=True)
class TradeoffPoint:
    """One model on the privacy-utility chart.

    Attributes
    ----------
    name : str
        Legend label, e.g. "released" or "weight decay 0.01".
    accuracy : float
        Accuracy on the non-members (records it never saw), in [0, 1].
    tpr, tpr_low, tpr_high : float
        TPR at `fpr` of `attack`, with its 95% Clopper-Pearson interval.
    fpr : float
    attack : str
        Which attack measured the risk.
    seconds : float
        Wall time to train the model and attack it.
    """

    name: str
    accuracy: float
    tpr: float
    tpr_low: float
    tpr_high: float
    fpr: float
    attack: str
    seconds: float = float("nan")


def point_from_scores(name: str, accuracy_value: float, membership, scores, *, attack: str, fpr: float = 0.01,
                      seconds: float = float("nan")) -> TradeoffPoint:
    """A `TradeoffPoint` from an attack's scores on members and non-members (Lesson 08)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string (the legend label), got {name!r}.")
    accuracy_value = check_fraction(accuracy_value, "accuracy", low_open=False, high_open=False)
    fpr = check_fraction(fpr, "fpr")
    membership, scores = check_membership(membership, scores, labels_name="membership")
    summary = summarize_attack(membership, scores, fprs=(fpr,))
    tpr = summary.tpr_at_fpr[fpr]
    low, high = clopper_pearson(round(tpr * summary.n_members), summary.n_members)
    return TradeoffPoint(name, accuracy_value, tpr, low, high, fpr, attack, seconds)


def point_from_defence(result, *, attack: str = "lira-online", fpr: float = 0.01) -> TradeoffPoint:
    """A `TradeoffPoint` from a defence measured by `utils.defenses.measure_defence` (Lesson 08).

    Parameters
    ----------
    result : utils.defenses.DefenceResult
        Pooled over its targets; its test accuracy is the mean over them.
    attack : str, default="lira-online"
        One of the attacks it was measured with.
    fpr : float, default=0.01
        One of the FPRs it was measured at.
    """
    for name in ("name", "test_accuracy", "summaries", "seconds"):
        if not hasattr(result, name):
            raise ValueError(
                f"result must be a DefenceResult from utils.defenses.measure_defence, got {type(result).__name__}."
            )
    if attack not in result.summaries:
        raise ValueError(f"{result.name!r} was not measured with {attack!r}; it has {sorted(result.summaries)}.")
    summary = result.summaries[attack]
    if fpr not in summary.tpr_at_fpr:
        raise ValueError(f"{result.name!r} was measured at FPRs {sorted(summary.tpr_at_fpr)}, not {fpr!r}.")
    low, high = summary.tpr_interval[fpr]
    return TradeoffPoint(result.name, float(result.test_accuracy), float(summary.tpr_at_fpr[fpr]), float(low),
                         float(high), float(fpr), attack, float(result.seconds))
