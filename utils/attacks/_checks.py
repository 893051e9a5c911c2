"""Input checks shared by the attack modules (built on `utils.validation`)."""

from __future__ import annotations

import numpy as np
from torch import nn

from ..models import ModelBatch

__all__ = ["check_model", "check_observations", "check_in_mask"]


def check_model(model, name: str = "target_model", *, allow_batch: bool = True):
    """`model` must be an ``nn.Module`` in eval mode (or a `ModelBatch` when `allow_batch`)."""
    if allow_batch and isinstance(model, ModelBatch):
        if len(model) == 0:
            raise ValueError(f"{name} holds no models; train at least one shadow model.")
        return model
    if not isinstance(model, nn.Module):
        kinds = "a torch.nn.Module or a utils.train.ModelBatch" if allow_batch else "a torch.nn.Module"
        raise ValueError(f"{name} must be {kinds}, got {type(model).__name__}.")
    if model.training:
        raise ValueError(
            f"{name} is in training mode, so dropout would make its answers random. An attacker queries the "
            f"released model: call {name}.eval() first (utils.train.train_model already returns it in eval mode)."
        )
    return model


def check_observations(values, name: str, *, n_records: int | None = None) -> np.ndarray:
    """A 2-D float64 array (n_models, n_records) of finite per-model observations."""
    arr = np.asarray(values, dtype=np.float64) if not hasattr(values, "detach") else values.detach().cpu().numpy()
    arr = np.asarray(arr, dtype=np.float64)
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
    mask = np.asarray(in_mask)
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

