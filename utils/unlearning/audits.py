"""Two audits of an unlearning method: the population test and the per-example U-LiRA (Lesson 10).

**The population test** (what most unlearning papers report): one attack classifier for every
record. It learns, from per-record losses, to tell the forget set (label 1) from held-out records
the model never saw (label 0); its out-of-fold AUC is the verdict: 0.5 looks "unlearned".

**U-LiRA** (Hayes et al., SaTML 2025, "Inexact unlearning needs more careful evaluations to avoid a
false sense of privacy"): the game is the real question, *is this model unlearned, or retrained
without the record?* For each forget record x the attacker builds its own test from shadow models:
the IN Gaussian from models that trained on x and then unlearned it, the OUT Gaussian from models
retrained without it, both on the logit-scaled confidence of LiRA (Carlini et al. 2022). The score
is the log-likelihood ratio of the target's answer; the positives are forget records under the
unlearned target, the negatives the same records under the target retrained without them.
`pooled_ulira` lets each shadow play the target in turn against all the others (leave one out),
which pools thousands of positives and negatives, enough for TPR at 1% FPR with an interval.

Everything below apart from the model queries is float64 maths on observation arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..attacks.lira import fit_gaussians
from ..metrics import check_fprs, clopper_pearson, roc_steps
from ..validation import as_1d, check_in_mask, check_membership, check_observations, check_positive_int, check_seed

__all__ = ["gaussian_log_ratio", "ulira_scores", "pooled_ulira", "UliraResult", "population_test",
           "PopulationResult", "tpr_with_interval", "fit_logistic_1d",
           "MethodAudit", "audit_method"]

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def gaussian_log_ratio(x, mean_in, std_in, mean_out, std_out) -> np.ndarray:
    """``log N(x; mean_in, std_in) - log N(x; mean_out, std_out)``, elementwise, in float64 (nats).

    >>> float(gaussian_log_ratio(0.0, 0.0, 1.0, 0.0, 1.0))
    0.0
    """
    x, mean_in, std_in, mean_out, std_out = (np.asarray(v, dtype=np.float64)
                                             for v in (x, mean_in, std_in, mean_out, std_out))
    if np.any(std_in <= 0) or np.any(std_out <= 0):
        raise ValueError("standard deviations must be > 0; a Gaussian fit with no spread has no density.")

    def logpdf(m, s):
        z = (x - m) / s
        return -(z**2) / 2.0 - _LOG_SQRT_2PI - np.log(s)

    return logpdf(mean_in, std_in) - logpdf(mean_out, std_out)


def ulira_scores(target_log_odds, reference_log_odds, in_mask, out_mask, *, global_variance: bool = True):
    """U-LiRA's per-record score from precomputed observations (Lesson 10).

    Parameters
    ----------
    target_log_odds : array-like of float, shape (n_records,)
        The target's logit-scaled true-class confidence on each record.
    reference_log_odds : array-like of float, shape (n_references, n_records)
        The same for every reference (shadow) model.
    in_mask : array-like of bool, shape (n_references, n_records)
        True where that reference trained on the record and then unlearned it.
    out_mask : array-like of bool, same shape
        True where that reference never trained on the record (retrained without it).
    global_variance : bool, default=True
        One standard deviation for IN and one for OUT, pooled over the records (few shadows).

    Returns
    -------
    ndarray of float64, shape (n_records,)
        ``log N(x; IN fit) - log N(x; OUT fit)``; higher = more likely "unlearned, not retrained".
    """
    x = as_1d(target_log_odds, "target_log_odds")
    obs = check_observations(reference_log_odds, "reference_log_odds", n_records=len(x))
    in_mask = check_in_mask(in_mask, obs.shape, "in_mask")
    out_mask = check_in_mask(out_mask, obs.shape, "out_mask")
    if np.any(in_mask & out_mask):
        raise ValueError("in_mask and out_mask overlap: a reference cannot have unlearned a record it never "
                         "trained on.")
    mean_in, std_in = fit_gaussians(obs, in_mask, global_variance=global_variance, what="unlearned (IN)")
    mean_out, std_out = fit_gaussians(obs, out_mask, global_variance=global_variance, what="retrained (OUT)")
    return gaussian_log_ratio(x, mean_in, std_in, mean_out, std_out)


@dataclass(frozen=True)
class UliraResult:
    """Pooled U-LiRA scores (`pooled_ulira`).

    Attributes
    ----------
    labels : ndarray of int64, shape (2 * n_pairs,)
        1 = the unlearned target's answer, 0 = the retrained target's, on the same (target, record) pairs.
    scores : ndarray of float64, same shape
    targets, records : ndarray of int64, shape (n_pairs,)
        Which shadow played the target and which forget record each pair is (positives first, then
        negatives in the same order).
    n_skipped : int
        Forget records no other shadow had unlearned (no IN observation left): left out.
    """

    labels: np.ndarray
    scores: np.ndarray
    targets: np.ndarray
    records: np.ndarray
    n_skipped: int

    def per_record(self) -> np.ndarray:
        """Score of the unlearned answer minus that of the retrained one, per pair: > 0 where unlearning shows."""
        n = len(self.targets)
        return self.scores[:n] - self.scores[n:]


def pooled_ulira(unlearned_log_odds, retrained_log_odds, trained, forget, *, global_variance: bool = True,
                 progress: bool = False) -> UliraResult:
    """U-LiRA with every shadow as the target in turn, the others as references (Lesson 10).

    Parameters
    ----------
    unlearned_log_odds : array-like of float, shape (K, n_records)
        Shadow k after unlearning its forget set, on every record.
    retrained_log_odds : array-like of float, shape (K, n_records)
        Shadow k retrained from scratch on its retained records, on every record.
    trained, forget : array-like of bool, shape (K, n_records)
        What each shadow originally trained on, and what it forgot.
    global_variance : bool, default=True
    progress : bool, default=False

    Returns
    -------
    UliraResult
    """
    from utils.progress import progress_bar

    unlearned = check_observations(unlearned_log_odds, "unlearned_log_odds")
    retrained = check_observations(retrained_log_odds, "retrained_log_odds", n_records=unlearned.shape[1])
    if unlearned.shape != retrained.shape:
        raise ValueError(f"unlearned and retrained observations must have the same shape, got {unlearned.shape} and "
                         f"{retrained.shape}.")
    trained = check_in_mask(trained, unlearned.shape, "trained")
    forget = check_in_mask(forget, unlearned.shape, "forget")
    if np.any(forget & ~trained):
        raise ValueError("forget marks records a shadow never trained on; a forget set holds training records only.")
    n_models = check_positive_int(len(unlearned), "number of shadows", minimum=3)
    kept = trained & ~forget
    pos, neg, targets, records, skipped = [], [], [], [], 0
    for t in progress_bar(range(n_models), desc="U-LiRA targets", disable=not progress, leave=False):
        others = np.arange(n_models) != t
        cols = np.flatnonzero(forget[t])
        in_mask = np.r_[forget[others][:, cols], np.zeros((n_models - 1, len(cols)), bool)]
        out_mask = np.r_[np.zeros((n_models - 1, len(cols)), bool), ~kept[others][:, cols]]
        usable = in_mask.any(axis=0) & out_mask.any(axis=0)
        skipped += int((~usable).sum())
        cols, in_mask, out_mask = cols[usable], in_mask[:, usable], out_mask[:, usable]
        if not len(cols):
            continue
        reference = np.r_[unlearned[others][:, cols], retrained[others][:, cols]]
        for answers, out in ((unlearned[t, cols], pos), (retrained[t, cols], neg)):
            out.append(ulira_scores(answers, reference, in_mask, out_mask, global_variance=global_variance))
        targets.append(np.full(len(cols), t, np.int64))
        records.append(cols.astype(np.int64))
    if not pos:
        raise ValueError("no forget record was unlearned by two shadows, so U-LiRA has no IN observations; use more "
                         "shadows or a smaller forget pool (utils.unlearning.audit_design).")
    pos, neg = np.concatenate(pos), np.concatenate(neg)
    labels = np.r_[np.ones(len(pos), np.int64), np.zeros(len(neg), np.int64)]
    return UliraResult(labels, np.r_[pos, neg], np.concatenate(targets), np.concatenate(records), skipped)


def tpr_with_interval(labels, scores, fprs=(0.01, 0.001), confidence: float = 0.95) -> dict:
    """TPR at each FPR with its Clopper-Pearson interval: ``{fpr: (tpr, low, high)}``, plus ``"auc"``."""
    fprs = check_fprs(fprs)
    labels, scores = check_membership(labels, scores)
    curve = roc_steps(labels, scores)
    out = {"auc": curve.area()}
    for f in fprs:
        tpr = curve.tpr_at(f)
        out[f] = (tpr, *clopper_pearson(round(tpr * curve.n_members), curve.n_members, confidence))
    return out


@dataclass(frozen=True)
class PopulationResult:
    """The population test's verdict (`population_test`).

    Attributes
    ----------
    auc : float
        Out-of-fold AUC of the attack classifier, forget (1) vs held-out (0); 0.5 looks unlearned.
    tpr, tpr_low, tpr_high : float
        Its TPR at `fpr` with the 95% Clopper-Pearson interval.
    fpr : float
    labels, scores : ndarrays, shape (n_records,)
        The out-of-fold scores (higher = "forget record").
    """

    auc: float
    tpr: float
    tpr_low: float
    tpr_high: float
    fpr: float
    labels: np.ndarray
    scores: np.ndarray


def fit_logistic_1d(x, labels, *, l2: float = 1.0, iterations: int = 50):
    """Logistic regression on one feature by Newton's method: ``(weight, intercept)`` (float64).

    Minimises ``sum log(1 + exp(-s_i (w x_i + b))) + l2 * w**2 / 2`` (s_i = +-1; the intercept is not
    penalised), the objective of scikit-learn's ``LogisticRegression(C=1 / l2)``, whose solution it
    matches (a test holds them equal); two parameters need no library, and no second of import.
    """
    x, labels = np.asarray(x, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    design = np.c_[x, np.ones_like(x)]
    theta = np.zeros(2)
    penalty = np.array([l2, 0.0])
    for _ in range(iterations):
        p = 0.5 * (1.0 + np.tanh(0.5 * (design @ theta)))  # the logistic function, without overflow
        gradient = design.T @ (p - labels) + penalty * theta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty) + 1e-12 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(theta[0]), float(theta[1])


def population_test(losses, labels, *, fpr: float = 0.01, n_folds: int = 5, seed: int = 0) -> PopulationResult:
    """One attack classifier for every record: forget set vs held-out, from per-record losses (Lesson 10).

    A logistic regression on the log-loss (the feature unlearning papers use; `fit_logistic_1d`),
    fitted on `n_folds` - 1 folds and scored on the last, in turn, so every record gets an
    out-of-fold score. It learns the direction itself: a forget set whose losses are *higher* than
    the held-out records' (over-unlearned) is found too.

    Parameters
    ----------
    losses : array-like of float, shape (n_records,)
        Each record's cross-entropy under the unlearned model, in nats (>= 0).
    labels : array-like of int, shape (n_records,)
        1 = forget record, 0 = held-out record the model never trained on.
    fpr : float, default=0.01
    n_folds : int, default=5
        Folds drawn at random within each class (stratified).
    seed : int, default=0

    Returns
    -------
    PopulationResult
    """
    labels, losses = check_membership(labels, losses, scores_name="losses")
    if np.any(losses < 0):
        raise ValueError(f"losses must be cross-entropies (>= 0 nats), found a minimum of {losses.min():.3g}. "
                         "Pass per-record losses, not scores (scores are minus the loss).")
    n_folds = check_positive_int(n_folds, "n_folds", minimum=2)
    if min(labels.sum(), len(labels) - labels.sum()) < n_folds:
        raise ValueError(f"each class needs at least n_folds={n_folds} records for the out-of-fold scores; found "
                         f"{int(labels.sum())} forget and {int(len(labels) - labels.sum())} held-out records.")
    feature = np.log(np.maximum(losses, 1e-12))
    fold = np.empty(len(labels), np.int64)
    rng = np.random.default_rng(check_seed(seed))
    for value in (0, 1):  # stratified: every fold gets its share of each class
        rows = np.flatnonzero(labels == value)
        fold[rows[rng.permutation(len(rows))]] = np.arange(len(rows)) % n_folds
    scores = np.empty(len(labels))
    for f in range(n_folds):
        held = fold == f
        weight, intercept = fit_logistic_1d(feature[~held], labels[~held])
        scores[held] = weight * feature[held] + intercept
    summary = tpr_with_interval(labels, scores, fprs=(fpr,))
    tpr, low, high = summary[fpr]
    return PopulationResult(summary["auc"], tpr, low, high, fpr, labels, scores)


@dataclass(frozen=True)
class MethodAudit:
    """Both audits of one unlearning method at one budget, pooled over the shadow targets (`audit_method`).

    Attributes
    ----------
    population : PopulationResult
        Forget records vs held-out records under the unlearned targets, one classifier for all.
    ulira : UliraResult
        Unlearned vs retrained targets on their forget records, one test per record.
    ulira_summary : dict
        `tpr_with_interval` of the U-LiRA scores: ``"auc"`` and ``{fpr: (tpr, low, high)}`` at 1% and 0.1%.
    heldout_accuracy : float
        Mean accuracy of the unlearned targets on candidates they never trained on.
    """

    population: PopulationResult
    ulira: UliraResult
    ulira_summary: dict
    heldout_accuracy: float

    def row(self) -> dict:
        """The figures of a benchmark row (fractions)."""
        s = self.ulira_summary
        return {"test_acc": self.heldout_accuracy, "population_auc": self.population.auc,
                "population_tpr@1%fpr": self.population.tpr, "ulira_auc": s["auc"],
                "ulira_tpr@1%fpr": s[0.01][0], "ulira_tpr@1%fpr_low": s[0.01][1],
                "ulira_tpr@1%fpr_high": s[0.01][2], "ulira_tpr@0.1%fpr": s[0.001][0]}


def audit_method(unlearned: dict, retrained: dict, trained, forget, *, seed: int = 0) -> MethodAudit:
    """The population test and pooled U-LiRA of one method, from the shadows' observations (Lesson 10).

    Parameters
    ----------
    unlearned, retrained : dict
        Observations (`utils.unlearning.experiment.observations`) of the K unlearned shadows and of
        the K shadows retrained without their forget sets: ``log_odds``, ``loss`` (K, n) and
        ``heldout_accuracy`` (K,).
    trained, forget : ndarray of bool, shape (K, n)
    seed : int, default=0
        Seeds the population test's folds.

    Returns
    -------
    MethodAudit
    """
    trained, forget = np.asarray(trained, bool), np.asarray(forget, bool)
    loss = np.asarray(unlearned["loss"], dtype=np.float64)
    if loss.shape != trained.shape:
        raise ValueError(f"the observations have shape {loss.shape} but trained has {trained.shape}; pass the "
                         "observations of the same shadows on the same candidates.")
    unseen = ~trained
    losses = np.concatenate([np.r_[loss[k, forget[k]], loss[k, unseen[k]]] for k in range(len(loss))])
    labels = np.concatenate([np.r_[np.ones(forget[k].sum(), np.int64), np.zeros(unseen[k].sum(), np.int64)]
                             for k in range(len(loss))])
    population = population_test(losses, labels, seed=seed)
    ulira = pooled_ulira(unlearned["log_odds"], retrained["log_odds"], trained, forget)
    return MethodAudit(population, ulira, tpr_with_interval(ulira.labels, ulira.scores),
                       float(np.mean(unlearned["heldout_accuracy"])))
