"""Checks for exercise 04, "Property inference" (Lesson 04).

In the notebook::

    from utils.checks import ex04
    ex04.q1.check(n_leaked)          # public checks on fixed inputs
    ex04.q1.hint()                   # hint 1; ex04.q1.hint(2) reveals more
    ex04.q1.solution()               # the reference code

Questions
---------
q1 : ``n_leaked(accuracy, r0, r1)`` -> how many sampled records a property attack is worth (Suri & Evans 2022).
q2 : ``kl_votes(kl_to_world0, kl_to_world1)`` -> the KL attack's score of each victim (Suri et al. 2023).
q3 : written: why is property inference dangerous for a secret society?

The grader calls the student's functions on fresh random inputs (`hidden_cases`).
"""

from __future__ import annotations

import numpy as np

from .compare import fmt, per_record_problem, scalar_problem
from .core import Exercise, FunctionQuestion, WrittenQuestion

__all__ = ["q1", "q2", "q3", "EXERCISE"]


# ----------------------------------------------------------------------------- q1: n_leaked
def n_leaked(accuracy, r0, r1):
    """Samples of the training distribution a property attack of this accuracy is worth.

    0 at or below chance (accuracy <= 0.5) and for identical worlds; symmetric in r0, r1.
    """
    low, high = min(r0, r1), max(r0, r1)
    if accuracy <= 0.5 or low == high:
        return 0.0
    ratio = max(low / high, (1 - high) / (1 - low))
    return float(np.log(1 - (2 * accuracy - 1) ** 2) / np.log(ratio))


def _q1_public():
    return [
        {"accuracy": 0.9, "r0": 0.2, "r1": 0.5},
        {"accuracy": 0.9, "r0": 0.5, "r1": 0.2},  # the worlds in the other order: same answer
        {"accuracy": 0.75, "r0": 0.1, "r1": 0.2},
        {"accuracy": 0.6, "r0": 0.4, "r1": 0.9},
        {"accuracy": 0.5, "r0": 0.2, "r1": 0.5},  # a coin toss leaks nothing
        {"accuracy": 0.3, "r0": 0.2, "r1": 0.5},  # below chance: nothing either
        {"accuracy": 0.8, "r0": 0.3, "r1": 0.3},  # identical worlds: nothing to learn
    ]


def _q1_hidden(rng: np.random.Generator):
    cases = []
    for _ in range(6):
        r0, r1 = (float(v) for v in rng.choice(np.round(np.arange(0.05, 0.96, 0.05), 2), size=2, replace=False))
        cases.append({"accuracy": float(rng.uniform(0.52, 0.99)), "r0": r0, "r1": r1})
    cases.append({"accuracy": float(rng.uniform(0.05, 0.5)), "r0": 0.2, "r1": 0.6})
    return cases


def _q1_judge(args, expected, answer):
    problem = scalar_problem(answer, expected, name="n_leaked", what="number of samples", rtol=1e-6, atol=1e-9)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    value = float(answer.values.reshape(()))
    acc, r0, r1 = args["accuracy"], args["r0"], args["r1"]
    with np.errstate(all="ignore"):
        naive_ratio = max(r0 / r1, (1 - r1) / (1 - r0)) if r1 != 0 and r0 != 1 else np.nan
        slips = [
            (-expected, "your number has the wrong sign: both logarithms are negative, so n_leaked is positive."),
            (
                np.log(1 - (2 * acc - 1) ** 2) / np.log(naive_ratio) if r0 != r1 else np.nan,
                "you used r0/r1 and (1-r1)/(1-r0) as given; order the worlds first (r_lo = min, r_hi = max) so "
                "that both ratios are below 1: the answer must not depend on which world is called 0.",
            ),
            (
                np.log(1 - abs(2 * acc - 1))
                / np.log(max(min(r0, r1) / max(r0, r1), (1 - max(r0, r1)) / (1 - min(r0, r1))))
                if r0 != r1
                else np.nan,
                "you forgot to square (2 acc - 1).",
            ),
            (
                np.log(1 - (2 * acc - 1) ** 2)
                / np.log(min(min(r0, r1) / max(r0, r1), (1 - max(r0, r1)) / (1 - min(r0, r1))))
                if r0 != r1 and min(r0, r1) > 0
                else np.nan,
                "you took the smaller of the two ratios; the formula takes the larger (the ratio closer to 1).",
            ),
        ]
    if expected == 0.0 and value != 0.0:
        if acc <= 0.5:
            return f"an attack at or below chance (accuracy {fmt(acc)}) leaks nothing: return 0. (Yours: {fmt(value)}.)"
        return f"identical worlds (r0 = r1 = {fmt(r0)}) cannot be told apart by any number of samples: return 0."
    for wrong, message in slips:
        if np.isfinite(wrong) and not np.isclose(wrong, expected, rtol=1e-6) and np.isclose(value, wrong, rtol=1e-6):
            return f"{message} (Expected {fmt(expected)}, got {fmt(value)}.)"
    return problem


