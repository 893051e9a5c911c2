"""SISA-style sharded training: exact unlearning by retraining only the shards that held a record (Lesson 10).

Bourtoule et al. (2021), "Machine Unlearning": split the training set into disjoint *shards*,
train one model per shard, and answer with the ensemble (here: the mean of the shards' softmax
probabilities). To forget a record, retrain only its shard without it. No other shard ever saw the
record, so the result is exactly the ensemble one would have trained without it: exact by
construction. The price is paid up front: each shard model learns from a fraction of the data.

Shards are assigned by record *index* (a seeded permutation of all the records of X), so the
records that remain after a deletion keep their shards; each shard is trained by the batched
trainer on its own (`_train_shard`), with its own seed, so that a retrained shard is bit for bit
the shard one would train from scratch on the same records. (Shards trained in one batch differ
from shards trained alone in the last bits of float rounding.)

    sisa = train_sisa(request, n_shards=5, seed=0)       # the deployed ensemble
    unlearned = unlearn_sisa(sisa, request)              # retrains the shards that held a forget record
    unlearned.retrained                                  # which shards that took
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..inference import predict_logits
from ..models import ModelBatch
from ..seed import spawn_seeds
from ..train import train_batched
from ..validation import check_positive_int, check_seed
from .methods import register_method
from .request import UnlearningRequest

__all__ = ["ShardedModels", "shard_of", "train_sisa", "unlearn_sisa", "sisa_logits"]


def shard_of(n_records: int, n_shards: int, *, seed: int) -> np.ndarray:
    """Shard of every record index: (n_records,) int64 in [0, n_shards), from a seeded permutation."""
    order = np.random.default_rng(check_seed(seed)).permutation(check_positive_int(n_records, "n_records"))
    shards = np.empty(n_records, np.int64)
    shards[order] = np.arange(n_records) % check_positive_int(n_shards, "n_shards")
    return shards


@dataclass(frozen=True)
class ShardedModels:
    """K SISA ensembles of S shard models each (Lesson 10).

    Attributes
    ----------
    shards : list (K) of list (S) of ModelBatch
        Shard model s of ensemble k, each a ModelBatch of one model.
    records : list (K) of list (S) of ndarray of int64
        The records that trained each shard model.
    seeds : ndarray of int64, shape (K, S)
        Each shard model's training seed.
    retrained : ndarray of bool, shape (K, S)
        Which shard models the last unlearning retrained (all False after `train_sisa`).
    """

    shards: list
    records: list
    seeds: np.ndarray
    retrained: np.ndarray = field(default=None)

    @property
    def n_models(self) -> int:
        return len(self.shards)

    @property
    def n_shards(self) -> int:
        return len(self.shards[0])


def _train_shard(request: UnlearningRequest, rows: np.ndarray, seed: int) -> ModelBatch:
    # One shard alone in its batch: a retrained shard is then bit for bit a shard trained from scratch on its rows.
    return train_batched(request.build_model, request.X, request.y, np.asarray(rows)[None], request.recipe,
                         seed=int(seed))


def train_sisa(request: UnlearningRequest, *, n_shards: int = 5, seed: int = 0, rows=None,
               progress: bool = False) -> ShardedModels:
    """Train K SISA ensembles, ensemble k on ``request.trained[k]`` (or on `rows[k]`) split into shards.

    Parameters
    ----------
    request : UnlearningRequest
    n_shards : int, default=5
    seed : int, default=0
        Seeds the shard assignment and the shard models.
    rows : sequence (K) of arrays of int, optional
        Train on these records instead of ``request.trained`` (e.g. the retained records, to compare
        unlearning with SISA trained from scratch without the forget set).

    Returns
    -------
    ShardedModels
    """
    from utils.progress import progress_bar

    n_shards = check_positive_int(n_shards, "n_shards", minimum=2)
    assign_seed, model_seed = spawn_seeds(check_seed(seed), 2)
    shard = shard_of(len(request.y), n_shards, seed=assign_seed)
    rows = request.trained if rows is None else rows
    seeds = np.array(spawn_seeds(model_seed, request.n_models * n_shards), np.int64).reshape(-1, n_shards)
    shards, records = [], []
    bar = progress_bar(total=request.n_models * n_shards, desc="training shard models", disable=not progress,
                       leave=False)
    for k, row in enumerate(rows):
        row = np.sort(np.asarray(row, np.int64))
        records.append([row[shard[row] == s] for s in range(n_shards)])
        if min(len(r) for r in records[-1]) < 1:
            raise ValueError(f"ensemble {k} has an empty shard: use fewer than {n_shards} shards for {len(row)} "
                             "records.")
        shards.append([_train_shard(request, r, seeds[k, s]) for s, r in enumerate(records[-1])])
        bar.update(n_shards)
    bar.close()
    return ShardedModels(shards, records, seeds, np.zeros(seeds.shape, bool))


@register_method("sisa")
def unlearn_sisa(original: ShardedModels, request: UnlearningRequest, *, steps: int = 0,
                 seed: int = 0) -> ShardedModels:
    """Forget ``request.forget[k]`` in ensemble k: retrain every shard that held one of them (exact).

    Shards that held no forget record are kept as they are (the same models). A retrained shard uses
    its original seed, so it equals the shard SISA would train from scratch without the forget set.
    `steps` and `seed` are accepted for the common call shape and ignored.
    """
    if not isinstance(original, ShardedModels):
        raise ValueError(f"sisa unlearns a ShardedModels from train_sisa, got {type(original).__name__}; SISA must "
                         "be chosen before training, it cannot unlearn an ordinary model.")
    if original.n_models != request.n_models:
        raise ValueError(f"original holds {original.n_models} ensembles but the request describes {request.n_models}.")
    shards, records, retrained = [], [], np.zeros(original.seeds.shape, bool)
    for k in range(original.n_models):
        forget = request.forget[k]
        row_models, row_records = [], []
        for s, (model, rows) in enumerate(zip(original.shards[k], original.records[k])):
            hit = np.isin(rows, forget)
            if hit.any():
                rows = rows[~hit]
                model = _train_shard(request, rows, original.seeds[k, s])
                retrained[k, s] = True
            row_models.append(model)
            row_records.append(rows)
        shards.append(row_models)
        records.append(row_records)
    return ShardedModels(shards, records, original.seeds, retrained)


def sisa_logits(models: ShardedModels, X) -> np.ndarray:
    """Each ensemble's log mean shard probability: (K, n_records, n_classes) float64 (usable as logits)."""
    if not isinstance(models, ShardedModels):
        raise ValueError(f"models must be a ShardedModels, got {type(models).__name__}.")
    out = []
    for row in models.shards:
        logits = np.stack([predict_logits(m, X)[0] for m in row])  # (S, n, C)
        log_p = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
        out.append(np.logaddexp.reduce(log_p, axis=0) - np.log(len(row)))
    return np.stack(out)
