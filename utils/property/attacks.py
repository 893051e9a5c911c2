"""Property-inference attacks, from cheap to strong, in one call shape (Lesson 04).

Every attack here is *victim-level*: it answers one question per model ("which world was this
model's training set drawn from?"), not one per record as the membership attacks of
`utils.attacks` do. So the shape differs from their ``score(target, X, y, *, shadows)``::

    scores = attack(victims, *, shadows_world0, shadows_world1, query)

- ``victims``, ``shadows_world0``, ``shadows_world1``: `ModelBatch` es of one architecture;
- ``query``: the attacker's `Query` records and each world's weights over them;
- ``scores``: float64 array of shape (n_victims,), **higher = world 1**, and ``score > 0`` is the
  attack's guess "world 1" (each attack centres its scores at its own decision threshold).

The attacks (names as in `PROPERTY_ATTACKS` and `utils.plots.attack_style`):

- ``property-loss``: Suri & Evans (PETS 2022) loss test. A model fits its own world's data
  better: guess world 1 when the victim's loss on world-1 data is below its loss on world-0
  data. Needs data from both worlds but no shadow model at all.
- ``property-threshold``: Suri & Evans threshold test. The same two losses, measured on the
  shadows; the one that separates the shadow worlds best, at the best threshold, decides.
- ``property-kl``: Suri et al. (SaTML 2023) KL-divergence attack. For every pair of shadows
  (one per world), is the victim's output distribution on the query records closer (in KL
  divergence) to the world-1 shadow? The score is the share of pairs voting world 1, minus 1/2.
- ``meta-blackbox``: a logistic-regression meta-classifier over the victim's outputs (log-odds) on
  the fixed query records, trained on the shadows (Ateniese et al. 2015; Ganju et al. 2018).
- ``meta-whitebox``: the same over permutation-invariant features of the weights: the network's
  end-to-end linear map, per-input quantiles of the first layer over its neurons, and each
  layer's sorted biases (hidden neurons can be reordered freely without changing the model, so
  the features must not depend on their order; Ganju et al. 2018).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ..inference import predict_logits
from ..models import ModelBatch
from .game import MIN_SHADOWS, PropertyGame, Query
from .metrics import PropertyResult, evaluate_property_attack

__all__ = [
    "PROPERTY_ATTACKS",
    "MIN_META_SHADOWS",
    "loss_test",
    "threshold_test",
    "kl_attack",
    "meta_blackbox",
    "meta_whitebox",
    "whitebox_features",
    "kl_votes",
    "kl_matrix",
    "output_log_probs",
    "run_property_attacks",
]

MIN_META_SHADOWS = 5  # per world: a meta-classifier fit on fewer examples than that is a coin toss


# ----------------------------------------------------------------------------- shared checks and outputs
def _signature(batch: ModelBatch) -> dict:
    return {name: tuple(p.shape[1:]) for name, p in batch.params.items()}


def _check(victims, shadows_world0, shadows_world1, query, *, minimum=MIN_SHADOWS, need_shadows=True):
    for name, batch in (("victims", victims), ("shadows_world0", shadows_world0), ("shadows_world1", shadows_world1)):
        if not isinstance(batch, ModelBatch):
            raise ValueError(
                f"{name} must be a ModelBatch (as train_batched returns), got {type(batch).__name__}. "
                "For a list of models, train them with utils.train.train_batched."
            )
    if not isinstance(query, Query):
        raise ValueError(f"query must be a utils.property.Query, got {type(query).__name__}; take game.query.")
    if need_shadows:
        for name, batch in (("shadows_world0", shadows_world0), ("shadows_world1", shadows_world1)):
            if len(batch) < minimum:
                raise ValueError(
                    f"{name} holds {len(batch)} model(s); this attack needs at least {minimum} shadow models "
                    "per world. Train more shadows (n_shadows=...)."
                )
    reference = _signature(victims)
    for name, batch in (("shadows_world0", shadows_world0), ("shadows_world1", shadows_world1)):
        other = _signature(batch)
        if other != reference:
            diff = sorted(k for k in set(reference) | set(other) if reference.get(k) != other.get(k))
            raise ValueError(
                f"victims and {name} have different architectures (weights {diff[:3]} differ: "
                f"{[reference.get(k) for k in diff[:3]]} vs {[other.get(k) for k in diff[:3]]}). "
                "Shadows must copy the victim's architecture: build both with the same build_model."
            )


def output_log_probs(batch: ModelBatch, query: Query) -> np.ndarray:
    """Log-probabilities of every model of `batch` on the query records, float64 (K, n_query, n_classes)."""
    logits = predict_logits(batch, query.X)
    return logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)


def _world_losses(batch: ModelBatch, query: Query) -> np.ndarray:
    """(K, 2): each model's mean loss on world-0 data and on world-1 data (weighted query records)."""
    losses = -np.take_along_axis(output_log_probs(batch, query), query.y[None, :, None], axis=-1)[..., 0]
    return np.stack([losses @ query.weights0, losses @ query.weights1], axis=1)


