"""Checks for exercise 03, "Shadow models" (Lesson 03).

In the notebook::

    from utils.checks import ex03
    ex03.q1.check(shadow_attack_dataset)   # public checks on fixed inputs
    ex03.q1.hint()                         # hint 1; ex03.q1.hint(2) reveals more
    ex03.q1.solution()                     # the reference code

Questions
---------
q1 : ``shadow_attack_dataset(shadow_logits, in_mask, labels)`` -> Shokri's attack training set: one
     row per (shadow model, record) pair holding the shadow's probabilities, the record's class and
     whether the record was IN (1) or OUT (0) of that shadow's training set.
q2 : ``lira_score(target_confidence, in_confidences, out_confidences)`` -> online LiRA's score of one
     record: the log-likelihood ratio of the target's logit-scaled confidence under a Gaussian fitted
     to the IN shadows versus one fitted to the OUT shadows.
q3 : written: what is Shokri's attack on machine learning models?

The grader calls the student's functions on fresh random inputs (`hidden_cases`: random shadow
logits and masks, fresh Gaussian samples of confidences), so knowing the public inputs, or this
file, is no shortcut.
"""

from __future__ import annotations

import numpy as np

from .compare import likelihood_ratio_problem
from .core import Exercise, FunctionQuestion, WrittenQuestion

__all__ = ["q1", "q2", "q3", "EXERCISE"]


# ----------------------------------------------------------------------------- q1: the attack training set
def shadow_attack_dataset(shadow_logits, in_mask, labels):
    """Shokri's attack training set from shadow outputs.

    shadow_logits : (n_shadows, n_records, n_classes); in_mask : (n_shadows, n_records) bool;
    labels : (n_records,) class of each record.
    returns (n_shadows * n_records, n_classes + 2): softmax probabilities, class, membership (1 = IN);
    shadow 0's records first, then shadow 1's, and so on.
    """
    logits = np.asarray(shadow_logits, dtype=np.float64)
    in_mask = np.asarray(in_mask, dtype=bool)
    labels = np.asarray(labels)
    n_shadows, n_records, n_classes = logits.shape
    shifted = logits - logits.max(axis=-1, keepdims=True)  # no overflow in exp
    probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    classes = np.broadcast_to(labels, (n_shadows, n_records))
    return np.column_stack([
        probabilities.reshape(-1, n_classes),
        classes.reshape(-1),
        in_mask.reshape(-1).astype(np.float64),
    ])


def _q1_case(rng, n_shadows, n_records, n_classes, scale):
    labels = rng.integers(0, n_classes, size=n_records)
    logits = rng.normal(0.0, scale, size=(n_shadows, n_records, n_classes))
    in_mask = rng.random((n_shadows, n_records)) < 0.5
    logits[in_mask, labels[np.nonzero(in_mask)[1]]] += scale  # members: more confident in their class
    return {"shadow_logits": logits, "in_mask": in_mask, "labels": labels}


