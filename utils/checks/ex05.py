"""Checks for exercise 05, "Regularisation as a defence" (Lesson 05).

In the notebook::

    from utils.checks import ex05
    ex05.q1.check(early_stopping_epoch)
    ex05.q1.hint()
    ex05.q1.solution()

Questions
---------
q1 : ``early_stopping_epoch(val_losses, patience)`` -> the epoch (0-based) whose weights early
     stopping keeps: training stops after `patience` epochs in a row without a new lowest
     validation loss, and the weights of the lowest one so far are restored.
q2 : ``inverted_dropout(activations, keep, p)`` -> dropout at training time: the kept units
     (``keep`` True) scaled by ``1 / (1 - p)``, the others 0.
q3 : written: why is an overfitted model more vulnerable, and why can a defence that lowers the
     average generalisation gap leave the most exposed records exposed?

The grader calls the student's functions on fresh random inputs (`hidden_cases`).
"""

from __future__ import annotations

import numpy as np

from .compare import fmt
from .core import Exercise, FunctionQuestion, WrittenQuestion

__all__ = ["q1", "q2", "q3", "EXERCISE"]


# ----------------------------------------------------------------------------- q1: early stopping
def early_stopping_epoch(val_losses, patience):
    """The epoch (0-based) whose weights early stopping keeps."""
    losses = np.asarray(val_losses, dtype=np.float64)
    best, since = 0, 0
    for epoch in range(1, len(losses)):
        if losses[epoch] < losses[best]:
            best, since = epoch, 0
        else:
            since += 1
            if since >= patience:
                break
    return int(best)


def _stop_counting_ties(losses, patience):
    """`early_stopping_epoch` with the slip ``<=``: a tie counts as an improvement."""
    best, since = 0, 0
    for epoch in range(1, len(losses)):
        if losses[epoch] <= losses[best]:
            best, since = epoch, 0
        else:
            since += 1
            if since >= patience:
                break
    return int(best)


def _curve(rng, n_epochs, bottom, noise):
    """A U-shaped validation curve with noise: falls until `bottom`, then rises."""
    t = np.arange(n_epochs)
    base = 1.0 + 0.6 * ((t - bottom) / max(bottom, 1)) ** 2
    return base + rng.normal(0.0, noise, n_epochs)


def _q1_public():
    rng = np.random.default_rng(505)
    return [
        # A deeper dip after the stop (epoch 7), then a rise (the last epoch is not the lowest).
        {"val_losses": np.array([1.0, 0.8, 0.7, 0.75, 0.72, 0.9, 0.95, 0.5, 0.6]), "patience": 3},
        {"val_losses": np.array([1.0, 0.9, 0.8, 0.7, 0.6]), "patience": 2},  # never stops: the last epoch
        # a tie is no improvement: stop at epoch 2 and keep 0 (ties counted as improvements keep 4; a patience
        # of 3 would see epoch 3)
        {"val_losses": np.array([0.5, 0.5, 0.5, 0.4, 0.4, 0.5]), "patience": 2},
        {"val_losses": _curve(rng, 60, 12, 0.05), "patience": 5},
    ]


