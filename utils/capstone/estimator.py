"""Audit a model the course did not train: any scikit-learn classifier with ``predict_proba`` (Lesson 08).

`run_audit` takes such an estimator as it takes a torch model. What changes is where the shadow
models come from. The course's own models publish their recipe (architecture, optimiser, epochs);
a scikit-learn estimator *is* its recipe: its class and hyperparameters (``get_params``). So the
assumption of a shadow attack on an estimator is that the attacker knows them (a model card that
says "a random forest of 50 trees"), and its shadows are clones (``sklearn.base.clone``) fitted on
balanced halves of the candidates, exactly as the course's shadows are trained on them.

    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_members, y_members)
    audit = run_audit(forest, ThreatModel(), X_cand, y_cand, membership, population=(X_pop, y_pop))

Which attacks that allows: every attack that only queries the model (the one-threshold attacks,
``gap``, ``boundary-distance``), and the shadow attacks that read only the shadows' outputs on
records (LiRA, RMIA). Shokri's attack and ``label-robustness`` train or query the shadows as a batch
of torch models, so they are ruled out for an estimator, with that reason (`ESTIMATOR_UNSUPPORTED`).

An estimator's confidences become logits as ``log predict_proba`` (softmax of them gives the
probabilities back), floored at `PROBA_FLOOR` so that a tree's exact 0 is a very small number, not
minus infinity.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..attacks.lira import likelihood_ratio_offline, likelihood_ratio_online
from ..attacks.rmia import rmia_from_log_probs
from ..attacks.shadow import balanced_halves
from ..attacks.signals import score_log_odds, true_class_log_prob
from ..inference import predict_logits
from ..models import records_fingerprint
from ..progress import progress_bar
from ..seed import spawn_seeds

__all__ = ["PROBA_FLOOR", "ESTIMATOR_UNSUPPORTED", "ESTIMATOR_SHADOW_ATTACKS", "is_estimator", "EstimatorModel",
           "EstimatorShadows", "fit_estimator_shadows", "estimator_shadow_scores"]

PROBA_FLOOR = 1e-12

# Attacks an estimator cannot face, with the reason (they need the shadows as a batch of torch models).
ESTIMATOR_UNSUPPORTED = {
    "shokri": "trains its attack on a batch of torch shadow models; not available for a scikit-learn estimator",
    "label-robustness": "queries a batch of torch shadow models on noisy copies; not available for a "
    "scikit-learn estimator",
}
# Shadow attacks an estimator can face: computed from the fitted clones' outputs on the records.
ESTIMATOR_SHADOW_ATTACKS = ("lira-offline", "lira-online", "rmia-offline", "rmia-online")


def is_estimator(model) -> bool:
    """True for a scikit-learn-style classifier (it has ``predict_proba``) that is not a torch module."""
    return not isinstance(model, (nn.Module, type)) and callable(getattr(model, "predict_proba", None))


def _check_fitted(estimator):
    classes = getattr(estimator, "classes_", None)
    n_features = getattr(estimator, "n_features_in_", None)
    if classes is None or n_features is None:
        raise ValueError(
            f"the {type(estimator).__name__} is not fitted (it has no classes_ / n_features_in_): audit the "
            "released model, fitted on its training records (estimator.fit(X_members, y_members))."
        )
    classes = np.asarray(classes)
    if not (np.issubdtype(classes.dtype, np.integer) and np.array_equal(classes, np.arange(len(classes)))):
        raise ValueError(
            f"the estimator's classes_ must be 0, 1, ..., n_classes-1 (columns of predict_proba are then class "
            f"indices), got {classes.tolist()[:10]}. Fit it on integer labels (e.g. LabelEncoder().fit_transform(y))."
        )
    return len(classes), int(n_features)


class EstimatorModel(nn.Module):
    """A fitted scikit-learn classifier as a torch module in eval mode: logits = ``log predict_proba``.

    Every attack of the course that only queries its target takes it unchanged. It has no weights;
    a buffer holds the SHA-256 of the pickled estimator, so that `utils.cache` keys two different
    estimators apart.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``, ``classes_ == arange(n_classes)``, ``n_features_in_``

    Attributes
    ----------
    estimator, n_classes : int, in_features : int
    """

    def __init__(self, estimator):
        super().__init__()
        if not is_estimator(estimator):
            raise ValueError(
                f"estimator must have predict_proba (a scikit-learn classifier), got {type(estimator).__name__}."
            )
        self.n_classes, self.in_features = _check_fitted(estimator)
        self.estimator = estimator
        digest = hashlib.sha256(pickle.dumps(estimator)).digest()
        self.register_buffer("estimator_sha256", torch.tensor(list(digest), dtype=torch.uint8))
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(n, ...) records -> (n, n_classes) float64 logits."""
        records = x.detach().cpu().numpy().reshape(len(x), -1).astype(np.float64)
        proba = np.asarray(self.estimator.predict_proba(records), dtype=np.float64)
        return torch.from_numpy(np.log(np.clip(proba, PROBA_FLOOR, 1.0)))


