"""The two worlds of the property-inference game: how their training sets are drawn (Lesson 04).

A *world* fixes everything about a training set except one global property: the fraction of
records from one group (women, zeros, Company X's customers). Two worlds differ only in that
fraction; the model, the recipe and the training-set size are the same.

`draw_training_sets` draws K training sets of one world from a pool of records, without
replacement inside a set. With ``label_rate`` set, every set also has that fraction of label 1
*in each group*, so group and label are independent inside the set and the base rate gives
nothing away (setting (b) of lesson 04).

>>> group = np.array([True] * 30 + [False] * 70)
>>> sets = draw_training_sets(group, fraction=0.5, n_train=40, n_sets=3, seed=0)
>>> sets.shape, group[sets].mean(axis=1).tolist()
((3, 40), [0.5, 0.5, 0.5])
"""

from __future__ import annotations

import numpy as np

from ..validation import check_fraction, check_positive_int, check_record_mask, check_seed

__all__ = ["draw_training_sets", "split_pool", "check_worlds", "group_counts"]


def check_worlds(fractions) -> tuple[float, float]:
    """The two worlds' group fractions as a pair of floats in [0, 1].

    Identical fractions are allowed (the null game: every attack must be at chance).
    """
    try:
        pair = tuple(fractions)
    except TypeError:
        raise ValueError(f"fractions must be a pair (world 0, world 1), e.g. (0.2, 0.5), got {fractions!r}.") from None
    if len(pair) != 2:
        raise ValueError(f"fractions must be a pair (world 0, world 1), e.g. (0.2, 0.5), got {len(pair)} values.")
    return tuple(check_fraction(f, f"fractions[{i}]", low_open=False, high_open=False) for i, f in enumerate(pair))


def group_counts(fraction: float, n_train: int, label_rate: float | None = None) -> dict:
    """How many records of each kind one training set of the world holds.

    Returns ``{True: k_group, False: n_train - k_group}``, or with `label_rate` a dict keyed by
    ``(in_group, label)`` whose counts put `label_rate` of label 1 in each group (rounded, the
    total is exactly `n_train`).
    """
    k = int(round(fraction * n_train))
    if label_rate is None:
        return {True: k, False: n_train - k}
    counts = {}
    for in_group, size in ((True, k), (False, n_train - k)):
        positives = int(round(label_rate * size))
        counts[(in_group, 1)], counts[(in_group, 0)] = positives, size - positives
    return counts


def split_pool(n_records: int, *, attacker_share: float = 0.5, stratify=None, seed: int = 0):
    """Split record indices into the attacker's share and the victims' share (disjoint).

    Parameters
    ----------
    n_records : int
    attacker_share : float, default=0.5
        Fraction of the records the attacker owns (its shadow models and queries draw from them).
    stratify : array-like, shape (n_records,), optional
        Keep the proportions of this column (e.g. group x label) in both shares.
    seed : int

    Returns
    -------
    attacker, victim : ndarray of int64
        Sorted, disjoint indices.
    """
    n_records = check_positive_int(n_records, "n_records", minimum=2)
    attacker_share = check_fraction(attacker_share, "attacker_share")
    rng = np.random.default_rng(check_seed(seed))
    keys = (
        np.zeros(n_records, dtype=np.int64)
        if stratify is None
        else np.unique(np.asarray(stratify), return_inverse=True)[1]
    )
    if len(keys) != n_records:
        raise ValueError(f"stratify has {len(keys)} entries but there are {n_records} records.")
    attacker = []
    for key in np.unique(keys):
        members = rng.permutation(np.flatnonzero(keys == key))
        attacker.append(members[: int(round(attacker_share * len(members)))])
    attacker = np.sort(np.concatenate(attacker))
    victim = np.setdiff1d(np.arange(n_records), attacker)
    return attacker, victim


def draw_training_sets(
    group,
    fraction: float,
    n_train: int,
    n_sets: int,
    *,
    pool=None,
    labels=None,
    label_rate: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """K training sets of one world: each holds exactly ``round(fraction * n_train)`` group records.

    Parameters
    ----------
    group : array-like of bool, shape (n_records,)
        True for records of the group whose share is the property.
    fraction : float in [0, 1]
        The world's share of group records in every training set.
    n_train : int
        Records per training set.
    n_sets : int
        How many training sets (models) to draw.
    pool : array-like of int, optional
        Indices the sets may use (the attacker's or the victims' share); default all records.
    labels : array-like of int, shape (n_records,), optional
        Binary labels; needed with `label_rate`.
    label_rate : float in (0, 1), optional
        Fix the fraction of label 1 inside each group of each set (setting (b)).
    seed : int

    Returns
    -------
    ndarray of int64, shape (n_sets, n_train)
        Row k: the record indices of training set k (distinct within a row; rows overlap).

    Raises
    ------
    ValueError
        If the pool holds fewer records of a kind than one set needs (an impossible world): the
        message gives the counts and what to change.
    """
    group = check_record_mask(group, "group")
    fraction = check_fraction(fraction, "fraction", low_open=False, high_open=False)
    n_train = check_positive_int(n_train, "n_train")
    n_sets = check_positive_int(n_sets, "n_sets")
    pool = np.arange(len(group)) if pool is None else np.asarray(pool)
    if pool.ndim != 1 or pool.dtype == bool or not np.issubdtype(pool.dtype, np.integer):
        raise ValueError(
            f"pool must be a 1-D array of record indices (integers), got dtype {pool.dtype} and shape {pool.shape}."
        )
    if len(pool) and (pool.min() < 0 or pool.max() >= len(group)):
        raise ValueError(f"pool holds indices from {pool.min()} to {pool.max()}, but there are {len(group)} records.")
    if label_rate is not None:
        if labels is None:
            raise ValueError("label_rate needs the labels: pass labels=y as well.")
        label_rate = check_fraction(label_rate, "label_rate")
        labels = np.asarray(labels)
        if labels.shape != group.shape or not np.isin(labels, (0, 1)).all():
            raise ValueError(f"labels must hold 0/1 per record, shape {group.shape}; got shape {labels.shape}.")
        kinds = {(g, lab): pool[(group[pool] == g) & (labels[pool] == lab)] for g in (True, False) for lab in (1, 0)}
    else:
        kinds = {g: pool[group[pool] == g] for g in (True, False)}
    counts = group_counts(fraction, n_train, label_rate)
    for kind, need in counts.items():
        have = len(kinds[kind])
        if need > have:
            what = (
                ("group" if kind is True else "other")
                if label_rate is None
                else f"{'group' if kind[0] else 'other'} records with label {kind[1]}"
            )
            raise ValueError(
                f"impossible world: a training set of {n_train} records with a group fraction of {fraction:g}"
                f"{'' if label_rate is None else f' and label rate {label_rate:g}'} needs {need} {what}"
                f"{' records' if label_rate is None else ''}, but the pool has only {have}. "
                "Use a smaller n_train, a fraction closer to the data's own, or a larger pool."
            )
    rng = np.random.default_rng(check_seed(seed))
    rows = np.empty((n_sets, n_train), dtype=np.int64)
    for k in range(n_sets):
        parts = [rng.choice(kinds[kind], size=need, replace=False) for kind, need in counts.items() if need]
        rows[k] = rng.permutation(np.concatenate(parts))
    return rows
