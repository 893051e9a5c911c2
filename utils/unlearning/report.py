"""Lesson 10's tables and audit grids, from the shadow experiment and the released model's request.

- `release_exposure`: each candidate's online-LiRA score against the released model, with the shadow
  experiment's original models as shadows (lesson 03's per-record view): who is most exposed.
- `method_audits`: both audits of every method at one budget each (plus the original model).
- `budget_grid`: both audits of one approximate method at every budget of the experiment.
- `release_table`, `audit_table`: the lesson's and the benchmark's tables (pandas).
"""

from __future__ import annotations

import numpy as np

from ..attacks.lira import likelihood_ratio_online
from ..attacks.signals import score_log_odds
from ..inference import predict_logits
from .audits import audit_method
from .experiment import path_at, path_budgets

__all__ = ["release_exposure", "method_audits", "budget_grid", "release_table", "audit_table"]


def release_exposure(release, experiment: dict) -> np.ndarray:
    """Online LiRA (one global variance) of the released model on its candidates: (n_candidates,) float64.

    The experiment's original shadows trained on halves of the same candidates (``release.candidates()``,
    in that order), so they are the shadows of lesson 08's audit. Higher = more exposed.
    """
    X, y, _ = release.candidates()
    original = experiment["original"]["log_odds"]
    if original.shape[1] != len(y):
        raise ValueError(f"the experiment's shadows answered {original.shape[1]} records, but the release has "
                         f"{len(y)} candidates; run the experiment on release.candidates().")
    target = score_log_odds(predict_logits(release.model, X), y)
    return likelihood_ratio_online(target, original, experiment["trained"], global_variance=True)


def method_audits(experiment: dict, steps: dict, *, seed: int = 0) -> dict:
    """`audit_method` of the original shadows, the retrained ones (``retrain``), each approximate method at
    ``steps[method]`` and, when the experiment trained them, the SISA ensembles: dict name -> MethodAudit."""
    common = dict(trained=experiment["trained"], forget=experiment["forget"], seed=seed)
    audits = {"original": audit_method(experiment["original"], experiment["retrained"], **common),
              "retrain": audit_method(experiment["retrain"], experiment["retrained"], **common)}
    if "sisa" in experiment:
        audits["sisa"] = audit_method(experiment["sisa"], experiment["sisa-retrained"], **common)
    for name, budget in steps.items():
        audits[name] = audit_method(path_at(experiment, name, budget), experiment["retrained"], **common)
    return audits


def budget_grid(experiment: dict, method: str, *, seed: int = 0) -> dict:
    """Both audits of `method` at every budget the experiment ran: dict steps -> MethodAudit."""
    return {budget: audit_method(path_at(experiment, method, budget), experiment["retrained"], experiment["trained"],
                                 experiment["forget"], seed=seed)
            for budget in path_budgets(experiment, method)}


def release_table(result: dict):
    """One row per method of `unlearn_release`'s result: steps, seconds, time ratio, accuracies, forget loss,
    population AUC."""
    import pandas as pd

    columns = ["steps", "seconds", "time_ratio", "test_acc", "forget_acc", "forget_loss", "population_auc"]
    return pd.DataFrame(result["rows"]).T[columns].rename_axis("method")


def audit_table(audits: dict):
    """One row per method: held-out accuracy, the population test (AUC, TPR at 1% FPR) and U-LiRA (AUC, TPR at
    1% FPR with its 95% interval, TPR at 0.1% FPR), all fractions."""
    import pandas as pd

    return pd.DataFrame({name: a.row() for name, a in audits.items()}).T.rename_axis("method")
