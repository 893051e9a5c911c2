"""How exposed each victim's individual records are: lesson 02's loss attack on every victim (Lesson 04).

Course question 2 sets a group's secret (a property of the training set) against its members'
secrets (each record's membership). `member_aucs` measures the second on the same victims the
property attacks read: for victim k, the AUC of the loss attack (score = minus the loss) telling
its own training records from as many records of the same pool it never saw.

Each victim is evaluated on its own records only (members plus an equal number of non-members),
so the cost is ``K x 2 n_train`` forward passes, not ``K x pool``.

>>> ranks_auc(np.array([[3.0, 2.0, 1.0, 0.0]]), np.array([[1, 1, 0, 0]]))
array([1.])
>>> ranks_auc(np.array([[1.0, 1.0]]), np.array([[1, 0]]))
array([0.5])
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import rankdata
from torch.func import functional_call, vmap

from ..inference import per_record_loss
from ..models import ModelBatch
from ..validation import check_features_labels, check_seed

__all__ = ["member_aucs", "ranks_auc", "victims_accuracy", "victims_lira_offline"]


def ranks_auc(scores, labels) -> np.ndarray:
    """Row-wise ROC AUC from ranks (Mann-Whitney U), ties counted as one half.

    Parameters
    ----------
    scores : array-like of float, shape (K, n)
        Higher = more likely label 1.
    labels : array-like of 0/1, shape (K, n)
        Every row holds both labels.

    Returns
    -------
    ndarray of float64, shape (K,)
    """
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    if scores.ndim != 2 or scores.shape != labels.shape:
        raise ValueError(
            f"scores and labels must be (K, n) arrays of one shape, got {scores.shape} and {labels.shape}."
        )
    positive = labels == 1
    n1 = positive.sum(axis=1)
    n0 = scores.shape[1] - n1
    if (n1 == 0).any() or (n0 == 0).any():
        raise ValueError("every row of labels needs both a 1 and a 0 for an AUC.")
    ranks = rankdata(scores, axis=1)  # average ranks for ties
    return ((ranks * positive).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


@torch.no_grad()
def member_aucs(victims: ModelBatch, X, y, *, pool=None, seed: int = 0) -> np.ndarray:
    """The loss attack's AUC on each victim: its training records vs as many it never saw.

    Parameters
    ----------
    victims : ModelBatch
        Models trained on ``X[victims.subsets[k]]``.
    X : array-like of float, shape (n_records, n_features)
    y : array-like of int, shape (n_records,)
        The records the victims were trained on (indices as in ``victims.subsets``).
    pool : array-like of int, optional
        Where non-members are drawn from (default: every record some victim trained on, i.e.
        the victims' share of the data, so members and non-members come from one distribution).
    seed : int

    Returns
    -------
    ndarray of float64, shape (n_victims,): 0.5 = the attack cannot tell members from strangers.
    """
    index, logits = _victims_on_their_records(victims, X, y, pool, seed)
    y = np.asarray(y)
    losses = np.stack([per_record_loss(logits[k], y[index[k]]) for k in range(len(index))])
    labels = np.zeros(index.shape, dtype=np.int64)
    labels[:, : index.shape[1] // 2] = 1
    return ranks_auc(-losses, labels)


@torch.no_grad()
def _victims_on_their_records(victims: ModelBatch, X, y, pool, seed):
    """Each victim's members plus as many strangers from `pool`, and its logits on them.

    Returns index, int64 (K, 2 m) with members first, and logits, float64 (K, 2 m, n_classes).
    """
    if not isinstance(victims, ModelBatch):
        raise ValueError(f"victims must be a ModelBatch, got {type(victims).__name__}.")
    X, y = check_features_labels(X, y)
    if victims.n_records is not None and victims.n_records != len(y):
        raise ValueError(
            f"the victims were trained on {victims.n_records} records, but X holds {len(y)}; "
            "pass the records whose indices victims.subsets lists."
        )
    pool = np.unique(victims.subsets) if pool is None else np.unique(np.asarray(pool, dtype=np.int64))
    rng = np.random.default_rng(check_seed(seed))
    rows = []
    for subset in victims.subsets:
        members = np.unique(subset)
        strangers = np.setdiff1d(pool, members, assume_unique=True)
        if len(strangers) < len(members):
            raise ValueError(
                f"the pool holds {len(strangers)} records a victim never saw, fewer than its {len(members)} members; "
                "pass a larger pool."
            )
        rows.append(np.concatenate([members, rng.choice(strangers, len(members), replace=False)]))
    index = np.stack(rows)
    device = next(iter(victims.params.values())).device
    call = vmap(lambda p, xb: functional_call(victims.base, p, (xb,)), in_dims=(0, 0))
    return index, call(victims.params, torch.from_numpy(X[index]).to(device)).double().cpu().numpy()


def victims_lira_offline(victims: ModelBatch, shadows, X, y, *, pool=None, seed: int = 0):
    """Offline LiRA (Lesson 03) against every victim, its members vs as many strangers, pooled (Lesson 06b).

    The game's shadows were trained on the attacker's share, so none saw a victim's records: every
    shadow is an OUT model for every record, which is what offline LiRA needs (one Gaussian per
    record, global variance).

    Parameters
    ----------
    victims : ModelBatch
    shadows : ModelBatch or sequence of ModelBatch
        The game's shadows (both worlds'), trained on records no victim saw.
    X, y : the records the models were trained on (indices as in their ``subsets``)
    pool, seed : as in `member_aucs` (the same strangers for the same seed)

    Returns
    -------
    labels : ndarray of int64, shape (K * 2 m,)
        1 = the victim trained on the record.
    scores : ndarray of float64, shape (K * 2 m,)
        Higher = more likely member; pooled over the K victims, as lesson 03 pools targets.
    """
    from ..attacks.lira import likelihood_ratio_offline, shadow_log_odds
    from ..attacks.signals import score_log_odds

    batches = [shadows] if isinstance(shadows, ModelBatch) else list(shadows)
    if not batches or not all(isinstance(b, ModelBatch) for b in batches):
        raise ValueError("shadows must be a ModelBatch or a list of them (the game's shadows of both worlds).")
    index, logits = _victims_on_their_records(victims, X, y, pool, seed)
    X, y = check_features_labels(X, y)
    if any(np.isin(index, np.unique(b.subsets)).any() for b in batches):
        raise ValueError("some shadow trained on a victim's record: offline LiRA needs shadows that never saw them; "
                         "use the game's shadows, trained on the attacker's share.")
    records = np.unique(index)
    reference = np.concatenate([shadow_log_odds(b, X[records], y[records]) for b in batches])  # (n_shadows, n)
    column = {r: i for i, r in enumerate(records)}
    labels, scores = [], []
    for k in range(len(index)):
        cols = [column[r] for r in index[k]]
        target = score_log_odds(logits[k], y[index[k]])
        scores.append(likelihood_ratio_offline(target, reference[:, cols], global_variance=True))
        labels.append(np.r_[np.ones(index.shape[1] // 2, np.int64), np.zeros(index.shape[1] - index.shape[1] // 2,
                                                                                np.int64)])
    return np.concatenate(labels), np.concatenate(scores)


def victims_accuracy(victims: ModelBatch, X, y, *, pool=None, seed: int = 0) -> np.ndarray:
    """Each victim's accuracy on as many records it never saw as it trained on (its strangers), (K,) float64."""
    index, logits = _victims_on_their_records(victims, X, y, pool, seed)
    strangers = index[:, index.shape[1] // 2:]
    return (logits[:, index.shape[1] // 2:].argmax(-1) == np.asarray(y)[strangers]).mean(axis=1)