@dataclass(frozen=True)
class EstimatorShadows:
    """Clones of an estimator, each fitted on a balanced half of the candidates.

    Attributes
    ----------
    models : tuple of EstimatorModel, length n_shadows
    in_mask : ndarray of bool, shape (n_shadows, n_records)
        True where the candidate trained that clone.
    fingerprint : str
        `utils.models.records_fingerprint` of the candidates they were fitted on.
    """

    models: tuple
    in_mask: np.ndarray
    fingerprint: str

    def __len__(self) -> int:
        return len(self.models)

    @property
    def n_records(self) -> int:
        return self.in_mask.shape[1]

    def logits(self, X) -> np.ndarray:
        """(n_shadows, n, n_classes) float64 logits of every clone on the records `X` (n, ...)."""
        return np.stack([predict_logits(model, X) for model in self.models])


def fit_estimator_shadows(estimator, X, y, *, n_shadows: int = 16, seed: int = 0,
                          progress: bool = False) -> EstimatorShadows:
    """Fit `n_shadows` clones of `estimator` on balanced halves of the candidates ``X, y``.

    Each clone gets its own ``random_state`` (when the estimator has one) from `seed`, as the
    course's shadows get their own initialisation.
    """
    from sklearn.base import clone

    halves_seed, clone_seed = spawn_seeds(seed, 2)
    subsets = balanced_halves(len(y), n_shadows, seed=halves_seed)
    states = spawn_seeds(clone_seed, n_shadows)
    has_state = "random_state" in estimator.get_params()
    models = []
    for k in progress_bar(range(n_shadows), desc="shadow clones fitted", disable=not progress, leave=False):
        shadow = clone(estimator)
        if has_state:
            shadow.set_params(random_state=int(states[k]) % 2**31)
        rows = subsets[k]
        models.append(EstimatorModel(shadow.fit(X[rows].reshape(len(rows), -1), y[rows])))
    in_mask = np.zeros((n_shadows, len(y)), dtype=bool)
    for k, rows in enumerate(subsets):
        in_mask[k, rows] = True
    return EstimatorShadows(tuple(models), in_mask, records_fingerprint(X, y))


def estimator_shadow_scores(attack: str, target: EstimatorModel, X, y, shadows: EstimatorShadows, *,
                            population=None, global_variance: bool = True) -> np.ndarray:
    """One of `ESTIMATOR_SHADOW_ATTACKS` against an estimator: LiRA's and RMIA's maths on the clones' outputs.

    The same functions the course's score functions call (`likelihood_ratio_online`, ...,
    `rmia_from_log_probs`), fed with the estimator's logits instead of a torch model's.

    Returns
    -------
    ndarray of float64, shape (n_records,); higher = more likely member.
    """
    if attack not in ESTIMATOR_SHADOW_ATTACKS:
        raise ValueError(f"attack must be one of {list(ESTIMATOR_SHADOW_ATTACKS)}, got {attack!r}.")
    if shadows.fingerprint != records_fingerprint(X, y):
        raise ValueError("the shadow clones were fitted on other records than these candidates; refit them on X, y.")
    target_logits = predict_logits(target, X)
    shadow_logits = shadows.logits(X)
    if attack.startswith("lira"):
        observed, reference = score_log_odds(target_logits, y), score_log_odds(shadow_logits, y)
        if attack == "lira-online":
            return likelihood_ratio_online(observed, reference, shadows.in_mask, global_variance=global_variance)
        return likelihood_ratio_offline(observed, reference, in_mask=shadows.in_mask, global_variance=global_variance)
    X_z, y_z = population
    z_logits = predict_logits(target, X_z)
    return rmia_from_log_probs(
        true_class_log_prob(target_logits, y), true_class_log_prob(shadow_logits, y).reshape(len(shadows), -1),
        true_class_log_prob(z_logits, y_z), true_class_log_prob(shadows.logits(X_z), y_z).reshape(len(shadows), -1),
        in_mask_x=shadows.in_mask if attack == "rmia-offline" else None, offline=attack == "rmia-offline",
    )
