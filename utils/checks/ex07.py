"""Checks for exercise 07, "Confidence masking" (Lesson 07).

In the notebook::

    from utils.checks import ex07
    ex07.q1.check(mask_top_k)
    ex07.q1.hint()
    ex07.q1.solution()

Questions
---------
q1 : ``mask_top_k(probabilities, k)`` -> what a top-k API releases: each row's k largest
     probabilities as they are, the others 0.
q2 : ``robustness(noisy_labels, y)`` -> the label-robustness of each record: the share of its
     perturbed queries whose answered label is its true class.
q3 : written: does confidence masking protect the members? Answer from your own numbers.

The grader calls the student's functions on fresh random inputs (`hidden_cases`).
"""

from __future__ import annotations

import numpy as np

from .compare import per_record_problem
from .core import Exercise, FunctionQuestion, WrittenQuestion

__all__ = ["q1", "q2", "q3", "EXERCISE"]


# ----------------------------------------------------------------------------- q1: top-k masking
def mask_top_k(probabilities, k):
    """Each row's k largest probabilities kept as they are, the others set to 0."""
    probs = np.asarray(probabilities, dtype=np.float64)
    keep = np.argsort(-probs, axis=-1, kind="stable")[..., :k]
    out = np.zeros_like(probs)
    np.put_along_axis(out, keep, np.take_along_axis(probs, keep, axis=-1), axis=-1)
    return out


def _probabilities(rng, n, n_classes, temperature):
    logits = rng.normal(0.0, temperature, (n, n_classes))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _q1_public():
    rng = np.random.default_rng(707)
    return [
        {"probabilities": np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]), "k": 2},
        {"probabilities": np.array([[0.7, 0.2, 0.1]]), "k": 1},
        {"probabilities": _probabilities(rng, 50, 10, 3.0), "k": 3},
    ]


def _q1_hidden(rng: np.random.Generator):
    cases = []
    for _ in range(4):
        n_classes = int(rng.integers(3, 12))
        cases.append({"probabilities": _probabilities(rng, int(rng.integers(1, 200)), n_classes, rng.uniform(0.5, 5)),
                      "k": int(rng.integers(1, n_classes))})
    return cases


def _q1_judge(args, expected, answer):
    name = "mask_top_k"
    values = answer.values
    if values is None:
        return f"`{name}` returned a {answer.type_name}; return an array shaped like the probabilities."
    if values.shape != expected.shape:
        return (f"`{name}` returned shape {values.shape}, expected {expected.shape}: the API still answers one "
                "number per class, with 0 for the classes it hides.")
    if np.allclose(values, expected, rtol=1e-9, atol=1e-12):
        return None
    probs, k = np.asarray(args["probabilities"], float), int(args["k"])
    renormalised = expected / expected.sum(axis=-1, keepdims=True)
    smallest = np.zeros_like(probs)
    low = np.argsort(probs, axis=-1)[..., :k]
    np.put_along_axis(smallest, low, np.take_along_axis(probs, low, axis=-1), axis=-1)
    if np.allclose(values, renormalised, rtol=1e-9, atol=1e-12):
        return "you renormalised the kept probabilities to sum to 1; the API releases them as they are."
    if np.allclose(values, smallest, rtol=1e-9, atol=1e-12):
        return ("you kept the k smallest probabilities; keep the k largest (sort in decreasing order, "
                "or use -probabilities).")
    if np.allclose(values, (expected > 0).astype(float)):
        return "you returned 1 for the kept classes; release their probabilities instead."
    counts = (values != 0).sum(axis=-1)
    if (counts != k).any():
        return (f"each row should keep exactly k = {k} non-zero entries; "
                f"some of yours keep {sorted(set(counts.tolist()))}.")
    return "some rows keep the wrong classes: keep, in each row, the k classes with the largest probabilities."


