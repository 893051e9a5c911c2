"""The records of an audit of your own model: members, non-members and the attacker's population (Lesson 08).

To audit a model you bring, you need what the data owner has: which records trained it. From one
table, `split_own_data` draws the training records (the members), as many records the model never
saw (the non-members) and a disjoint population for RMIA, after dropping exact duplicate records:
a record that is both a member and a non-member (two people with identical rows) has no true
membership to measure.

    data = split_own_data(table.X, table.y, n_members=1000, n_population=2000, seed=0)
    forest = RandomForestClassifier(n_estimators=50).fit(data.X_train, data.y_train)
    run_audit(forest, ThreatModel(), data.X, data.y, data.membership, population=data.population)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import check_features_labels, check_positive_int, check_seed

__all__ = ["OwnData", "split_own_data"]


@dataclass(frozen=True)
class OwnData:
    """Disjoint record sets for an audit.

    Attributes
    ----------
    X_train, y_train : ndarrays, shapes (n_members, ...), (n_members,)
        The records the audited model trains on.
    X, y : ndarrays, shapes (2 * n_members, ...), (2 * n_members,)
        The candidates: the members, then as many non-members.
    membership : ndarray of int64, shape (2 * n_members,)
        1 for the members, 0 for the non-members.
    population : tuple (X_pop, y_pop)
        `n_population` other records, the attacker's own (RMIA's population).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X: np.ndarray
    y: np.ndarray
    membership: np.ndarray
    population: tuple


def split_own_data(X, y, *, n_members: int, n_population: int, seed: int = 0) -> OwnData:
    """Members, non-members and a population drawn from one table, without duplicate records.

    Parameters
    ----------
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    n_members : int
        Training records; as many non-members are drawn.
    n_population : int
    seed : int, default=0

    Returns
    -------
    OwnData
    """
    X, y = check_features_labels(X, y)
    n_members = check_positive_int(n_members, "n_members")
    n_population = check_positive_int(n_population, "n_population")
    rng = np.random.RandomState(check_seed(seed))
    rows = np.concatenate([X.reshape(len(X), -1).astype(np.float64), y[:, None]], axis=1)
    _, first, counts = np.unique(rows, axis=0, return_index=True, return_counts=True)
    unique = np.sort(first[counts == 1])  # a record with an exact copy elsewhere has no single membership
    needed = 2 * n_members + n_population
    if needed > len(unique):
        raise ValueError(
            f"{needed:,} records are needed (2 x {n_members:,} candidates + {n_population:,} population), but the "
            f"table has {len(unique):,} records without an exact copy; ask for fewer."
        )
    order = rng.permutation(unique)
    members, non_members, pool = np.split(order[:needed], [n_members, 2 * n_members])
    candidates = np.concatenate([members, non_members])
    return OwnData(
        X_train=X[members], y_train=y[members], X=X[candidates], y=y[candidates],
        membership=np.repeat(np.array([1, 0], dtype=np.int64), n_members), population=(X[pool], y[pool]),
    )
