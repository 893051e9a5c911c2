"""`python -m utils.bench defenses`: every defence of the course in one table (Lessons 05-07).

Prints one markdown table with the columns of `COLUMNS`, one row per defence:

- ``none``, ``dropout``, ``weight-decay``, ``early-stopping``: regularised targets (Lesson 05),
  attacked by the loss attack and online LiRA with shadows trained with the same recipe, pooled
  over several targets; the label-only columns for ``none`` hold the label-robustness attack;
- ``top-1-label``: the undefended targets behind a top-1-label mask (Lesson 07): the loss attack
  and LiRA see only what the mask releases (the attacker masks its shadows alike); the label-only
  columns hold the label-robustness attack, calibrated on the shadows;
- ``art-label-only``: ART's label-only attacks (``LabelOnlyGapAttack`` and
  ``LabelOnlyDecisionBoundary``, HopSkipJump) on a masked target, on a balanced subset of the
  candidates (HopSkipJump needs thousands of queries per record); the better AUC is reported,
  and our label-robustness attack is printed on the same subset for comparison. ART is a
  development requirement: without it the row is skipped with a printed reason.

`headline` gives ``python -m utils.bench all`` three of these figures (undefended and weight-decay
LiRA, label-robustness on top-1-label answers) at a small size.

Other lessons add rows: a module in `ROW_MODULES` (lesson 06's ``utils.bench.dp``) that defines
``defense_rows(context: BenchContext) -> list[dict]`` is imported and called after the rows
here; build each row with `defense_row` so the columns match. Intervals are 95% Clopper-Pearson.
"""

from __future__ import annotations

import argparse
import importlib
import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.special import softmax

from ..attacks import label_only, lira
from ..attacks.signals import score_log_odds, score_loss
from ..config import is_fast, pick
from ..data import load_digits, make_membership_split
from ..defenses import masking, regularization
from ..metrics import AttackSummary, summarize_attack
from ..recipe import Recipe

__all__ = ["COLUMNS", "ROW_MODULES", "BenchContext", "defense_row", "format_table", "headline", "main", "make_context"]

COLUMNS = ("defence", "test_acc", "loss_auc", "loss_tpr@1%fpr", "lira_auc", "lira_tpr@1%fpr", "label_only_auc",
           "label_only_tpr@1%fpr", "seconds")
ROW_MODULES = ("utils.bench.dp",)


@dataclass
class BenchContext:
    """What every row shares: the candidates, the undefended recipe, the sizes (and a cache of results)."""

    X: np.ndarray
    y: np.ndarray
    recipe: Recipe
    n_shadows: int
    n_targets: int
    seed: int = 0
    cache: dict = field(default_factory=dict)


def _summary(pair) -> AttackSummary | None:
    if pair is None:
        return None
    return pair if isinstance(pair, AttackSummary) else summarize_attack(*pair, fprs=(0.01,))


def defense_row(name: str, *, test_acc: float, seconds: float, loss=None, lira=None, label_only=None) -> dict:
    """One row of the table (Lessons 05-07).

    Parameters
    ----------
    name : str
        The defence, e.g. ``"dp-eps-4"``.
    test_acc : float
        Test accuracy of the defended model(s).
    seconds : float
        Wall time of the row (training and attacks).
    loss, lira, label_only : AttackSummary or (labels, scores), optional
        The attacks' pooled results (a missing attack shows as "-").

    Returns
    -------
    dict with the keys of `COLUMNS`; each TPR as ``(tpr, low, high)``.
    """
    row = {"defence": name, "test_acc": float(test_acc), "seconds": float(seconds)}
    for key, pair in (("loss", loss), ("lira", lira), ("label_only", label_only)):
        summary = _summary(pair)
        row[f"{key}_auc"] = summary.auc if summary else math.nan
        row[f"{key}_tpr@1%fpr"] = (summary.tpr_at_fpr[0.01], *summary.tpr_interval[0.01]) if summary else None
    return row