q1 = FunctionQuestion(
    id="7.1",
    function_name="mask_top_k",
    title="the top-k mask",
    reference=mask_top_k,
    public_cases=_q1_public,
    hidden_cases=_q1_hidden,
    judge=_q1_judge,
    hints=[
        "Per row, find the columns of the k largest probabilities; everything else becomes 0.",
        "np.argsort(-probabilities, axis=-1)[:, :k] gives those columns, largest first.",
        "out = np.zeros_like(p); np.put_along_axis(out, top, np.take_along_axis(p, top, axis=-1), axis=-1)",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q2: label robustness
def robustness(noisy_labels, y):
    """Share of each record's perturbed queries answered with its true class: (n_queries, n_records) -> (n_records,)."""
    return (np.asarray(noisy_labels) == np.asarray(y)).mean(axis=0, dtype=np.float64)


def _q2_case(rng, n_queries, n_records, n_classes, flip):
    y = rng.integers(0, n_classes, n_records)
    noise = rng.integers(0, n_classes, (n_queries, n_records))
    labels = np.where(rng.random((n_queries, n_records)) < flip[None, :], noise, y)
    return {"noisy_labels": labels, "y": y}


def _q2_public():
    rng = np.random.default_rng(72)
    return [
        {"noisy_labels": np.array([[3, 1, 0], [3, 2, 0], [1, 1, 0], [3, 1, 0]]), "y": np.array([3, 1, 2])},
        _q2_case(rng, 16, 100, 10, rng.random(100)),
        _q2_case(rng, 5, 7, 3, rng.random(7)),  # more records than queries would hide a wrong axis: not here
    ]


def _q2_hidden(rng: np.random.Generator):
    cases = []
    for _ in range(4):
        n_queries, n_records = int(rng.integers(2, 40)), int(rng.integers(2, 300))
        if n_queries == n_records:
            n_records += 1
        cases.append(_q2_case(rng, n_queries, n_records, int(rng.integers(2, 11)), rng.random(n_records)))
    return cases


def _q2_judge(args, expected, answer):
    name = "robustness"
    values = answer.values
    labels = np.asarray(args["noisy_labels"])
    if values is not None and values.shape == (labels.shape[0],) and labels.shape[0] != labels.shape[1]:
        return ("you averaged over the records (axis 1); average over the queries (axis 0), so that each record "
                f"gets one value: shape ({labels.shape[1]},).")
    if values is not None and values.shape == expected.shape:
        if np.allclose(values, expected * labels.shape[0]):
            return (f"you returned counts of correct answers; divide by the number of queries ({labels.shape[0]}) "
                    "for a share.")
        if np.allclose(values, 1 - expected):
            return "you returned the share of queries whose label is wrong; return the share that is right."
    return per_record_problem(answer, expected, name=name, what="robustness values", rtol=1e-9, atol=1e-12)


q2 = FunctionQuestion(
    id="7.2",
    function_name="robustness",
    title="label robustness",
    reference=robustness,
    public_cases=_q2_public,
    hidden_cases=_q2_hidden,
    judge=_q2_judge,
    hints=[
        "noisy_labels[q, i] is the label the API answered for the q-th perturbed copy of record i.",
        "Compare with the true classes (broadcasting y over the first axis) to get True/False per query and record.",
        "(noisy_labels == y).mean(axis=0)",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q3: written answer
q3 = WrittenQuestion(
    id="7.3",
    title="is masking a defence?",
    prompt=("Does confidence masking protect the members of the training set? Answer with the numbers you measured: "
            "the loss attack on the full and on the label-only model, and the label-robustness attack."),
    model_answer="""
No. Masking removes the confidence, not the membership signal. On the label-only model the loss attack
collapses into the gap attack ("member iff classified correctly"): its AUC stays a little above 0.5 and at
1% FPR it finds nobody, so judged by the confidence attacks masking looks like a defence. But the model
still treats its training records differently: their labels survive small perturbations more often. The
label-robustness attack queries each record several times with a little noise and compares how often the
label stays right with what the attacker's own shadow models do on the same record when they did and did
not train on it. On the very same label-only model it reached a higher AUC than the loss attack on the
full probabilities, and found several percent of the members at 1% FPR, several times what the loss
attack found with full probabilities. A defence that stops the attacks one tried is no proof against
the next attack; only differential privacy bounds what any attack can achieve.
""",
    hints=[
        "Compare the loss attack on the full model with the label-robustness attack on the top-1-label model: "
        "AUC and TPR at 1% FPR.",
        "What does masking remove, and what does a membership attack really need?",
    ],
)

EXERCISE = Exercise(number=7, title="Confidence masking", questions=(q1, q2, q3))
