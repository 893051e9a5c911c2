"""Checks for exercise 01, "Overfit a model" (Lesson 01).

In the notebook::

    from utils.checks import ex01
    ex01.q1.check(per_record_losses)     # public checks on fixed inputs
    ex01.q1.hint()                       # hint 1; ex01.q1.hint(2) reveals more
    ex01.q1.solution()                   # the reference code

Questions
---------
q1 : ``per_record_losses(logits, labels)`` -> the cross-entropy of each record, in nats.
q2 : ``generalisation_gap(train_losses, test_losses)`` -> mean test loss minus mean training loss.
q3 : written: why is an overfitted model more vulnerable to membership inference?

The grader calls the student's functions on fresh random inputs (`hidden_cases`), so knowing the
public inputs, or this file, is no shortcut.
"""

from __future__ import annotations

import numpy as np

from .compare import fmt, per_record_problem, scalar_problem
from .core import Exercise, FunctionQuestion, WrittenQuestion

__all__ = ["q1", "q2", "q3", "EXERCISE"]


# ----------------------------------------------------------------------------- q1: per-record losses
def per_record_losses(logits, labels):
    """Cross-entropy of each record, in nats: -log softmax(logits)[label]."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    shifted = logits - logits.max(axis=1, keepdims=True)  # the largest logit becomes 0: exp cannot overflow
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels]


def _q1_public():
    rng = np.random.default_rng(2024)
    n, n_classes = 2500, 10
    return [
        {"logits": np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 3.0, -1.0]]), "labels": np.array([0, 2, 1])},
        # Confident models produce logits in the hundreds: a naive softmax overflows here.
        {"logits": np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0]]), "labels": np.array([0, 0])},
        {"logits": rng.normal(0.0, 3.0, size=(n, n_classes)), "labels": rng.integers(0, n_classes, size=n)},
    ]


def _q1_hidden(rng: np.random.Generator):
    cases = []
    for n_range, large in (((200, 3000), False), ((200, 3000), True), ((1, 6), False)):
        n = int(rng.integers(*n_range))
        n_classes = int(rng.integers(2, 13))
        logits = rng.normal(0.0, rng.lognormal(1.0, 0.5), size=(n, n_classes))
        if large:  # a few very confident records, as an overfitted model produces
            rows = rng.random(n) < 0.05
            logits[rows] *= rng.uniform(50, 300)
        cases.append({"logits": logits, "labels": rng.integers(0, n_classes, size=n)})
    return cases


def _q1_judge(args, expected, answer):
    logits, labels = np.asarray(args["logits"]), np.asarray(args["labels"])

    def record(i):
        row = np.array2string(logits[i][:5], precision=3, separator=", ")
        return f"label {labels[i]}, logits {row[:-1] + ', ...]' if logits.shape[1] > 5 else row}"

    problem = per_record_problem(
        answer, expected, name="per_record_losses", what="losses", rtol=1e-4, atol=1e-4, record_hint=record
    )
    if problem is None or answer.values is None or answer.values.shape != expected.shape:
        return problem
    values = answer.values
    with np.errstate(over="ignore"):
        slips = [
            (
                -expected,
                "Your losses are negative: that is the log-probability. The loss is minus the log-probability.",
            ),
            (np.exp(-expected), "You returned the probability of the true class; the loss is -log of it."),
            (expected / np.log(2), "Your losses are in bits (log base 2); use the natural log (np.log) for nats."),
        ]
    for wrong, message in slips:
        if np.allclose(values, wrong, rtol=1e-4, atol=1e-4):
            return message
    return problem


q1 = FunctionQuestion(
    id="1.1",
    function_name="per_record_losses",
    title="the loss of each record",
    reference=per_record_losses,
    public_cases=_q1_public,
    hidden_cases=_q1_hidden,
    judge=_q1_judge,
    hints=[
        "The loss of one record is -log of the probability the model gives to its true class; "
        "softmax turns a row of logits into probabilities.",
        "Work with log-probabilities directly: log_softmax(z) = z - log(sum(exp(z))). Subtract each row's "
        "maximum first (logits - logits.max(axis=1, keepdims=True)) so that np.exp never overflows.",
        "Pick each record's true-class entry with log_probs[np.arange(len(labels)), labels] and return its "
        "negative: one loss per record, shape (n_records,).",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q2: generalisation gap
def generalisation_gap(train_losses, test_losses):
    """Mean loss on unseen (test) records minus mean loss on training records, in nats."""
    return float(np.mean(test_losses) - np.mean(train_losses))


def _q2_public():
    rng = np.random.default_rng(7)
    return [
        {"train_losses": np.array([0.1, 0.2, 0.3]), "test_losses": np.array([1.0, 2.0])},
        {"train_losses": np.array([0.5, 0.7]), "test_losses": np.array([0.4, 0.6])},
        {"train_losses": rng.exponential(0.05, size=1250), "test_losses": rng.exponential(0.8, size=800)},
    ]


def _q2_hidden(rng: np.random.Generator):
    cases = []
    for flip in (False, False, True):
        n_train, n_test = (int(v) for v in rng.choice(np.arange(5, 3000), size=2, replace=False))
        train = rng.exponential(rng.uniform(0.01, 0.3), size=n_train)
        test = rng.exponential(rng.uniform(0.5, 2.0), size=n_test)
        if flip:  # a model that does better on unseen records: the gap is negative
            train, test = test, train
        cases.append({"train_losses": train, "test_losses": test})
    return cases


def _q2_judge(args, expected, answer):
    train, test = np.asarray(args["train_losses"]), np.asarray(args["test_losses"])
    problem = scalar_problem(answer, expected, name="generalisation_gap", what="gap", rtol=1e-5, atol=1e-6)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    value = float(answer.values.reshape(()))
    slips = [
        (abs(expected), "don't take the absolute value: a negative gap is information too "
                        "(the model does better on records it never saw)."),
        (-expected, "you computed training loss minus test loss. The gap is test minus training: "
                    "positive when the model does better on the records it trained on."),
        (float(np.median(test) - np.median(train)), "you used medians; the gap compares mean losses."),
        (float(np.sum(test) - np.sum(train)), "you subtracted sums; sets of different sizes need means."),
    ]
    for wrong, message in slips:
        if not np.isclose(wrong, expected, rtol=1e-5, atol=1e-6) and np.isclose(value, wrong, rtol=1e-5, atol=1e-6):
            return f"{message} (Expected {fmt(expected)}, got {fmt(value)}.)"
    return problem


q2 = FunctionQuestion(
    id="1.2",
    function_name="generalisation_gap",
    title="the generalisation gap",
    reference=generalisation_gap,
    public_cases=_q2_public,
    hidden_cases=_q2_hidden,
    judge=_q2_judge,
    hints=[
        "The gap compares how the model does on records it trained on with records it never saw: "
        "summarise each set by its average loss.",
        "Return np.mean(test_losses) - np.mean(train_losses) as one float: positive when the model is "
        "better on its own training records. No absolute value: a negative gap means something too.",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q3: written answer
q3 = WrittenQuestion(
    id="1.3",
    title="why overfitting helps the attacker",
    prompt="Why is an overfitted model more vulnerable to membership inference?",
    model_answer="""
An overfitted model has learnt its training records themselves, noise and quirks included, not only
the pattern the digits share. On those very records its loss is tiny and its confidence near 100%;
on records it never saw, the loss stays at its usual, larger level. That difference is the
generalisation gap, and it is exactly what a membership attacker measures: query the model with
John Doe's record, and a suspiciously low loss says "this record was in the training set". The
larger the gap, the further apart the member and non-member loss histograms, and the more members
the attacker can name before accusing a single non-member by mistake. A model that generalises
treats seen and unseen records alike, so its loss gives little away; that is why regularisation
(lesson 05) and differential privacy (lesson 06) are defences.
""",
    hints=[
        "Look at your two histograms: where do members' losses sit, and where do non-members'?",
        "An attacker only sees the model's output on one record. What does a very low loss on that record suggest?",
    ],
)

EXERCISE = Exercise(number=1, title="Overfit a model", questions=(q1, q2, q3))