def format_table(rows) -> str:
    """The rows as one markdown table; TPRs with their 95% intervals."""

    def cell(key, value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        if key.endswith("tpr@1%fpr"):
            return f"{value[0]:.2%} [{value[1]:.2%}, {value[2]:.2%}]"
        if key == "seconds":
            return f"{value:.1f}"
        return value if isinstance(value, str) else f"{value:.3f}"

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(k, row.get(k)) for k in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def _robustness(experiment, targets):
    shadows = experiment.shadows()
    shadow_fractions = label_only.robustness_fractions(shadows, experiment.X, experiment.y)
    labels, scores = [], []
    for t, model_id in zip(range(experiment.n_targets), experiment.target_ids):
        fractions = label_only.robustness_fractions(targets[t], experiment.X, experiment.y)
        scores.append(lira.likelihood_ratio_online(fractions, shadow_fractions, shadows.in_mask, global_variance=True))
        labels.append(experiment.in_mask[model_id].astype(np.int64))
    return np.concatenate(labels), np.concatenate(scores)


def regularisation_rows(context: BenchContext, names=None) -> list[dict]:
    """Rows none, dropout, weight-decay, early-stopping (Lesson 05's settings), or only those in `names`."""
    r = context.recipe
    settings = {
        "none": regularization.no_defence(r),
        "dropout": regularization.dropout(0.5, r),
        "weight-decay": regularization.weight_decay(1e-2, r),
        "early-stopping": regularization.early_stopping(3, r),
    }
    if names is not None:
        unknown = sorted(set(names) - set(settings))
        if unknown:
            raise ValueError(f"unknown defence rows {unknown}; choose from {list(settings)}.")
        settings = {name: setting for name, setting in settings.items() if name in names}
    rows = []
    for name, setting in settings.items():
        start = time.perf_counter()
        result = regularization.measure_defence(setting, context.X, context.y, n_shadows=context.n_shadows,
                                                n_targets=context.n_targets, seed=context.seed, fprs=(0.01,))
        robust = None
        if name == "none":  # the undefended targets and shadows serve the masking rows too
            experiment = context.cache["none"] = result.experiment
            masked = [masking.top1_label(experiment.target(t)) for t in range(context.n_targets)]
            robust = _robustness(experiment, masked)
            context.cache["none-robustness"] = robust
        rows.append(defense_row(name, test_acc=result.test_accuracy, seconds=time.perf_counter() - start,
                                loss=result.summaries["loss"], lira=result.summaries["lira-online"], label_only=robust))
    return rows


def masking_row(context: BenchContext) -> dict:
    """Row top-1-label: the confidence attacks see only the released one-hot answers (Lesson 07)."""
    start = time.perf_counter()
    experiment = context.cache["none"]
    one_hot = masking.mask_probabilities(softmax(experiment.logits, axis=-1), "label")
    released = np.log(np.maximum(one_hot, masking.FLOOR))  # what MaskedModel returns, for every model at once
    targets, shadows = experiment.target_ids, experiment.shadow_ids
    shadow_obs = score_log_odds(released[shadows], experiment.y)
    labels, loss_scores, lira_scores = [], [], []
    for t in targets:
        labels.append(experiment.in_mask[t].astype(np.int64))
        loss_scores.append(score_loss(released[t], experiment.y))
        lira_scores.append(lira.likelihood_ratio_online(score_log_odds(released[t], experiment.y), shadow_obs,
                                                        experiment.in_mask[shadows], global_variance=True))
    test_acc = np.mean([(released[t].argmax(-1) == experiment.y)[~experiment.in_mask[t]].mean() for t in targets])
    labels = np.concatenate(labels)
    return defense_row("top-1-label", test_acc=test_acc, seconds=time.perf_counter() - start,
                       loss=(labels, np.concatenate(loss_scores)), lira=(labels, np.concatenate(lira_scores)),
                       label_only=context.cache["none-robustness"])


def art_row(context: BenchContext, n_records: int) -> dict | None:
    """Row art-label-only: ART's best label-only AUC on a balanced subset; None (with a printed reason) without ART."""
    try:
        import torch
        from art.attacks.inference.membership_inference import LabelOnlyDecisionBoundary, LabelOnlyGapAttack
        from art.estimators.classification import PyTorchClassifier
    except ImportError as exc:
        print(f"art-label-only: skipped, the adversarial-robustness-toolbox is not installed ({exc}); "
              "pip install -r requirements-dev.txt")
        return None
    experiment = context.cache["none"]
    target = masking.top1_label(experiment.target(0))
    members = experiment.in_mask[experiment.target_ids[0]]
    rng = np.random.default_rng(context.seed)
    half = n_records // 2
    subset = np.concatenate([rng.choice(np.flatnonzero(members), half, replace=False),
                             rng.choice(np.flatnonzero(~members), half, replace=False)])
    X, y, labels = experiment.X[subset], experiment.y[subset], members[subset].astype(np.int64)
    classifier = PyTorchClassifier(model=target, loss=torch.nn.CrossEntropyLoss(), input_shape=X.shape[1:],
                                   nb_classes=int(experiment.logits.shape[-1]), clip_values=(0.0, 1.0))
    start = time.perf_counter()
    gap = LabelOnlyGapAttack(classifier).infer(X, y).astype(np.float64)
    # Any positive threshold: the probabilities are a monotone function of the distance, which is all an AUC needs.
    boundary = LabelOnlyDecisionBoundary(classifier, distance_threshold_tau=1.0)
    distance = boundary.infer(X, y, probabilities=True, max_iter=10, max_eval=1000, init_eval=100, verbose=False)[:, 1]
    art_seconds = time.perf_counter() - start
    gap_summary = summarize_attack(labels, gap, fprs=(0.01,))
    boundary_summary = summarize_attack(labels, distance, fprs=(0.01,))
    best = max(gap_summary, boundary_summary, key=lambda s: s.auc)

    start = time.perf_counter()
    shadows = experiment.shadows()
    ours = label_only.score_robustness(target, X, y, shadows=shadows, in_mask=shadows.in_mask[:, subset])
    ours_seconds = time.perf_counter() - start
    ours_summary = summarize_attack(labels, ours, fprs=(0.01,))
    print(f"art-label-only on {n_records} balanced records of one top-1-label target: gap AUC {gap_summary.auc:.3f}, "
          f"decision boundary (HopSkipJump) AUC {boundary_summary.auc:.3f}, {art_seconds:.1f} s; "
          f"label-robustness on the same records: AUC {ours_summary.auc:.3f}, {ours_seconds:.1f} s")
    return defense_row("art-label-only", test_acc=math.nan, seconds=art_seconds, label_only=best)


def make_context(n_shadows: int, n_targets: int, seed: int = 0) -> BenchContext:
    """The course's candidates (members and non-members of its split) and Lesson 05's recipe (50 epochs)."""
    digits = load_digits()
    candidates, _ = make_membership_split(digits.y).evaluation()
    return BenchContext(X=digits.X[candidates], y=digits.y[candidates], recipe=Recipe(epochs=50),
                        n_shadows=n_shadows, n_targets=n_targets, seed=seed)


def headline() -> list[tuple[str, float]]:
    """The figures `python -m utils.bench all` lists (protocol: utils/bench/all.py): what the defences buy.

    Rows ``none`` and ``weight-decay`` of the table (`regularisation_rows`, the table's own code) on
    the 2,500 candidates, 50 epochs: online LiRA's pooled TPR at 1% FPR against the undefended
    targets and against weight decay 1e-2 (Lesson 05), and the label-robustness attack's AUC
    against the undefended targets behind a top-1-label mask (Lesson 07). Sizes: 4 targets and 16
    shadows per setting (2 and 8 with COURSE_FAST=1), seed 0: 10.5 s (6 s) on the 2-core machine at
    load 1.3. Measured (default sizes): LiRA 8.3% undefended, 5.6% with weight decay; label-robustness
    AUC 0.62 (fast sizes: 7.3%, 4.9%, 0.61).
    """
    context = make_context(n_shadows=pick(default=16, fast=8), n_targets=pick(default=4, fast=2), seed=0)
    none, decayed = regularisation_rows(context, names=("none", "weight-decay"))
    size = f"{context.n_targets} targets x {context.n_shadows} shadows"
    figures = [(f"undefended, online LiRA TPR at 1% FPR, {size} (%)", 100 * none["lira_tpr@1%fpr"][0]),
               (f"weight decay 1e-2, online LiRA TPR at 1% FPR, {size} (%)", 100 * decayed["lira_tpr@1%fpr"][0]),
               (f"top-1-label answers, label-robustness attack, {size} (AUC)", none["label_only_auc"])]
    return [(name, float(value)) for name, value in figures]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.bench defenses", description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="small sizes (also with COURSE_FAST=1)")
    parser.add_argument("--art-records", type=int, default=None,
                        help="balanced subset size for ART (default 200, fast 40)")
    parser.add_argument("--no-art", action="store_true", help="skip the ART row")
    args = parser.parse_args(argv)
    fast = args.fast or is_fast()
    context = make_context(n_shadows=8 if fast else 16, n_targets=2 if fast else 4, seed=0)
    print(f"candidates: {len(context.y)}; {context.n_targets} targets and {context.n_shadows} shadows per setting; "
          f"recipe {context.recipe}")
    rows = regularisation_rows(context)
    rows.append(masking_row(context))
    if not args.no_art:
        row = art_row(context, args.art_records or (40 if fast else 200))
        if row is not None:
            rows.append(row)
    for module_name in ROW_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if hasattr(module, "defense_rows"):
            rows.extend(module.defense_rows(context))
    print(format_table(rows))
    return 0