def _q1_hidden(rng: np.random.Generator):
    cases = []
    for _ in range(4):
        n = int(rng.integers(15, 80))
        losses = _curve(rng, n, int(rng.integers(3, n // 2)), rng.uniform(0.01, 0.1))
        patience = int(rng.integers(1, 6))
        stop = early_stopping_epoch(losses, patience)
        if stop + patience + 2 < n:  # a deeper dip after the stop: argmin over all epochs is wrong here
            losses[stop + patience + 1] = losses.min() - 0.1
        cases.append({"val_losses": losses, "patience": patience})
    cases.append({"val_losses": np.sort(rng.random(int(rng.integers(3, 20))))[::-1].copy(), "patience": 1})
    # losses rounded to 0.1, and the epoch after the kept one ties with it: a tie is no improvement
    losses, patience = np.round(_curve(rng, int(rng.integers(20, 60)), 8, 0.08), 1), int(rng.integers(2, 5))
    kept = early_stopping_epoch(losses, patience)
    if kept + 1 < len(losses):
        losses[kept + 1] = losses[kept]
    cases.append({"val_losses": losses, "patience": patience})
    return cases


def _q1_judge(args, expected, answer):
    name = "early_stopping_epoch"
    values = answer.values
    if values is None or values.size != 1:
        what = answer.type_name if values is None else f"{values.size} numbers"
        return f"`{name}` returned {what}; return one whole number, the index of the epoch whose weights are kept."
    value = float(values.reshape(()))
    if value == expected:
        return None
    losses, patience = np.asarray(args["val_losses"], dtype=np.float64), int(args["patience"])
    if value == _stop_counting_ties(losses, patience):
        return (f"you count a loss *equal* to the best as an improvement (<= instead of <): a tie is no new lowest "
                f"loss, so it neither becomes the best epoch nor resets the count. Expected {fmt(expected)}, "
                f"got {fmt(value)}.")
    if value == expected + 1:
        return (f"you returned {fmt(value)}, expected {fmt(expected)}: epochs are counted from 0 here (the index into "
                "val_losses), not from 1.")
    for wrong_patience, slip in ((patience + 1, "one epoch too late"), (patience - 1, "one epoch too early")):
        if wrong_patience >= 1 and value == early_stopping_epoch(losses, wrong_patience):
            return (f"you stop {slip}: stop when `patience` epochs in a row have not set a new lowest loss "
                    f"(here {patience}). Expected {fmt(expected)}, got {fmt(value)}.")
    if value == len(losses) - 1:
        return ("you returned the last epoch: early stopping restores the weights of the best epoch so far, not the "
                f"latest ones. Expected {fmt(expected)}.")
    if value == int(np.argmin(losses)):
        return (f"you returned {fmt(value)}, the lowest loss of all epochs; but training stopped earlier, after "
                f"{patience} epochs without improvement, so it never saw that epoch. Expected {fmt(expected)}.")
    return (f"expected epoch {fmt(expected)}, got {fmt(value)}. Walk through the losses: keep the index of the lowest "
            "so far, count epochs since it changed, stop when the count reaches patience.")


q1 = FunctionQuestion(
    id="5.1",
    function_name="early_stopping_epoch",
    title="which epoch early stopping keeps",
    reference=early_stopping_epoch,
    public_cases=_q1_public,
    hidden_cases=_q1_hidden,
    judge=_q1_judge,
    hints=[
        "Walk through the epochs in order, as training does: you cannot look at losses after the epoch where you stop.",
        "Keep two numbers: the index of the lowest loss so far, and how many epochs have passed since it was set. "
        "A loss equal to the best is not an improvement.",
        "for epoch in range(1, len(losses)): if losses[epoch] < losses[best]: best, since = epoch, 0; "
        "else: since += 1 and break when since >= patience. Return best.",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q2: inverted dropout
def inverted_dropout(activations, keep, p):
    """Dropout at training time: kept units scaled by 1 / (1 - p), dropped units 0."""
    return np.where(np.asarray(keep, dtype=bool), np.asarray(activations, dtype=np.float64) / (1.0 - p), 0.0)


def _q2_case(rng, shape, p):
    return {"activations": rng.normal(0.0, 1.0, shape).clip(0), "keep": rng.random(shape) >= p, "p": p}


def _q2_public():
    rng = np.random.default_rng(52)
    return [
        {"activations": np.array([[1.0, 2.0, 3.0, 4.0]]), "keep": np.array([[True, False, True, False]]), "p": 0.5},
        _q2_case(rng, (8, 16), 0.25),
        _q2_case(rng, (32, 64), 0.75),
    ]


def _q2_hidden(rng: np.random.Generator):
    return [_q2_case(rng, (int(rng.integers(1, 40)), int(rng.integers(2, 80))), float(rng.uniform(0.05, 0.9)))
            for _ in range(4)]


def _q2_judge(args, expected, answer):
    name = "inverted_dropout"
    values = answer.values
    if values is None:
        return f"`{name}` returned a {answer.type_name}; return an array of the activations' shape."
    if values.shape != expected.shape:
        return f"`{name}` returned shape {values.shape}, expected {expected.shape} (the activations' shape)."
    if np.allclose(values, expected, rtol=1e-6, atol=1e-9):
        return None
    a, keep, p = np.asarray(args["activations"], float), np.asarray(args["keep"], bool), float(args["p"])
    slips = [
        (np.where(keep, a, 0.0), "the kept units must be scaled up by 1 / (1 - p), so that their expected value "
                                 "matches the model at test time, when nothing is dropped."),
        (np.where(keep, a * (1 - p), 0.0),
         "you scaled by (1 - p); inverted dropout divides by (1 - p) during training."),
        (np.where(keep, a / p, 0.0), "you divided by p; the share of units kept is 1 - p, so divide by (1 - p)."),
        (np.where(keep, 0.0, a / (1 - p)), "you dropped the units where keep is True; keep them and zero the others."),
    ]
    for wrong, message in slips:
        if np.allclose(values, wrong, rtol=1e-6, atol=1e-9):
            return message
    bad = np.flatnonzero(~np.isclose(values, expected, rtol=1e-6, atol=1e-9).ravel())
    return f"{len(bad):,} of {expected.size:,} values differ from activations * keep / (1 - p)."


q2 = FunctionQuestion(
    id="5.2",
    function_name="inverted_dropout",
    title="dropout at training time",
    reference=inverted_dropout,
    public_cases=_q2_public,
    hidden_cases=_q2_hidden,
    judge=_q2_judge,
    hints=[
        "Each unit is kept with probability 1 - p; `keep` says which ones were kept this time.",
        "At test time nothing is dropped, so during training the kept units are scaled up to keep the expected "
        "value the same.",
        "np.where(keep, activations / (1 - p), 0.0)",
    ],
    points=1,
)


# ----------------------------------------------------------------------------- q3: written answer
q3 = WrittenQuestion(
    id="5.3",
    title="the gap and the most exposed records",
    prompt=("Why is an overfitted model more vulnerable to membership inference? Using your numbers from the lesson, "
            "explain why a defence that lowers the average generalisation gap can leave the most exposed records "
            "exposed."),
    model_answer="""
An overfitted model has fitted its training records much better than the rest of the population: it is
more confident, and has a lower loss, on its members than on records it never saw. That difference is
exactly what a membership attack measures, so the larger the generalisation gap, the easier it is to
tell members from non-members. But the gap is an average over all records. Most records are typical: a
model gets them right whether it trained on them or not, so they leak little anyway. The leak is
concentrated in the atypical records that a model can only get right by memorising them, and a
defence can make the typical records look more alike in and out of training (shrinking the average
gap) while it still memorises the odd ones. In the lesson, dropout 0.5 cut the average loss gap by
about a quarter (0.36 to 0.26 nats), yet the exposure of the top 1% of records did not fall (it rose by
about a tenth) and LiRA's TPR at 1% FPR rose too (7.4% to 9.0%). Weight decay and early stopping
shrank both and moved LiRA, at a cost in accuracy.
Privacy is a worst-case property; the average gap is an average-case measure.
""",
    hints=[
        "What does a membership attack compare, and how does the generalisation gap enter that comparison?",
        "Which records did LiRA find in lesson 03, and did dropout change how exposed those records are?",
    ],
)

EXERCISE = Exercise(number=5, title="Regularisation as a defence", questions=(q1, q2, q3))
