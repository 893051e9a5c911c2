"""Checks of arrays: features and labels, logits, membership bits and scores, indices and record sets,
observations of many models."""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_1d",
    "check_membership",
    "check_indices",
    "check_features_labels",
    "check_logits_labels",
    "check_observations",
    "check_in_mask",
    "check_subsets",
    "check_record_mask",
    "check_loss_scores",
]


def _to_numpy(x, name):
    try:
        import torch

        if isinstance(x, torch.Tensor):
            x = x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    try:
        return np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(
            f"{name} could not be turned into an array ({exc}). Pass a list or a NumPy array of numbers."
        ) from None


def as_1d(x, name: str, dtype=np.float64) -> np.ndarray:
    """`x` as a 1-D array of `dtype`; raises ValueError naming `name` for any other shape,
    for non-numeric values, and (for float dtypes) for NaN or infinite values."""
    arr = _to_numpy(x, name)
    if arr.ndim == 2 and 1 in arr.shape:
        raise ValueError(
            f"{name} must be 1-D with one value per record, got shape {arr.shape}. "
            f"Flatten it with np.ravel({name})."
        )
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D with one value per record, got shape {arr.shape}. "
            "Reduce each record to a single number first (e.g. its loss or its top confidence)."
        )
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(
            f"{name} must hold numbers, got dtype {arr.dtype}. Convert it with np.asarray({name}, dtype=float)."
        )
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(
            f"{name} must hold real numbers, got complex values (dtype {arr.dtype}). A score is one real number "
            "per record: take the real part only if you know the imaginary part is meaningless (np.real)."
        )
    if np.issubdtype(np.dtype(dtype), np.floating):
        arr = arr.astype(dtype)
        bad = ~np.isfinite(arr)
        if bad.any():
            first = np.flatnonzero(bad)[:5].tolist()
            raise ValueError(
                f"{name} contains {bad.sum()} NaN or infinite values (first at positions {first}). "
                "Compute scores from logits in float64 (e.g. clip probabilities away from 0 and 1), "
                "or drop those records from both labels and scores."
            )
    return arr


def check_membership(labels, scores, *, labels_name="labels", scores_name="scores"):
    """Validate an attack's output against membership truth.

    Returns ``(labels, scores)`` as ``int64`` and ``float64`` arrays of shape (n_records,).
    Raises ValueError for mismatched lengths, non-binary labels, a single class, NaN/inf scores.
    """
    labels_arr = _to_numpy(labels, labels_name)
    if labels_arr.ndim != 1:
        raise ValueError(
            f"{labels_name} must be 1-D with one 0/1 value per record, got shape {labels_arr.shape}. "
            f"Flatten it with np.ravel({labels_name})."
        )
    if labels_arr.dtype == bool:
        labels_arr = labels_arr.astype(np.int64)
    if not np.issubdtype(labels_arr.dtype, np.number):
        raise ValueError(
            f"{labels_name} must be 0 (non-member) or 1 (member), got dtype {labels_arr.dtype}. "
            "Encode membership as integers: 1 for training records, 0 for the others."
        )
    found = set(np.unique(labels_arr).tolist())
    if not found <= {0, 1}:
        hint = (
            " If you used -1/+1, convert with (labels + 1) // 2."
            if found <= {-1, 1}
            else " Use 1 for records in the training set and 0 for the others."
        )
        raise ValueError(
            f"{labels_name} must be 0 (non-member) or 1 (member); found {sorted(found)}.{hint}"
        )
    scores_arr = as_1d(scores, scores_name)
    if len(labels_arr) != len(scores_arr):
        raise ValueError(
            f"{labels_name} and {scores_name} need one entry per record, but {labels_name} has "
            f"{len(labels_arr)} entries and {scores_name} has {len(scores_arr)}. "
            "Compute scores on the same records, in the same order."
        )
    if len(found) < 2:
        only = "members (1)" if found == {1} else "non-members (0)" if found == {0} else "nothing"
        raise ValueError(
            f"{labels_name} holds only {only}; an ROC curve needs both members and non-members. "
            "Evaluate the attack on a mix of both."
        )
    return labels_arr.astype(np.int64), scores_arr


