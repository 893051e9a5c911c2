"""Data is persistent: deleting records does not delete what the model remembers of them (Lesson 08).

The experiment, in three steps:

1. **Delete** a group of training records from the dataset, after the model was trained. The
   weights do not change (`weights_fingerprint` is the same before and after), so an attacker who
   holds copies of those records still finds them: the attack's power on the deleted group
   (deleted records vs. records the model never saw) is what it was.
2. **Retrain** from scratch without them. Now the group is as unseen as the non-members, and the
   attack's power on it falls to a guess.
3. **The cost**: deleting rows takes microseconds; retraining takes a whole training run (here
   seconds, for a large model weeks), and the model loses the deleted records' contribution.

    group = choose_group(membership, 250, seed=0)
    result = deletion_experiment(model, X, y, membership, group, attack=lambda m: my_scores(m),
                                 build_model=MLP, recipe=recipe, seed=8)
    result.before.auc, result.after.auc     # e.g. 0.66 vs 0.50
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..inference import accuracy, predict_logits
from ..metrics import AttackSummary, summarize_attack
from ..recipe import Recipe
from ..train import init_model, train_model
from ..validation import (
    check_features_labels,
    check_fraction,
    check_membership,
    check_positive_int,
    check_seed,
)

__all__ = [
    "weights_fingerprint",
    "choose_group",
    "group_membership",
    "group_power",
    "DeletionResult",
    "deletion_experiment",
]


def weights_fingerprint(model: nn.Module) -> str:
    """SHA-256 of every parameter and buffer, in order: equal fingerprints mean bit-identical weights."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    digest = hashlib.sha256()
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _group_mask(group, membership) -> np.ndarray:
    n = len(membership)
    arr = np.asarray(group)
    if arr.size == 0:
        raise ValueError("group is empty; choose at least one member to delete.")
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"a boolean group mask needs one entry per record ({n}), got shape {arr.shape}.")
        mask = arr.copy()
    else:
        if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(
                f"group must be a 1-D array of record indices (integers) or a boolean mask, got dtype {arr.dtype} "
                f"and shape {arr.shape}."
            )
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise ValueError(f"group holds indices from {arr.min()} to {arr.max()}, but there are {n} records.")
        if len(np.unique(arr)) != len(arr):
            raise ValueError("group lists a record twice; give each deleted record once.")
        mask = np.zeros(n, dtype=bool)
        mask[arr] = True
    if not mask.any():
        raise ValueError("group is empty; choose at least one member to delete.")
    not_members = np.flatnonzero(mask & (membership == 0))
    if len(not_members):
        raise ValueError(
            f"group must hold training records (membership 1) only: "
            f"records {not_members[:5].tolist()} are non-members, "
            "and one cannot delete from a model what it never trained on."
        )
    if mask.sum() == membership.sum():
        raise ValueError("group holds every member; keep at least one record to retrain on.")
    return mask


def _membership(membership) -> np.ndarray:
    labels, _ = check_membership(membership, np.zeros(len(np.asarray(membership))), labels_name="membership")
    return labels


def choose_group(membership, n_group: int, *, seed: int = 0) -> np.ndarray:
    """`n_group` members drawn at random, the records whose owners ask to be deleted (Lesson 08).

    Parameters
    ----------
    membership : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    n_group : int
        Fewer than the number of members.
    seed : int, default=0

    Returns
    -------
    ndarray of int64, shape (n_group,)
        Sorted indices (into the records) of the group.
    """
    membership = _membership(membership)
    n_group = check_positive_int(n_group, "n_group")
    members = np.flatnonzero(membership == 1)
    if n_group >= len(members):
        raise ValueError(f"n_group must be smaller than the {len(members)} members (some must remain), got {n_group}.")
    rng = np.random.default_rng(check_seed(seed))
    return np.sort(rng.choice(members, size=n_group, replace=False)).astype(np.int64)


def group_membership(membership, group):
    """Which records an attack on the group is scored on, and their labels (Lesson 08).

    The game: the deleted group (label 1) against the records the model never saw (label 0); the
    other members are left out.

    Returns
    -------
    rows : ndarray of int64, shape (n_group + n_nonmembers,)
        Indices of the group's records, then of the non-members.
    labels : ndarray of int64, same shape
        1 for the group, 0 for the non-members.
    """
    membership = _membership(membership)
    mask = _group_mask(group, membership)
    rows = np.concatenate([np.flatnonzero(mask), np.flatnonzero(membership == 0)])
    labels = np.concatenate([np.ones(mask.sum(), np.int64), np.zeros((membership == 0).sum(), np.int64)])
    return rows, labels


def group_power(scores, membership, group, *, fpr: float = 0.01) -> AttackSummary:
    """How well `scores` single out the group among the non-members: AUC, TPR at `fpr` (Lesson 08).

    Parameters
    ----------
    scores : array-like of float, shape (n_records,)
        An attack's scores on every record, higher = more likely member.
    membership : array-like of int, shape (n_records,)
    group : indices or boolean mask of members
    fpr : float, default=0.01

    Returns
    -------
    AttackSummary
        Of the group (as members) against the non-members.
    """
    membership = _membership(membership)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != membership.shape:
        raise ValueError(f"scores must have one entry per record, shape {membership.shape}, got {scores.shape}.")
    rows, labels = group_membership(membership, group)
    return summarize_attack(labels, scores[rows], fprs=(check_fraction(fpr, "fpr"),))