def _q1_public():
    rng = np.random.default_rng(303)
    return [
        {"shadow_logits": np.array([[[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
                                    [[0.0, 0.0], [3.0, 0.0], [0.0, 2.0]]]),
         "in_mask": np.array([[True, False, True], [False, True, False]]),
         "labels": np.array([0, 1, 1])},
        # Confident shadows produce logits in the hundreds: a naive softmax overflows here.
        {"shadow_logits": np.array([[[900.0, 0.0, -900.0]], [[0.0, 700.0, 0.0]]]),
         "in_mask": np.array([[True], [False]]), "labels": np.array([0])},
        _q1_case(rng, 4, 500, 10, 3.0),
    ]


def _q1_hidden(rng: np.random.Generator):
    cases = []
    for n_range, classes_range in (((2, 9), (2, 12)), ((2, 5), (2, 4))):
        n_shadows = int(rng.integers(*n_range))
        n_records = int(rng.integers(20, 800))
        cases.append(_q1_case(rng, n_shadows, n_records, int(rng.integers(*classes_range)), rng.uniform(1.0, 6.0)))
    big = _q1_case(rng, int(rng.integers(2, 5)), int(rng.integers(5, 50)), int(rng.integers(2, 11)), 2.0)
    big["shadow_logits"] *= rng.uniform(100, 400)  # very confident shadows
    cases.append(big)
    return cases


def _q1_judge(args, expected, answer):
    logits = np.asarray(args["shadow_logits"])
    n_shadows, n_records, n_classes = logits.shape
    rows, cols = expected.shape
    name = "shadow_attack_dataset"
    values = answer.values
    if values is None:
        if answer.type_name in ("tuple", "list"):
            return (f"`{name}` returned a {answer.type_name}; return one 2-D array with the columns side by side, "
                    "e.g. np.column_stack([probabilities, classes, membership]).")
        return (f"`{name}` returned a {answer.type_name}, but it should return a NumPy array of shape "
                f"({rows:,}, {cols}).")
    if values.shape != expected.shape:
        hint = ""
        if values.ndim == 3:
            hint = " Flatten the shadow and record axes into one: .reshape(-1, n_classes)."
        elif values.ndim == 2 and values.shape[1] == n_classes:
            hint = " Add two columns after the probabilities: the record's class, then its membership."
        elif values.ndim == 2 and values.shape[1] == n_classes + 1:
            hint = " Both extra columns are needed: the record's class, then its membership (1 = IN)."
        return (f"`{name}` returned shape {values.shape}, expected ({rows:,}, {cols}): one row per (shadow, record) "
                f"pair ({n_shadows} shadows x {n_records:,} records) and {n_classes} probability columns plus the "
                f"class and the membership.{hint}")
    if not np.isfinite(values).all():
        return (f"{int((~np.isfinite(values)).sum()):,} entries are NaN or infinite. Large logits overflow np.exp: "
                "subtract each row's maximum logit before exponentiating.")
    if np.allclose(values, expected, rtol=1e-6, atol=1e-8):
        return None
    probs, exp_probs = values[:, :n_classes], expected[:, :n_classes]
    # Common slips, each checked on the columns it concerns.
    record_major = expected.reshape(n_shadows, n_records, cols).transpose(1, 0, 2).reshape(rows, cols)
    if n_shadows > 1 and n_records > 1 and np.allclose(values, record_major, rtol=1e-6, atol=1e-8):
        return ("your rows are ordered record by record; order them shadow by shadow (all of shadow 0's records "
                "first), which is what .reshape(-1, ...) on the (n_shadows, n_records, ...) arrays gives.")
    if not np.allclose(probs, exp_probs, rtol=1e-6, atol=1e-8):
        if np.allclose(probs, logits.reshape(-1, n_classes), rtol=1e-6, atol=1e-8):
            return "the first columns hold the raw logits; the attack model sees probabilities: apply a softmax."
        flat = logits.reshape(-1, n_classes)
        log_probs = flat - flat.max(axis=-1, keepdims=True)
        log_probs = log_probs - np.log(np.exp(log_probs).sum(axis=-1, keepdims=True))
        if np.allclose(probs, log_probs, rtol=1e-6, atol=1e-6):
            return ("the first columns hold log-probabilities (a log-softmax); the attack model sees probabilities: "
                    "exponentiate them (np.exp), or take the softmax itself.")
        if np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
            i = int(np.flatnonzero(~np.isclose(probs, exp_probs, rtol=1e-6, atol=1e-8).all(axis=1))[0])
            return (f"the probabilities of row {i:,} differ: expected {np.round(exp_probs[i][:5], 4).tolist()}, "
                    f"yours {np.round(probs[i][:5], 4).tolist()}. Did you take the softmax over the class axis "
                    "(the last)?")
        return ("the probability columns do not sum to 1 per row: take the softmax over the class axis "
                "(axis=-1), one row of logits at a time.")
    if not np.allclose(values[:, n_classes], expected[:, n_classes]):
        return (f"column {n_classes} should be the class of each row's record (labels, repeated once per shadow); "
                f"expected {expected[:6, n_classes].astype(int).tolist()} at the top, got "
                f"{values[:6, n_classes].tolist()}.")
    membership, exp_membership = values[:, -1], expected[:, -1]
    if np.allclose(membership, 1 - exp_membership):
        return "the membership column is flipped: 1 means the record was IN the shadow's training set (in_mask True)."
    n_wrong = int((~np.isclose(membership, exp_membership)).sum())
    return (f"the last column should be the membership (1 = IN, 0 = OUT) from in_mask; {n_wrong:,} "
            f"of {rows:,} rows differ.")


q1 = FunctionQuestion(
    id="3.1",
    function_name="shadow_attack_dataset",
    title="Shokri's attack training set",
    reference=shadow_attack_dataset,
    public_cases=_q1_public,
    hidden_cases=_q1_hidden,
    judge=_q1_judge,
    hints=[
        "Every shadow model answered every record, and in_mask says whether that answer is an IN or an OUT "
        "example. Each (shadow, record) pair is one training row of the attack model.",
        "Softmax over the last axis: p = exp(z - z.max(axis=-1, keepdims=True)), then divide by p.sum(axis=-1, "
        "keepdims=True). np.broadcast_to(labels, in_mask.shape) repeats the classes once per shadow.",
        "Flatten each piece with .reshape: probabilities to (-1, n_classes), classes and in_mask to (-1,); then "
        "np.column_stack([probabilities, classes, in_mask.astype(float)]).",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q2: the LiRA score of one record
def lira_score(target_confidence, in_confidences, out_confidences):
    """Online LiRA score of one record: log N(x; IN fit) - log N(x; OUT fit) on the logit scale."""
    from scipy.stats import norm

    def logit(p):
        p = np.asarray(p, dtype=np.float64)
        return np.log(p) - np.log1p(-p)

    x, obs_in, obs_out = logit(target_confidence), logit(in_confidences), logit(out_confidences)
    log_in = norm.logpdf(x, obs_in.mean(), obs_in.std(ddof=1))
    log_out = norm.logpdf(x, obs_out.mean(), obs_out.std(ddof=1))
    return float(log_in - log_out)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _q2_case(rng, n_in, n_out, mean_out, gap, std_in, std_out, x):
    return {
        "target_confidence": float(_sigmoid(x)),
        "in_confidences": _sigmoid(rng.normal(mean_out + gap, std_in, n_in)),
        "out_confidences": _sigmoid(rng.normal(mean_out, std_out, n_out)),
    }


def _q2_public():
    rng = np.random.default_rng(33)
    return [
        {"target_confidence": 0.9, "in_confidences": np.array([0.95, 0.99, 0.9]),
         "out_confidences": np.array([0.5, 0.7, 0.6, 0.8])},
        _q2_case(rng, 32, 32, 1.0, 3.0, 1.0, 1.5, 3.5),   # a record the target seems to have trained on
        _q2_case(rng, 32, 32, 5.0, 0.5, 1.0, 1.0, 4.0),   # an easy record: IN and OUT overlap
        _q2_case(rng, 8, 24, -1.0, 4.0, 0.8, 1.2, -1.5),  # a hard record the target got wrong
    ]


def _q2_hidden(rng: np.random.Generator):
    cases = []
    for _ in range(5):
        mean_out, gap = rng.uniform(-2.0, 6.0), rng.uniform(0.0, 4.0)
        std_in, std_out = rng.uniform(0.3, 1.5), rng.uniform(0.3, 1.5)
        x = rng.normal(mean_out + gap * rng.integers(0, 2), 1.0)
        n_in, n_out = int(rng.integers(3, 40)), int(rng.integers(3, 40))
        cases.append(_q2_case(rng, n_in, n_out, mean_out, gap, std_in, std_out, x))
    return cases


def _q2_judge(args, expected, answer):
    target, first, second = (args[k] for k in ('target_confidence', 'in_confidences', 'out_confidences'))
    return likelihood_ratio_problem(
        answer, expected, target, first, second, name="lira_score",
        sign=("your sign is flipped: compute log N(x; IN) - log N(x; OUT), so that a higher score means "
              "'more likely member'."))


q2 = FunctionQuestion(
    id="3.2",
    function_name="lira_score",
    title="the LiRA score of one record",
    reference=lira_score,
    public_cases=_q2_public,
    hidden_cases=_q2_hidden,
    judge=_q2_judge,
    hints=[
        "Move every confidence p to the logit scale, log(p / (1 - p)) (np.log(p) - np.log1p(-p) is the precise way).",
        "Fit one Gaussian to the IN values and one to the OUT values: mean and sample standard deviation "
        "(.std(ddof=1)).",
        "Return scipy.stats.norm.logpdf(x, mean_in, std_in) - norm.logpdf(x, mean_out, std_out) as one float, "
        "where x is the target's logit-scaled confidence.",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q3: written answer
q3 = WrittenQuestion(
    id="3.3",
    title="Shokri's attack",
    prompt="What is Shokri's attack on machine learning models?",
    model_answer="""
Shokri's attack (Shokri, Stronati, Song and Shmatikov, 2017) is the first membership inference attack
on machine learning models that only needs query access. The attacker cannot see who trained the
target, so it builds models whose training sets it does know: shadow models, trained with the
target's recipe on data from the same population that the attacker owns, each on a random half of
it. For each shadow it knows which records were IN and which were OUT, so the shadows' outputs on
those records form a labelled data set: "this output came from a member", "this one did not". On
that data it trains an attack model, one per class, which learns what a member's prediction looks
like (typically: more confident). Finally it queries the target with the record in question (John
Doe's) and feeds the target's output to the attack model of that record's class, which answers
member or non-member. It works because an overfitted target treats its training records
differently, and the shadows reproduce that behaviour. In lesson 03 it beats the plain loss attack
on average (higher AUC), and more shadows help, but it learns one rule per class; LiRA (Carlini et
al. 2022) goes further with a rule per record and finds far more members at a low false-positive rate.
""",
    hints=[
        "The attacker trains two kinds of models (shadow models, then attack models) and queries a third, the target. "
        "What data does each of them see?",
        "Why does the attacker need shadow models at all: what does it know about them that it does not know "
        "about the target?",
    ],
)

EXERCISE = Exercise(number=3, title="Shadow models", questions=(q1, q2, q3))