def check_indices(indices, name: str, n: int, *, unique: bool = True, allow_negative: bool = False) -> np.ndarray:
    """`indices` as a 1-D int64 array of positions into something of length `n`.

    Booleans (a mask is not a list of positions), floats (2.7 would be truncated), out-of-range
    positions and (when `unique`) repeated positions are refused with a message saying what to pass.
    Negative positions count from the end when `allow_negative` (and are returned as non-negative).
    """
    arr = _to_numpy(indices, name)
    if arr.ndim == 0:
        value = arr.item()
        raise ValueError(f"{name} must be a list of positions, got the single value {value!r}; write [{value!r}].")
    arr = arr.ravel()
    if arr.dtype == bool:
        raise ValueError(
            f"{name} holds booleans, which would be read as positions 0 and 1. Pass positions, "
            f"e.g. np.flatnonzero(mask), not the mask itself."
        )
    if len(arr) and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{name} must hold integer positions, got dtype {arr.dtype}; positions such as 2.7 would be truncated "
            f"silently. Convert with np.asarray({name}, dtype=int) if the values are whole numbers."
        )
    arr = arr.astype(np.int64)
    low = -n if allow_negative else 0
    if len(arr) and (arr.min() < low or arr.max() >= n):
        raise ValueError(
            f"{name} must hold positions in [{low}, {n}), found values from {int(arr.min())} to {int(arr.max())}."
        )
    arr = arr % n if (allow_negative and n > 0) else arr
    if unique and len(np.unique(arr)) != len(arr):
        values, counts = np.unique(arr, return_counts=True)
        raise ValueError(f"{name} lists positions more than once: {values[counts > 1][:10].tolist()}. List each once.")
    return arr


def check_features_labels(X, y, *, n_classes: int | None = None, X_name="X", y_name="y"):
    """Validate a dataset: `X` of shape (n_records, ...) finite floats, `y` of shape (n_records,)
    integer class labels in ``[0, n_classes)``.

    Returns ``(X, y)`` as float32 and int64 NumPy arrays.
    """
    X_arr = _to_numpy(X, X_name)
    if X_arr.ndim < 2:
        raise ValueError(
            f"{X_name} must have shape (n_records, n_features) or (n_records, channels, height, width), "
            f"got shape {X_arr.shape}. For a single record use {X_name}[None]."
        )
    if not np.issubdtype(X_arr.dtype, np.number) or np.issubdtype(X_arr.dtype, np.complexfloating):
        kind = "real numbers (not complex ones)" if np.issubdtype(X_arr.dtype, np.complexfloating) else "numbers"
        raise ValueError(
            f"{X_name} must hold {kind}, got dtype {X_arr.dtype}. "
            f"Convert it with np.asarray({X_name}, dtype=np.float32)."
        )
    X_arr = X_arr.astype(np.float32, copy=False)
    if not np.isfinite(X_arr).all():
        bad = np.flatnonzero(~np.isfinite(X_arr).reshape(len(X_arr), -1).all(axis=1))
        raise ValueError(
            f"{X_name} contains NaN or infinite values in {len(bad)} records (first at rows {bad[:5].tolist()}); "
            "clean or drop those records (from both X and y)."
        )
    y_arr = _to_numpy(y, y_name)
    if y_arr.ndim != 1:
        raise ValueError(
            f"{y_name} must be 1-D with one class label per record, got shape {y_arr.shape}. "
            f"If it is one-hot, use {y_name}.argmax(axis=1)."
        )
    if len(y_arr) != len(X_arr):
        raise ValueError(
            f"{X_name} and {y_name} need one entry per record, but {X_name} has {len(X_arr)} records "
            f"and {y_name} has {len(y_arr)}. Take both from the same records, in the same order."
        )
    if len(y_arr) == 0:
        raise ValueError(f"{X_name} and {y_name} are empty; pass at least one record.")
    if not np.issubdtype(y_arr.dtype, np.integer):
        if np.issubdtype(y_arr.dtype, np.floating) and np.all(np.mod(y_arr, 1) == 0):
            y_arr = y_arr.astype(np.int64)
        else:
            raise ValueError(
                f"{y_name} must hold integer class labels, got dtype {y_arr.dtype}"
                f"{' with non-integer values' if np.issubdtype(y_arr.dtype, np.floating) else ''}. "
                f"Pass class indices 0, 1, 2, ... (e.g. np.unique({y_name}, return_inverse=True)[1])."
            )
    y_arr = y_arr.astype(np.int64)
    if y_arr.min() < 0 or (n_classes is not None and y_arr.max() >= n_classes):
        allowed = "non-negative class labels" if n_classes is None else f"class labels in [0, {n_classes})"
        raise ValueError(
            f"{y_name} must hold {allowed}, found values from {int(y_arr.min())} to {int(y_arr.max())}. "
            f"Renumber the classes 0, 1, 2, ... (e.g. np.unique({y_name}, return_inverse=True)[1])"
            + ("." if n_classes is None else ", or build the model with more classes.")
        )
    return X_arr, y_arr