q1 = FunctionQuestion(
    id="4.1",
    function_name="n_leaked",
    title="n_leaked: an accuracy in records",
    reference=n_leaked,
    public_cases=_q1_public,
    hidden_cases=_q1_hidden,
    judge=_q1_judge,
    hints=[
        "Name the worlds' fractions r_lo = min(r0, r1) and r_hi = max(r0, r1): then r_lo / r_hi and "
        "(1 - r_hi) / (1 - r_lo) are both below 1, and the formula no longer depends on which world is 0.",
        "n = log(1 - (2 acc - 1)**2) / log(max(r_lo / r_hi, (1 - r_hi) / (1 - r_lo))): both logs are negative.",
        "Before the formula: return 0.0 when accuracy <= 0.5 (no leak) or r0 == r1 (no property to leak).",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q2: KL votes
def kl_votes(kl_to_world0, kl_to_world1):
    """The KL attack's score per victim: share of (world-0 shadow, world-1 shadow) pairs voting world 1, minus 1/2.

    A pair votes world 1 when the victim is closer to its world-1 shadow; a tie is half a vote.
    """
    d0 = np.asarray(kl_to_world0, dtype=np.float64)  # (n_shadows0, n_victims)
    d1 = np.asarray(kl_to_world1, dtype=np.float64)  # (n_shadows1, n_victims)
    closer = (d1[None, :, :] < d0[:, None, :]).mean(axis=(0, 1))
    ties = (d1[None, :, :] == d0[:, None, :]).mean(axis=(0, 1))
    return closer + 0.5 * ties - 0.5


def _q2_public():
    rng = np.random.default_rng(4)
    return [
        # 2 world-0 shadows, 3 world-1 shadows, 2 victims: victim 0 is closer to world 1, victim 1 to world 0.
        {
            "kl_to_world0": np.array([[0.30, 0.01], [0.25, 0.02]]),
            "kl_to_world1": np.array([[0.02, 0.40], [0.05, 0.35], [0.50, 0.30]]),
        },
        # Ties count as half a vote.
        {"kl_to_world0": np.array([[1.0, 2.0, 3.0]]), "kl_to_world1": np.array([[1.0, 1.0, 3.0], [2.0, 3.0, 1.0]])},
        {"kl_to_world0": rng.exponential(0.1, size=(25, 200)), "kl_to_world1": rng.exponential(0.1, size=(20, 200))},
    ]


def _q2_hidden(rng: np.random.Generator):
    cases = []
    for n0, n1 in ((int(rng.integers(2, 30)), int(rng.integers(2, 30))), (1, int(rng.integers(2, 5)))):
        n_victims = int(rng.integers(1, 300))
        cases.append(
            {
                "kl_to_world0": rng.exponential(rng.uniform(0.01, 1.0), size=(n0, n_victims)),
                "kl_to_world1": rng.exponential(rng.uniform(0.01, 1.0), size=(n1, n_victims)),
            }
        )
    cases.append(
        {
            "kl_to_world0": rng.integers(0, 3, size=(4, 50)).astype(float),
            "kl_to_world1": rng.integers(0, 3, size=(6, 50)).astype(float),
        }
    )  # many ties
    return cases


def _q2_judge(args, expected, answer):
    d0, d1 = np.asarray(args["kl_to_world0"]), np.asarray(args["kl_to_world1"])
    problem = per_record_problem(answer, expected, name="kl_votes", what="victim scores", rtol=1e-9, atol=1e-9)
    if problem is None or answer.values is None or answer.values.shape != expected.shape:
        pairs = (d0.shape[0], d1.shape[0])
        if answer.values is not None and answer.values.shape in (pairs, pairs[::-1]):
            return (
                f"`kl_votes` returned shape {answer.values.shape}: one value per pair of shadows, averaged over the "
                f"victims (the wrong axis). Average over the shadow pairs instead, axes (0, 1) of the "
                f"(n_shadows0, n_shadows1, n_victims) comparison, so each victim keeps its score: shape "
                f"({d0.shape[1]},)."
            )
        if answer.values is not None and answer.values.ndim == 2 and answer.values.shape[-1] == d0.shape[1]:
            return (
                f"`kl_votes` returned shape {answer.values.shape}: one row per shadow. Average the votes over every "
                f"pair of shadows, so that each victim gets one score: shape ({d0.shape[1]},)."
            )
        return problem
    values = answer.values
    strict = (d1[None] < d0[:, None]).mean(axis=(0, 1)) - 0.5
    slips = [
        (
            expected + 0.5,
            "your scores are the share of votes for world 1; subtract 1/2 so that 0 is the decision "
            "threshold (above 0 guesses world 1).",
        ),
        (
            -expected,
            "your scores point the wrong way: a victim closer to the world-1 shadows (smaller KL to them) "
            "must score higher.",
        ),
        (strict, "ties (equal divergences) must count as half a vote each, not as a vote for world 0."),
        (
            (d1[None] <= d0[:, None]).mean(axis=(0, 1)) - 0.5,
            "ties (equal divergences) must count as half a vote each, not as a full vote for world 1 (<= "
            "counts them whole; use < and add half of the ties).",
        ),
        *[
            (
                ((d1[None] < d0[:, None]) + 0.5 * (d1[None] == d0[:, None])).sum(axis=(0, 1)) - offset,
                "you summed the votes over the pairs of shadows; the score is their *mean* (the share of pairs "
                "voting world 1), minus 1/2, so that it does not grow with the number of shadows.",
            )
            for offset in (0.5, 0.5 * d0.shape[0] * d1.shape[0])
        ],
        (
            np.sign(d0.mean(axis=0) - d1.mean(axis=0)) * 0.5,
            "compare the victim with every pair of shadows, not the average divergences of the two worlds.",
        ),
    ]
    for wrong, message in slips:
        if not np.allclose(wrong, expected, atol=1e-9) and np.allclose(values, wrong, atol=1e-9):
            return message
    return problem


q2 = FunctionQuestion(
    id="4.2",
    function_name="kl_votes",
    title="the KL attack's vote",
    reference=kl_votes,
    public_cases=_q2_public,
    hidden_cases=_q2_hidden,
    judge=_q2_judge,
    hints=[
        "kl_to_world0[i, v] is the divergence between world-0 shadow i and victim v; kl_to_world1[j, v] the same "
        "for world-1 shadow j. Each pair (i, j) votes for the world whose shadow is closer to the victim.",
        "Broadcast to (n0, n1, n_victims): d1[None, :, :] < d0[:, None, :] is True where pair (i, j) votes world 1; "
        "equal values are ties worth half a vote.",
        "Average the votes over the first two axes, add half the share of ties, and subtract 0.5.",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q3: written answer
q3 = WrittenQuestion(
    id="4.3",
    title="the secret society",
    prompt="Why is property inference particularly dangerous for a secret society?",
    model_answer="""
A secret society's secret is a property of the group, not of any one member: how many of its
members are women, which community they come from, whether people of a given profession are among
them. Property inference reads exactly such properties off a model trained on the members' records,
without identifying anyone. In the lesson the loss attack could not tell any victim's training records
from strangers (AUC about 0.5: no individual record leaked), yet the KL attack named the share of women
(20% or 50%) of more than 9 victims in 10. So protecting every individual record (or removing the
sensitive column from the inputs) does not protect the secret: the model is a summary of its training
set, and the summary is the secret. Defences built for individuals, such as differential privacy, bound
what one record changes; a property shared by 10-50% of the records still shows unless the model is
made nearly useless. The society cannot rely on "nobody can be named": a released model gives away the
group's make-up and presence by design.
""",
    hints=[
        "What exactly does the society want to keep secret: a record, or something about all of its records?",
        "Compare the two numbers of the lesson's last experiment: the membership attack per record, "
        "and the property attack.",
    ],
)

EXERCISE = Exercise(number=4, title="Property inference", questions=(q1, q2, q3))