# ----------------------------------------------------------------------------- Suri & Evans: loss and threshold tests
def loss_test(victims, *, shadows_world0, shadows_world1, query) -> np.ndarray:
    """Loss test: ``loss on world-0 data - loss on world-1 data`` of each victim (no shadow used).

    Returns float64 (n_victims,); > 0 means the victim fits world 1 better (guess world 1).
    """
    _check(victims, shadows_world0, shadows_world1, query, need_shadows=False)
    losses = _world_losses(victims, query)
    return losses[:, 0] - losses[:, 1]


def _best_threshold(values, labels) -> tuple[float, float, float]:
    """(accuracy, threshold, sign) of the best rule ``sign * (value - threshold) > 0`` -> label 1."""
    order = np.sort(np.unique(values))
    cuts = np.concatenate([[order[0] - 1.0], (order[1:] + order[:-1]) / 2, [order[-1] + 1.0]])
    best = (-1.0, 0.0, 1.0)
    for sign in (1.0, -1.0):
        accuracy = ((sign * (values[None, :] - cuts[:, None]) > 0) == (labels[None, :] == 1)).mean(axis=1)
        i = int(np.argmax(accuracy))
        if accuracy[i] > best[0]:
            best = (float(accuracy[i]), float(cuts[i]), sign)
    return best


def threshold_test(victims, *, shadows_world0, shadows_world1, query) -> np.ndarray:
    """Threshold test: the shadows pick which loss (on world-0 or world-1 data) and which cut decide.

    We threshold the mean loss rather than the accuracy Suri & Evans use: on a few hundred query
    records the loss separates models that the accuracy ties. Returns float64 (n_victims,).
    """
    _check(victims, shadows_world0, shadows_world1, query)
    shadow_losses = np.concatenate([_world_losses(shadows_world0, query), _world_losses(shadows_world1, query)])
    labels = np.repeat([0, 1], [len(shadows_world0), len(shadows_world1)])
    rules = [_best_threshold(shadow_losses[:, j], labels) for j in range(2)]
    j = int(np.argmax([r[0] for r in rules]))
    _, cut, sign = rules[j]
    return sign * (_world_losses(victims, query)[:, j] - cut)


# ----------------------------------------------------------------------------- Suri et al. 2023: KL divergence
def kl_votes(kl_to_world0, kl_to_world1) -> np.ndarray:
    """Share of shadow pairs voting world 1, minus 1/2.

    Parameters
    ----------
    kl_to_world0 : array-like, shape (n_shadows0, n_victims)
        KL divergence between each world-0 shadow's outputs and each victim's.
    kl_to_world1 : array-like, shape (n_shadows1, n_victims)

    Returns
    -------
    ndarray of float64, shape (n_victims,), in [-1/2, 1/2]
        A pair (i, j) votes world 1 when the victim is closer to world-1 shadow j than to world-0
        shadow i; a tie is half a vote.
    """
    d0, d1 = np.asarray(kl_to_world0, dtype=np.float64), np.asarray(kl_to_world1, dtype=np.float64)
    if d0.ndim != 2 or d1.ndim != 2 or d0.shape[1] != d1.shape[1]:
        raise ValueError(
            f"kl_to_world0 and kl_to_world1 must be (n_shadows, n_victims) with the same n_victims, "
            f"got {d0.shape} and {d1.shape}."
        )
    closer = (d1[None, :, :] < d0[:, None, :]).mean(axis=(0, 1)) + 0.5 * (d1[None, :, :] == d0[:, None, :]).mean(
        axis=(0, 1)
    )
    return closer - 0.5


def kl_matrix(shadow_log_probs, victim_log_probs, weights) -> np.ndarray:
    """KL divergence of each shadow's outputs from each victim's, averaged over the query records.

    Parameters
    ----------
    shadow_log_probs : ndarray, shape (n_shadows, n_query, n_classes)
    victim_log_probs : ndarray, shape (n_victims, n_query, n_classes)
        Log-probabilities, as `output_log_probs` returns.
    weights : ndarray, shape (n_query,)
        Non-negative weights of the records, summing to 1.

    Returns
    -------
    ndarray of float64, shape (n_shadows, n_victims), in nats: sum_q w_q KL(shadow_q || victim_q).
    """
    p = np.exp(shadow_log_probs)
    own = np.einsum("sqc,sqc,q->s", p, shadow_log_probs, weights)
    cross = np.einsum("sqc,vqc,q->sv", p, victim_log_probs, weights)
    return own[:, None] - cross


def kl_attack(victims, *, shadows_world0, shadows_world1, query) -> np.ndarray:
    """KL-divergence attack: pairwise votes over shadows on query records of both worlds.

    Returns float64 (n_victims,) in [-1/2, 1/2].
    """
    _check(victims, shadows_world0, shadows_world1, query)
    weights = 0.5 * (query.weights0 + query.weights1)  # records from both worlds
    v = output_log_probs(victims, query)
    return kl_votes(
        kl_matrix(output_log_probs(shadows_world0, query), v, weights),
        kl_matrix(output_log_probs(shadows_world1, query), v, weights),
    )