@dataclass(frozen=True)
class DeletionResult:
    """The outcome of `deletion_experiment`.

    Attributes
    ----------
    group : ndarray of int64
        Indices (into the records) of the deleted members.
    before, after : AttackSummary
        The attack on the group (vs. non-members) against the released model, after the rows were
        deleted from the dataset (same weights), and against the model retrained without them.
    remaining_before, remaining_after : AttackSummary
        The same attack on the members that were kept: retraining does not protect them.
    fingerprint_before, fingerprint_after_delete : str
        `weights_fingerprint` of the released model before and after the deletion: equal.
    delete_seconds, retrain_seconds : float
        Wall time of deleting the rows and of retraining from scratch.
    accuracy_before, accuracy_after : float
        Accuracy on the non-members of the released and of the retrained model.
    n_train_before, n_train_after : int
    retrained_model : nn.Module
    """

    group: np.ndarray
    before: AttackSummary
    after: AttackSummary
    remaining_before: AttackSummary
    remaining_after: AttackSummary
    fingerprint_before: str
    fingerprint_after_delete: str
    delete_seconds: float
    retrain_seconds: float
    accuracy_before: float
    accuracy_after: float
    n_train_before: int
    n_train_after: int
    retrained_model: nn.Module

    @property
    def accuracy_cost(self) -> float:
        """Accuracy lost by retraining without the group (positive = worse)."""
        return self.accuracy_before - self.accuracy_after


def deletion_experiment(target_model: nn.Module, X, y, membership, group, *, attack: Callable,
                        build_model: Callable, recipe: Recipe, seed: int = 0, fpr: float = 0.01,
                        progress: bool = False) -> DeletionResult:
    """Delete a group of training records, attack, retrain without them, attack again (Lesson 08).

    Parameters
    ----------
    target_model : nn.Module in eval mode
        Trained on exactly the records ``X[membership == 1]`` (in that order).
    X : array-like of float, shape (n_records, ...)
        The candidate records: the target's members and non-members.
    y : array-like of int, shape (n_records,)
    membership : array-like of int, shape (n_records,)
        1 = member, 0 = non-member.
    group : indices or boolean mask, members only
        The records whose owners ask to be deleted (e.g. from `choose_group`).
    attack : callable nn.Module -> ndarray of float, shape (n_records,)
        Scores every record against a model, higher = more likely member (e.g. online LiRA with
        shadows trained on these candidates).
    build_model, recipe
        Architecture and recipe of the target: the retrained model uses the same.
    seed : int, default=0
        Seeds the retrained model's weights and batch order.
    fpr : float, default=0.01
    progress : bool, default=False

    Returns
    -------
    DeletionResult
    """
    if not isinstance(target_model, nn.Module):
        raise ValueError(f"target_model must be a torch.nn.Module, got {type(target_model).__name__}.")
    X, y = check_features_labels(X, y)
    membership = _membership(membership)
    if len(membership) != len(y):
        raise ValueError(f"membership has {len(membership)} entries but there are {len(y)} records.")
    mask = _group_mask(group, membership)
    if not callable(attack):
        raise ValueError(
            "attack must be a function model -> scores (one float per record), e.g. lambda m: lira_scores(m)."
        )
    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a utils.recipe.Recipe, got {type(recipe).__name__}.")
    seed = check_seed(seed)
    fpr = check_fraction(fpr, "fpr")
    nonmembers = membership == 0
    kept = (membership == 1) & ~mask

    def power(model):
        scores = np.asarray(attack(model), dtype=np.float64)
        if scores.shape != membership.shape:
            raise ValueError(
                f"attack(model) must return one score per record, shape {membership.shape}, got {scores.shape}."
            )
        remaining = np.flatnonzero(kept | nonmembers)
        return (group_power(scores, membership, mask, fpr=fpr),
                summarize_attack(membership[remaining], scores[remaining], fprs=(fpr,)))

    fingerprint_before = weights_fingerprint(target_model)
    # 1. delete the group's rows from the dataset (the database copy the owner controls)
    start = time.perf_counter()
    X_kept, y_kept = X[kept], y[kept]
    delete_seconds = time.perf_counter() - start
    fingerprint_after = weights_fingerprint(target_model)
    before, remaining_before = power(target_model)
    # 2. retrain from scratch on what is left
    start = time.perf_counter()
    retrained = train_model(init_model(build_model, seed), X_kept, y_kept, recipe, seed=seed, progress=progress)
    retrain_seconds = time.perf_counter() - start
    after, remaining_after = power(retrained)
    with torch.no_grad():
        acc_before = accuracy(predict_logits(target_model, X[nonmembers]), y[nonmembers])
        acc_after = accuracy(predict_logits(retrained, X[nonmembers]), y[nonmembers])
    return DeletionResult(
        group=np.flatnonzero(mask).astype(np.int64), before=before, after=after,
        remaining_before=remaining_before, remaining_after=remaining_after,
        fingerprint_before=fingerprint_before, fingerprint_after_delete=fingerprint_after,
        delete_seconds=delete_seconds, retrain_seconds=retrain_seconds,
        accuracy_before=acc_before, accuracy_after=acc_after,
        n_train_before=int((membership == 1).sum()), n_train_after=int(kept.sum()), retrained_model=retrained,
    )
