"""Inference and scoring: logits of one model or of a `ModelBatch`, per-record losses, accuracy.

Everything downstream (attacks, checks, plots) starts from `predict_logits`, which returns
float64 so that losses and log-odds keep their low-FPR resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

from .models import ModelBatch, model_device, model_n_classes
from .validation import check_features_labels, check_logits_labels

__all__ = ["predict_logits", "per_record_loss", "accuracy", "evaluate", "Evaluation"]


def _check_records(model, X) -> np.ndarray:
    """`X` as float32 records the model can take: a clear error before torch's matmul would raise one."""
    X = np.asarray(X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X)
    if X.ndim < 2:
        raise ValueError(f"X must have shape (n_records, ...), got {X.shape}. For one record use X[None].")
    if len(X) == 0:
        raise ValueError(f"X holds no records (shape {X.shape}); pass at least one record to query the model.")
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) or np.iscomplexobj(X):
        raise ValueError(
            f"X must hold real numbers, got dtype {X.dtype}. Convert it with np.asarray(X, dtype=np.float32)."
        )
    base = model.base if isinstance(model, ModelBatch) else model
    expected = getattr(base, "in_features", None)
    if isinstance(expected, int) and int(np.prod(X.shape[1:])) != expected:
        raise ValueError(
            f"the model takes records of {expected} features, but X has records of shape {X.shape[1:]} "
            f"({int(np.prod(X.shape[1:]))} features). Query it with the kind of records it was trained on."
        )
    return X.astype(np.float32, copy=False)


def _forward(call, X, batch_size):
    try:
        return [call(torch.from_numpy(X[i : i + batch_size])) for i in range(0, len(X), batch_size)]
    except RuntimeError as exc:
        raise ValueError(
            f"the model cannot take records of shape {X.shape[1:]} ({exc}). "
            "Query it with the kind of records it was trained on."
        ) from None


@torch.no_grad()
def predict_logits(model, X, *, batch_size: int = 4096) -> np.ndarray:
    """Logits of one model or of every model in a `ModelBatch`, as float64.

    Parameters
    ----------
    model : nn.Module or ModelBatch
    X : array-like of float, shape (n_records, ...), at least one record

    Returns
    -------
    ndarray of float64, shape (n_records, n_classes) for a module, (K, n_records, n_classes) for a batch.
        Float64 so that losses and log-odds computed from it keep their low-FPR resolution.
    """
    if isinstance(model, type) or not isinstance(model, (nn.Module, ModelBatch)):
        what = f"the class {model.__name__}" if isinstance(model, type) else type(model).__name__
        raise ValueError(f"model must be a torch.nn.Module or a ModelBatch, got {what}.")
    X = _check_records(model, X)
    if isinstance(model, ModelBatch):
        params = model.params
        device = next(iter(params.values())).device
        call = vmap(lambda p, xb: functional_call(model.base, p, (xb,)), in_dims=(0, None))
        chunks = _forward(lambda xb: call(params, xb.to(device)), X, batch_size)
        return torch.cat(chunks, dim=1).double().cpu().numpy()
    was_training = model.training
    model.eval()
    device = model_device(model)
    try:
        out = _forward(lambda xb: model(xb.to(device)), X, batch_size)
    finally:
        model.train(was_training)
    return torch.cat(out).double().cpu().numpy()


def per_record_loss(logits, y) -> np.ndarray:
    """Cross-entropy of each record, computed stably in float64.

    Parameters
    ----------
    logits : array-like of float, shape (..., n_records, n_classes)
    y : array-like of int, shape (n_records,)

    Returns
    -------
    ndarray of float64, shape (..., n_records); ``-log softmax(logits)[y]``, in nats.
    """
    logits, y = check_logits_labels(logits, y)
    top = logits.max(axis=-1, keepdims=True)
    log_norm = top[..., 0] + np.log(np.exp(logits - top).sum(axis=-1))
    true_logit = np.take_along_axis(logits, np.broadcast_to(y[:, None], logits.shape[:-1] + (1,)), axis=-1)[..., 0]
    return log_norm - true_logit


def accuracy(logits, y) -> float:
    """Fraction of records whose highest logit is the true class. `logits` (..., n, C), `y` (n,)."""
    logits, y = check_logits_labels(logits, y)
    return float((logits.argmax(axis=-1) == y).mean())


@dataclass(frozen=True)
class Evaluation:
    """Mean cross-entropy (nats) and accuracy of a model on a set of records."""

    loss: float
    accuracy: float


def evaluate(model: nn.Module, X, y) -> Evaluation:
    """Mean loss and accuracy of `model` on ``(X, y)``."""
    if not isinstance(model, nn.Module):
        raise ValueError(
            f"model must be one torch.nn.Module, got {type(model).__name__}. "
            "For a ModelBatch, evaluate one model with batch.model(k)."
        )
    X, y = check_features_labels(X, y, n_classes=model_n_classes(model))
    logits = predict_logits(model, X)
    return Evaluation(loss=float(per_record_loss(logits, y).mean()), accuracy=accuracy(logits, y))