def check_logits_labels(logits, y, *, logits_name="logits", y_name="y"):
    """Validate model outputs against true classes.

    Parameters
    ----------
    logits : array-like of float, shape (..., n_records, n_classes)
        Raw model outputs; a leading model axis is allowed.
    y : array-like of int, shape (n_records,)
        Class labels in ``[0, n_classes)``.

    Returns
    -------
    (logits, y) : float64 array of the same shape, int64 array of shape (n_records,)
    """
    logits_arr = _to_numpy(logits, logits_name)
    if logits_arr.ndim < 2 or not np.issubdtype(logits_arr.dtype, np.number) or np.iscomplexobj(logits_arr):
        raise ValueError(
            f"{logits_name} must be numbers of shape (..., n_records, n_classes), got shape {logits_arr.shape} "
            f"and dtype {logits_arr.dtype}. For one record use {logits_name}[None]."
        )
    logits_arr = logits_arr.astype(np.float64)
    y_arr = _to_numpy(y, y_name)
    if y_arr.ndim != 1 or len(y_arr) != logits_arr.shape[-2]:
        raise ValueError(
            f"{y_name} must have one class label per record: {logits_name} covers {logits_arr.shape[-2]} records "
            f"(shape {logits_arr.shape}) but {y_name} has shape {y_arr.shape}."
        )
    if y_arr.dtype == bool or not (
        np.issubdtype(y_arr.dtype, np.integer)
        or (np.issubdtype(y_arr.dtype, np.floating) and np.all(np.mod(y_arr, 1) == 0))
    ):
        raise ValueError(
            f"{y_name} must hold integer class labels, got dtype {y_arr.dtype}. Convert with {y_name}.astype(int)."
        )
    y_arr = y_arr.astype(np.int64)
    n_classes = logits_arr.shape[-1]
    if len(y_arr) and (y_arr.min() < 0 or y_arr.max() >= n_classes):
        raise ValueError(
            f"{y_name} must hold class labels in [0, {n_classes}) for {n_classes} columns of {logits_name}, "
            f"found values from {int(y_arr.min())} to {int(y_arr.max())}."
        )
    if not np.isfinite(logits_arr).all():
        raise ValueError(
            f"{logits_name} contain {int((~np.isfinite(logits_arr)).sum())} NaN or infinite values; "
            "check the model's inputs (NaN in X?) and its training (a diverged loss?)."
        )
    return logits_arr, y_arr


# ----------------------------------------------------------------------------- observations of many models (attacks)


