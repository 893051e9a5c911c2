"""Run every attack a threat model allows, read the low-FPR end, draft a verdict (Lesson 08).

    threat = ThreatModel(outputs="confidences", shadow_data=True)
    result = run_audit(release.model, threat, X_cand, y_cand, membership,
                       build_model=release.build_model, recipe=release.recipe, n_shadows=32)
    result.table            # one row per attack: AUC, advantage, TPR at 1% and 0.1% FPR with intervals
    result.strongest        # the attack with the highest TPR at 1% FPR
    print(draft_verdict(result, test_accuracy=release.test_accuracy))

Every attack is taken by name from `utils.attacks.registry` and called with the course's one call
shape, ``score(target, X, y, *, shadows=..., options)``; the shadows are trained once, on halves of
the candidate records, and shared by every attack that needs them.

Scores follow the course convention: one float64 per record, higher = more likely member. The
audit is run by the data owner, who knows the membership truth, so every number is measured, not
guessed; the attacker never sees `membership`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from torch import nn

from ..attacks import registry, report, shadow
from ..attacks.rmia import check_population
from ..models import ModelBatch, check_model
from ..recipe import Recipe
from ..validation import check_features_labels, check_fraction, check_membership, check_positive_int, check_seed
from .estimator import (
    ESTIMATOR_UNSUPPORTED,
    EstimatorModel,
    EstimatorShadows,
    estimator_shadow_scores,
    fit_estimator_shadows,
    is_estimator,
)
from .threat import ATTACK_NEEDS, ThreatModel, allowed_attacks, check_threat, excluded_attacks

__all__ = ["AuditResult", "run_audit", "risk_level", "draft_verdict"]

# Attacks that compare each record with population records the attacker owns (RMIA).
NEEDS_POPULATION = ("rmia-offline", "rmia-online")
NO_RECIPE = ("trains shadow models like the target; pass build_model= and recipe= (how the target was trained) "
             "or shadows= to run it")


# ----------------------------------------------------------------------------- the audit
@dataclass
class AuditResult:
    """What an audit measured (from `run_audit`).

    Attributes
    ----------
    threat_model : ThreatModel
    membership : ndarray of int64, shape (n_records,)
        1 = member, 0 = non-member (the auditor's ground truth).
    scores : dict str -> ndarray of float64, shape (n_records,)
        Each attack's scores, in the order they ran (higher = more likely member).
    seconds : dict str -> float
        Wall time of each attack, shadow training included in the first attack that needed it.
    table : pandas.DataFrame
        `utils.attacks.report.compare_attacks` of the scores (one row per attack).
    excluded : dict str -> str
        Attacks the threat model rules out, with the reason.
    shadows : ModelBatch, EstimatorShadows or None
        The shadow models, if any attack trained them (clones of the estimator for a scikit-learn target).
    """

    threat_model: ThreatModel
    membership: np.ndarray
    scores: dict
    seconds: dict
    table: pd.DataFrame
    excluded: dict = field(default_factory=dict)
    shadows: ModelBatch | None = None

    @property
    def attacks(self) -> tuple[str, ...]:
        return tuple(self.scores)

    def tpr(self, attack: str, fpr: float = 0.01) -> float:
        """TPR of `attack` at `fpr` (a column of `table`)."""
        return float(self._row(attack)[report.fpr_column(fpr)])

    def _row(self, attack):
        rows = self.table.set_index("attack")
        if attack not in rows.index:
            raise ValueError(f"the audit ran no attack {attack!r}; it ran {list(rows.index)}.")
        return rows.loc[attack]

    def under(self, threat_model: ThreatModel) -> AuditResult:
        """The same audit, restricted to the attacks a weaker `threat_model` allows (no rerun).

        E.g. "what if the API returned labels only?": ``result.under(ThreatModel("labels", True))``.
        Every attack it allows must have run in this audit.
        """
        threat_model = check_threat(threat_model)
        keep = [a for a in allowed_attacks(threat_model) if a in self.scores]
        missing = [a for a in allowed_attacks(threat_model) if a not in self.scores]
        if missing:
            raise ValueError(
                f"this audit did not run {missing}, which {threat_model} allows; "
                "run_audit under that threat model instead."
            )
        return AuditResult(
            threat_model=threat_model, membership=self.membership, scores={a: self.scores[a] for a in keep},
            seconds={a: self.seconds[a] for a in keep},
            table=self.table[self.table["attack"].isin(keep)].reset_index(drop=True),
            excluded=excluded_attacks(threat_model), shadows=self.shadows,
        )

    @property
    def strongest(self) -> str:
        """The attack with the highest TPR at 1% FPR (ties: higher AUC, then the order run)."""
        col = report.fpr_column(0.01)
        if col not in self.table.columns:
            raise ValueError("the audit table has no TPR at 1% FPR; run the audit with 0.01 in fprs.")
        ranked = self.table.assign(_order=-np.arange(len(self.table))).sort_values(
            [col, "auc", "_order"], ascending=False)
        return str(ranked.iloc[0]["attack"])


def _check_shadows(shadows, n_records, estimator):
    if estimator and not isinstance(shadows, EstimatorShadows):
        raise ValueError(
            f"a scikit-learn target's shadows are its fitted clones (EstimatorShadows from a previous audit's "
            f"result.shadows), got {type(shadows).__name__}; or leave shadows=None to fit them."
        )
    if not estimator and not isinstance(shadows, ModelBatch):
        raise ValueError(f"shadows must be a ModelBatch from shadow.train_shadow_models, got {type(shadows).__name__}.")
    if shadows.n_records != n_records:
        raise ValueError(
            f"shadows were trained on halves of {shadows.n_records} records, but the audit has {n_records} candidates. "
            "Train them on the candidate records themselves: shadow.train_shadow_models(build_model, X, y, ...)."
        )
    if len(shadows) < 4:
        raise ValueError(f"the audit needs at least 4 shadow models (2 IN and 2 OUT per record), got {len(shadows)}.")
    return shadows


def _row_keys(X, y) -> set:
    """Each record (features and label) as bytes, to find exact copies across two record sets."""
    flat = np.ascontiguousarray(X, dtype=np.float32).reshape(len(X), -1)
    return {row.tobytes() + int(label).to_bytes(8, "little") for row, label in zip(flat, y)}


def _check_population_disjoint(population, X, y, membership):
    """RMIA's population must be records the target did not train on: no exact copy of a member."""
    X_z, y_z = check_population(population)
    if X_z.shape[1:] != X.shape[1:]:
        raise ValueError(f"population records have shape {X_z.shape[1:]}, the candidates {X.shape[1:]}: "
                         "give records of the same kind.")
    shared = _row_keys(X_z, y_z) & _row_keys(X[membership == 1], y[membership == 1])
    if shared:
        raise ValueError(
            f"{len(shared)} population record(s) are exact copies of members of the target: the population must "
            "be records the target did not train on (drop the copies, e.g. with np.unique over the rows)."
        )
    return X_z, y_z


def run_audit(target_model, threat_model: ThreatModel, X, y, membership, *, build_model=None,
              recipe: Recipe | None = None, shadows: ModelBatch | None = None, n_shadows: int = 16,
              population=None, attacks=None, fprs=(0.01, 0.001), seed: int = 0,
              progress: bool = False) -> AuditResult:
    """Run the attacks `threat_model` allows against `target_model` and tabulate them (Lesson 08).

    Parameters
    ----------
    target_model : nn.Module in eval mode, or a fitted scikit-learn classifier with ``predict_proba``
        The released model: any PyTorch classifier that maps records to logits, or an estimator
        (`utils.capstone.estimator`: its shadows are clones of it, Shokri and label-robustness are
        ruled out).
    threat_model : ThreatModel
    X : array-like of float, shape (n_records, ...)
        The candidate records (members and non-members of the target).
    y : array-like of int, shape (n_records,)
    membership : array-like of int, shape (n_records,)
        1 = member, 0 = non-member: the auditor's ground truth, used only to score the attacks.
    build_model, recipe
        The published architecture and recipe (a torch target); needed only when shadow attacks run
        and `shadows` is None. What is assumed: the target was trained like that, so shadows trained
        with them behave like it. None for a scikit-learn target, whose recipe is its hyperparameters.
    shadows : ModelBatch, optional
        Shadow models already trained on halves of exactly these candidates (reused, e.g. by the
        deletion experiment). Otherwise `n_shadows` are trained (batched).
    n_shadows : int, default=16
        Even, >= 4.
    population : tuple (X_pop, y_pop), optional
        Records the attacker owns that the target did not train on (e.g. ``release.attacker_data()``);
        needed only by RMIA (``"rmia-offline"``, ``"rmia-online"``), which is skipped without it.
    attacks : sequence of str, optional
        A subset of `allowed_attacks(threat_model)`; default all of them (RMIA only with `population`;
        the shadow attacks only with `build_model` and `recipe`, or `shadows`, for a torch target:
        without them they are listed in `AuditResult.excluded`, with the reason).
    fprs : tuple of float, default=(0.01, 0.001)
    seed : int, default=0
        Seeds the shadows and the label-only attacks' perturbed queries.
    progress : bool, default=False
        Progress bars for the shadows' training.

    Returns
    -------
    AuditResult

    Raises
    ------
    ValueError
        An attack the threat model does not allow (with the reason), mismatched inputs, or shadow
        attacks without `build_model`/`recipe` or `shadows`.
    """
    threat_model = check_threat(threat_model)
    estimator = is_estimator(target_model)
    if estimator:
        if build_model is not None or recipe is not None:
            raise ValueError(
                "a scikit-learn target is its own recipe: its shadows are clones of it (sklearn.base.clone) "
                "fitted on halves of the candidates. Drop build_model= and recipe=."
            )
        target_model, fitted = EstimatorModel(target_model), target_model
    elif not isinstance(target_model, nn.Module):
        raise ValueError(
            f"target_model must be a torch.nn.Module (in eval mode) or a fitted scikit-learn classifier with "
            f"predict_proba, got {type(target_model).__name__}."
        )
    else:
        check_model(target_model, allow_batch=False)
    X, y = check_features_labels(X, y)
    membership, _ = check_membership(membership, np.zeros(len(membership)), labels_name="membership")
    if len(membership) != len(y):
        raise ValueError(
            f"membership has {len(membership)} entries but there are {len(y)} records; give one per record."
        )
    seed = check_seed(seed)
    allowed = allowed_attacks(threat_model)
    excluded = excluded_attacks(threat_model)
    if estimator:
        excluded.update({a: reason for a, reason in ESTIMATOR_UNSUPPORTED.items() if a in allowed})
        allowed = tuple(a for a in allowed if a not in excluded)
    elif attacks is None and shadows is None and (build_model is None or recipe is None):
        # a torch model brought without its recipe: say what could not run, and how to run it
        excluded.update({a: NO_RECIPE for a in allowed if ATTACK_NEEDS[a]["shadows"]})
        allowed = tuple(a for a in allowed if a not in excluded)
    if attacks is None:
        attacks = tuple(a for a in allowed if population is not None or a not in NEEDS_POPULATION)
    attacks = tuple(attacks)
    if not attacks:
        raise ValueError(f"attacks is empty; choose some of {list(allowed)}.")
    for a in attacks:
        if a in excluded:
            raise ValueError(f"{a!r} is ruled out here: it {excluded[a]}. Allowed: {list(allowed)}.")
        if a not in allowed:
            raise ValueError(f"unknown attack {a!r}; allowed under this threat model: {list(allowed)}.")
    if population is None and any(a in NEEDS_POPULATION for a in attacks):
        raise ValueError(
            "RMIA compares each candidate with population records the attacker owns: pass population=(X_pop, y_pop), "
            "records the target did not train on (e.g. release.attacker_data())."
        )
    if population is not None:
        population = _check_population_disjoint(population, X, y, membership)
    needs_shadows = any(ATTACK_NEEDS[a]["shadows"] for a in attacks)
    if needs_shadows and shadows is None:
        if not estimator and (build_model is None or recipe is None):
            raise ValueError(
                "shadow attacks need the published architecture and recipe to train shadows: pass "
                "build_model=... and recipe=..., or pass shadows=... trained on these candidates."
            )
        n_shadows = check_positive_int(n_shadows, "n_shadows", minimum=4)
        if n_shadows % 2:
            raise ValueError(f"n_shadows must be even (every record IN for exactly half of them), got {n_shadows}.")
    elif shadows is not None:
        shadows = _check_shadows(shadows, len(y), estimator)

    scores, seconds = {}, {}
    for a in attacks:
        start = time.perf_counter()
        options = {}
        if ATTACK_NEEDS[a]["shadows"] and estimator:
            if shadows is None:
                shadows = fit_estimator_shadows(fitted, X, y, n_shadows=n_shadows, seed=seed, progress=progress)
            scores[a] = estimator_shadow_scores(a, target_model, X, y, shadows, population=population,
                                                global_variance=len(shadows) < 64)
            seconds[a] = time.perf_counter() - start
            continue
        if ATTACK_NEEDS[a]["shadows"]:
            if shadows is None:
                shadows = shadow.train_shadow_models(build_model, X, y, n_shadows=n_shadows, seed=seed,
                                                     recipe=recipe, progress=progress)
            options["shadows"] = shadows
        if a.startswith("lira"):
            options["global_variance"] = len(shadows) < 64  # per-record variances are noisy below ~64 shadows
        elif a == "shokri":
            options["pool"] = (X, y)  # the shadows trained on halves of the candidates
        elif a in NEEDS_POPULATION:
            options["population"] = population
        elif a in ("label-robustness", "boundary-distance"):
            options["seed"] = seed
        scores[a] = np.asarray(registry.get(a)(target_model, X, y, **options), dtype=np.float64)
        seconds[a] = time.perf_counter() - start
    table = report.compare_attacks(scores, labels=membership, seconds=seconds, fprs=tuple(fprs))
    return AuditResult(threat_model=threat_model, membership=membership, scores=scores, seconds=seconds,
                       table=table, excluded=excluded, shadows=shadows)


# ----------------------------------------------------------------------------- the verdict
RISK_LEVELS = ("not measurable", "elevated", "high")


def risk_level(tpr_low: float, fpr: float = 0.01) -> str:
    """Grade the leak from the lower end of the TPR's 95% interval at `fpr` (Lesson 08).

    - ``"high"``: even the interval's low end is more than 5x `fpr`: the attack names members
      more than five times as often as it wrongly accuses non-members;
    - ``"elevated"``: the low end is above `fpr`: measurably better than guessing;
    - ``"not measurable"``: the attack cannot be told from a guess at this FPR with these records
      (no proof of privacy: only differential privacy gives one).

    >>> risk_level(0.08), risk_level(0.02), risk_level(0.004)
    ('high', 'elevated', 'not measurable')
    """
    fpr = check_fraction(fpr, "fpr")
    tpr_low = check_fraction(tpr_low, "tpr_low", low_open=False, high_open=False)
    if tpr_low > 5 * fpr:
        return "high"
    if tpr_low > fpr:
        return "elevated"
    return "not measurable"


def draft_verdict(result: AuditResult, *, test_accuracy: float, model_name: str = "the released model",
                  fpr: float = 0.01) -> str:
    """A first draft of the audit's verdict, every sentence computed from `result` (Lesson 08).

    The student edits it into their own verdict; the numbers in it are the ones measured.

    Returns
    -------
    str
        Paragraphs separated by blank lines.
    """
    if not isinstance(result, AuditResult):
        raise ValueError(f"result must be an AuditResult from run_audit, got {type(result).__name__}.")
    test_accuracy = check_fraction(test_accuracy, "test_accuracy", low_open=False, high_open=False)
    col = report.fpr_column(fpr)
    best = result.strongest
    row = result._row(best)
    level = risk_level(float(row[col + "_low"]), fpr)
    n_members, n_non = int(row["n_members"]), int(row["n_nonmembers"])
    found = int(round(row[col] * n_members))
    accused = int(np.floor(fpr * n_non))
    lines = [
        f"Threat model. {result.threat_model.describe()} Attacks run: {', '.join(result.attacks)}"
        + (f"; ruled out: {', '.join(result.excluded)}." if result.excluded else "."),
        f"Finding. The strongest attack, {best}, flags {row[col]:.1%} of the {n_members:,} training records "
        f"(95% interval {row[col + '_low']:.1%} to {row[col + '_high']:.1%}) while wrongly accusing at most {fpr:.0%} "
        f"of the {n_non:,} non-members: {found:,} members named for at most {accused:,} false accusations. "
        f"Its AUC is {row['auc']:.3f}. A random guess would flag {fpr:.0%}.",
        f"Risk: {level}. "
        + {
            "high": "The model gives away the membership of identifiable individuals: "
            "it should not be released as it is.",
            "elevated": "The model leaks membership measurably better than a guess; "
            "a defence is advisable before release.",
            "not measurable": "No allowed attack beat a guess measurably at this false-positive rate. "
            "This is not a proof of privacy: a stronger attacker, or more records, might still find a leak; "
            "only differential privacy bounds every attack.",
        }[level],
        f"Utility. The model is {test_accuracy:.1%} accurate on records it never saw.",
    ]
    return "\n\n".join(lines)
