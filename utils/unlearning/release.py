"""The deletion request on lesson 08's released model: every method, timed, with its accuracy (Lesson 10).

`unlearn_release` applies each method of `utils.unlearning.methods` to the released model for one
forget set and measures what the company sees: wall time (against retraining), accuracy on the
held-out records, what became of the forget set (accuracy, loss), and the population test on it
(forget set vs the held-out records). SISA cannot unlearn the released model (it must be chosen
before training), so its ensemble is trained on the same members first and that training is
reported apart; its exactness is checked: the unlearned ensemble's answers equal, bit for bit, those
of SISA trained from scratch without the forget set. Everything returned is plain numbers and
arrays (for `utils.cache.cached`).
"""

from __future__ import annotations

import time

import numpy as np

from ..inference import per_record_loss, predict_logits
from .audits import population_test
from .methods import APPROXIMATE, as_batch, get_method, retrain
from .request import make_request
from .sisa import sisa_logits, train_sisa, unlearn_sisa

__all__ = ["unlearn_release"]


def _measure(logits, y, forget, heldout) -> dict:
    """Accuracy on the held-out records and on the forget set, the forget set's mean loss, the population test."""
    losses = per_record_loss(logits, y)
    correct = logits.argmax(axis=-1) == y
    labels = np.r_[np.ones(len(forget), np.int64), np.zeros(len(heldout), np.int64)]
    population = population_test(np.r_[losses[forget], losses[heldout]], labels)
    return {"test_acc": float(correct[heldout].mean()), "forget_acc": float(correct[forget].mean()),
            "forget_loss": float(losses[forget].mean()), "population_auc": population.auc}


def unlearn_release(release, forget, *, steps: dict, n_shards: int = 5, seed: int = 0) -> dict:
    """Every unlearning method on the released model for the forget set `forget` (Lesson 10).

    Parameters
    ----------
    release : utils.capstone.ReleasedModel
    forget : array-like of int, shape (n_forget,)
        Indices into the candidates (``release.candidates()``) of members to forget.
    steps : dict str -> int
        The budget of each approximate method (``"finetune"``, ``"gradient-ascent"``, ``"ascent-descent"``).
    n_shards : int, default=5
        SISA's shards.
    seed : int, default=0

    Returns
    -------
    dict
        ``rows``: method -> {seconds, time_ratio, test_acc, forget_acc, forget_loss, population_auc, steps}
        (``original`` is the released model itself); ``sisa``: {train_seconds, exact (bool),
        shards_retrained, one_record_seconds, one_record_shards}.
    """
    missing = sorted(set(APPROXIMATE) - set(steps))
    if missing:
        raise ValueError(f"steps must give a budget for every approximate method; missing {missing}.")
    X, y, membership = release.candidates()  # the released model trained on exactly X[membership == 1]
    members, heldout = np.flatnonzero(membership == 1), np.flatnonzero(membership == 0)
    forget = np.sort(np.asarray(forget, dtype=np.int64))
    if not np.isin(forget, members).all():
        raise ValueError("forget must hold indices of members (membership 1) among release.candidates().")
    request = make_request(X, y, members[None], forget[None], build_model=release.build_model,
                           recipe=release.recipe)
    original = as_batch(release.model)
    rows = {"original": {**_measure(predict_logits(release.model, X), y, forget, heldout), "seconds": 0.0,
                         "steps": 0}}
    start = time.perf_counter()
    retrained = retrain(original, request, seed=seed)
    rows["retrain"] = {"seconds": time.perf_counter() - start, "steps": 0}
    rows["retrain"].update(_measure(predict_logits(retrained, X)[0], y, forget, heldout))
    for name in APPROXIMATE:
        start = time.perf_counter()
        models = get_method(name)(original, request, steps=int(steps[name]), seed=seed)
        rows[name] = {"seconds": time.perf_counter() - start, "steps": int(steps[name])}
        rows[name].update(_measure(predict_logits(models, X)[0], y, forget, heldout))
    start = time.perf_counter()
    sisa = train_sisa(request, n_shards=n_shards, seed=seed)
    train_seconds = time.perf_counter() - start
    sisa_before = _measure(sisa_logits(sisa, X)[0], y, forget, heldout)
    start = time.perf_counter()
    unlearned = unlearn_sisa(sisa, request)
    rows["sisa"] = {"seconds": time.perf_counter() - start, "steps": 0}
    after = sisa_logits(unlearned, X)[0]
    rows["sisa"].update(_measure(after, y, forget, heldout))
    scratch = train_sisa(request, n_shards=n_shards, seed=seed, rows=request.retain)
    one = make_request(X, y, members[None], forget[None, :1], build_model=release.build_model, recipe=release.recipe)
    start = time.perf_counter()
    one_record = unlearn_sisa(sisa, one)
    one_seconds = time.perf_counter() - start
    for row in rows.values():
        row["time_ratio"] = row["seconds"] / rows["retrain"]["seconds"]
    return {"rows": rows, "sisa": {
        "train_seconds": train_seconds, "test_acc_before": sisa_before["test_acc"],
        "exact": bool(np.array_equal(after, sisa_logits(scratch, X)[0])),
        "shards_retrained": int(unlearned.retrained.sum()), "n_shards": n_shards,
        "one_record_seconds": one_seconds, "one_record_shards": int(one_record.retrained.sum())}}