# ----------------------------------------------------------------------------- meta-classifiers
def _meta(features0, features1, victim_features, C) -> np.ndarray:
    X = np.concatenate([features0, features1])
    labels = np.repeat([0, 1], [len(features0), len(features1)])
    # Imported here, when used: scikit-learn takes about a second to import.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000))
    model.fit(X, labels)
    return model.decision_function(victim_features).astype(np.float64)


def _blackbox_features(batch, query) -> np.ndarray:
    log_probs = output_log_probs(batch, query)
    if log_probs.shape[-1] == 2:  # binary: the log-odds says it all
        return log_probs[..., 1] - log_probs[..., 0]
    return log_probs.reshape(len(batch), -1)


def meta_blackbox(victims, *, shadows_world0, shadows_world1, query, C: float = 0.05) -> np.ndarray:
    """Black-box meta-classifier over each model's log-odds on the query records.

    `C` is the inverse L2 strength of the logistic regression (few shadows, many features: keep
    it small). Returns the decision function, float64 (n_victims,).
    """
    _check(victims, shadows_world0, shadows_world1, query, minimum=MIN_META_SHADOWS)
    return _meta(
        _blackbox_features(shadows_world0, query),
        _blackbox_features(shadows_world1, query),
        _blackbox_features(victims, query),
        C,
    )


def _linear_layers(batch: ModelBatch) -> list[tuple[torch.Tensor, torch.Tensor]]:
    weights = [(n, p) for n, p in batch.params.items() if n.endswith("weight")]
    layers = []
    for name, w in weights:
        bias = batch.params.get(name[: -len("weight")] + "bias")
        if w.ndim != 3 or bias is None:
            raise ValueError(
                f"white-box features are defined for MLPs (stacked Linear layers with biases); weight {name!r} has "
                f"shape {tuple(w.shape[1:])}. Use meta-blackbox for this architecture."
            )
        layers.append((w.double(), bias.double()))
    for (w, _), (w_next, _) in zip(layers, layers[1:]):
        if w_next.shape[2] != w.shape[1]:
            raise ValueError("white-box features need the Linear layers in forward order, each feeding the next.")
    return layers


def whitebox_features(batch: ModelBatch) -> np.ndarray:
    """Permutation-invariant features of each MLP's weights, float64 (K, n_features).

    Reordering the neurons of a hidden layer (and the matching columns of the next layer) leaves
    the model unchanged, so none of these depends on that order: the product of all weight
    matrices (n_classes x n_inputs) and the bias it carries, per-input quantiles (10, 50, 90%)
    and mean absolute value of the first layer's weights over its neurons, and each hidden
    layer's biases, sorted.
    """
    layers = _linear_layers(batch)
    product, offset = layers[0]
    for w, b in layers[1:]:
        product = torch.bmm(w, product)
        offset = torch.bmm(w, offset[..., None])[..., 0] + b
    first = layers[0][0]  # (K, hidden, inputs)
    quantiles = torch.quantile(first, torch.tensor([0.1, 0.5, 0.9], dtype=first.dtype), dim=1)  # (3, K, inputs)
    parts = [product.flatten(1), offset, quantiles.permute(1, 0, 2).flatten(1), first.abs().mean(dim=1)]
    parts += [torch.sort(b, dim=1).values for _, b in layers[:-1]]
    return torch.cat(parts, dim=1).cpu().numpy()


def meta_whitebox(victims, *, shadows_world0, shadows_world1, query, C: float = 0.05) -> np.ndarray:
    """White-box meta-classifier over `whitebox_features`; `query` is only checked. Float64 (n_victims,)."""
    _check(victims, shadows_world0, shadows_world1, query, minimum=MIN_META_SHADOWS)
    return _meta(whitebox_features(shadows_world0), whitebox_features(shadows_world1), whitebox_features(victims), C)


PROPERTY_ATTACKS = {
    "property-loss": loss_test,
    "property-threshold": threshold_test,
    "property-kl": kl_attack,
    "meta-blackbox": meta_blackbox,
    "meta-whitebox": meta_whitebox,
}


def run_property_attacks(game: PropertyGame, attacks=None) -> list[PropertyResult]:
    """Run each attack named in `attacks` (default all of `PROPERTY_ATTACKS`) on `game`'s victims.

    Returns one `PropertyResult` per attack, in order: accuracy over the held-out victims, its
    95% Clopper-Pearson interval, n_leaked and the seconds the attack took.
    """
    names = list(PROPERTY_ATTACKS) if attacks is None else list(attacks)
    unknown = [n for n in names if n not in PROPERTY_ATTACKS]
    if unknown:
        raise ValueError(f"unknown property attack(s) {unknown}; choose from {list(PROPERTY_ATTACKS)}.")
    results = []
    for name in names:
        start = time.perf_counter()
        scores = PROPERTY_ATTACKS[name](
            game.victims, shadows_world0=game.shadows0, shadows_world1=game.shadows1, query=game.query
        )
        results.append(
            evaluate_property_attack(
                scores, game.worlds, game.fractions, attack=name, seconds=time.perf_counter() - start
            )
        )
    return results