def check_observations(values, name: str, *, n_records: int | None = None) -> np.ndarray:
    """A 2-D float64 array (n_models, n_records) of finite per-model observations."""
    arr = _to_numpy(values, name)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name} must hold numbers, got dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{name} must hold real numbers, got complex values (dtype {arr.dtype}).")
    arr = arr.astype(np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n_models, n_records), got shape {arr.shape}.")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} holds no shadow models (shape {arr.shape}); train at least two.")
    if n_records is not None and arr.shape[1] != n_records:
        raise ValueError(
            f"{name} has {arr.shape[1]} records per model but the target was scored on {n_records}. "
            "Score the shadow models on the same records, in the same order."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; compute log-odds from logits in float64.")
    return arr


def check_in_mask(in_mask, shape, name: str = "in_mask") -> np.ndarray:
    """A bool array of `shape` (n_models, n_records): True where the record trained that model."""
    mask = _to_numpy(in_mask, name)
    if mask.shape != tuple(shape):
        raise ValueError(
            f"{name} must have shape {tuple(shape)} (one row per shadow model, one column per record), "
            f"got {mask.shape}. For shadows from utils.train.train_batched on these records use batch.in_mask."
        )
    if mask.dtype != bool:
        if not np.isin(mask, (0, 1)).all():
            raise ValueError(f"{name} must hold True/False (or 1/0), found other values.")
        mask = mask.astype(bool)
    return mask


def check_subsets(subsets, n_records: int) -> np.ndarray:
    """Which records train which model: a (K, n_train) int64 array of distinct indices below `n_records` per row."""
    try:
        arr = np.asarray(subsets)
    except Exception:
        arr = None
    if arr is None or arr.ndim != 2 or arr.dtype == object:
        lengths = sorted({len(s) for s in subsets}) if arr is None or arr.dtype == object else None
        extra = f" Subset sizes found: {lengths}." if lengths else ""
        raise ValueError(
            "subsets must be a 2-D array (K models, n_train indices each): every model trains on the "
            f"same number of records.{extra} Draw equal-size subsets, e.g. with rng.choice(n, size, replace=False)."
        )
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"subsets must hold at least one model and one record each, got shape {arr.shape}.")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"subsets must hold integer record indices, got dtype {arr.dtype}.")
    if arr.min() < 0 or arr.max() >= n_records:
        raise ValueError(f"subsets hold indices from {arr.min()} to {arr.max()}, but X has {n_records} records.")
    chosen = np.zeros((arr.shape[0], n_records), dtype=bool)
    np.put_along_axis(chosen, arr, True, axis=1)
    if (chosen.sum(axis=1) != arr.shape[1]).any():  # a record listed twice marks one cell, not two
        raise ValueError("each row of subsets must list distinct records (no index twice in one model's training set).")
    return arr.astype(np.int64)


def check_record_mask(values, name: str, n: int | None = None) -> np.ndarray:
    """One True/False (or 0/1) per record, as a bool array of shape (n,); `n` checks the length."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D with one entry per record, got shape {arr.shape}.")
    if arr.dtype != bool:
        if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
            raise ValueError(
                f"{name} must be True/False (or 0/1) per record; found values {np.unique(arr)[:5].tolist()}."
            )
        arr = arr.astype(bool)
    if n is not None and len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} entries but there are {n} records; take both from the same records.")
    return arr


def check_loss_scores(labels, scores):
    """Membership bits and the loss attack's scores (minus each record's loss, so <= 0), as two arrays."""
    labels, scores = check_membership(labels, scores)
    if np.any(scores > 0):
        raise ValueError(
            f"scores must be minus the loss of each record (<= 0), found {int(np.sum(scores > 0))} positive "
            f"values (largest {scores.max():.3g}). Use the loss attack's scores (utils.attacks.threshold, "
            "kind='loss'), or pass -losses."
        )
    return labels, scores
