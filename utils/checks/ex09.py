"""Checks for exercise 09, "What language models remember" (Lesson 09).

In the notebook::

    from utils.checks import ex09
    ex09.q1.check(exposure_from_ranks)
    ex09.q1.hint()

Questions
---------
q1 : ``exposure_from_ranks(ranks, n_candidates)`` -> exposure in bits, ``log2(n_candidates) - log2(rank)``.
q2 : ``zlib_score(log_probs, text)`` -> the mean log-probability per byte over the zlib-compressed length.
q3 : ``min_k_score(log_probs, k)`` -> the mean of the lowest ``max(1, floor(k * n))`` log-probabilities.
q4 : written: why a membership claim about a language model needs an IID split (the evaluation trap).

Each judge names the usual slips: the log base, ranks counted from 0, the sign; len(text) instead of
the compressed length, a sum instead of a mean; the highest instead of the lowest values, k used as
a count or a percentage instead of a fraction.
"""

from __future__ import annotations

import zlib

import numpy as np

from .compare import fmt, per_record_problem, scalar_problem
from .core import Exercise, FunctionQuestion, WrittenQuestion

__all__ = ["q1", "q2", "q3", "q4", "EXERCISE"]


def _close(a, b, rtol=1e-6, atol=1e-9):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(np.all(np.isclose(a, b, rtol=rtol, atol=atol)))


def _named_slip(value, expected, slips, rtol=1e-6, atol=1e-9):
    """The message of the first slip whose wrong answer `value` equals (and the right one does not)."""
    for wrong, message in slips:
        with np.errstate(all="ignore"):
            wrong = np.asarray(wrong, dtype=float)
        distinct = wrong.shape == np.shape(expected) and np.all(np.isfinite(wrong))
        if distinct and not _close(wrong, expected, rtol, atol) and _close(value, wrong, rtol, atol):
            return message
    return None


# ----------------------------------------------------------------------------- q1: exposure from ranks
def exposure_from_ranks(ranks, n_candidates):
    """Exposure in bits of each canary: log2(n_candidates) - log2(rank), rank 1 = the model's favourite."""
    ranks = np.asarray(ranks, dtype=np.float64)
    return np.log2(n_candidates) - np.log2(ranks)


def _q1_public():
    rng = np.random.default_rng(9)
    return [
        {"ranks": np.array([1, 2, 5000, 10000]), "n_candidates": 10_000},
        {"ranks": np.array([1, 1, 3, 17, 999, 1000]), "n_candidates": 1000},
        {"ranks": rng.integers(1, 10**9, size=50), "n_candidates": 10**9},
    ]


def _q1_hidden(rng: np.random.Generator):
    cases = []
    for digits in (4, 6, int(rng.integers(2, 10))):
        n = 10**digits
        ranks = np.unique(np.r_[1, n, rng.integers(1, n + 1, size=int(rng.integers(5, 60)))])
        cases.append({"ranks": rng.permutation(ranks), "n_candidates": n})
    return cases


def _q1_judge(args, expected, answer):
    ranks, n = np.asarray(args["ranks"], float), float(args["n_candidates"])
    problem = per_record_problem(answer, expected, name="exposure_from_ranks", what="exposures", rtol=1e-6,
                                 atol=1e-9, record_hint=lambda i: f"rank {fmt(ranks[i])} of {fmt(n)}")
    if problem is None or answer.values is None or answer.values.shape != expected.shape:
        return problem
    with np.errstate(all="ignore"):
        slips = [
            (np.log(n) - np.log(ranks), "you used the natural log (np.log): exposure is in bits, so use np.log2."),
            (np.log10(n) - np.log10(ranks), "you used log base 10: exposure is in bits, so use np.log2."),
            (-expected, "your exposures have the wrong sign: log2(n_candidates) - log2(rank), "
                        "largest for rank 1 (the model's favourite)."),
            (np.log2(n) - np.log2(ranks + 1), "you added 1 to the ranks. Ranks already start at 1 (rank 1 = the most "
                                              "likely candidate), so rank 1 of n gives log2(n) bits."),
            (np.log2(n) - np.log2(np.maximum(ranks - 1, 1e-300)), "you counted ranks from 0; they start at 1."),
            (np.log2(n - ranks + 1), "you ranked from the wrong end: rank 1 is the *most* likely candidate, and it "
                                     "has the highest exposure."),
            (np.log2(ranks), "you returned log2(rank); exposure is log2(n_candidates) - log2(rank)."),
        ]
    return _named_slip(answer.values, expected, slips) or problem


q1 = FunctionQuestion(
    id="9.1",
    function_name="exposure_from_ranks",
    title="exposure from ranks",
    reference=exposure_from_ranks,
    public_cases=_q1_public,
    hidden_cases=_q1_hidden,
    judge=_q1_judge,
    hints=[
        "Exposure compares the canary's rank with the size of the space: rank 1 of n_candidates is the most "
        "surprising event, log2(n_candidates) bits; the median rank gives about 1 bit; the last rank 0 bits.",
        "Return np.log2(n_candidates) - np.log2(ranks), one value per rank (ranks start at 1). Bits mean base 2.",
    ],
)


# ----------------------------------------------------------------------------- q2: the zlib score
def zlib_score(log_probs, text):
    """Mean log-probability per byte (nats) divided by the length in bytes of zlib.compress(text)."""
    import zlib

    compressed = len(zlib.compress(str(text).encode("utf-8")))
    return float(np.mean(np.asarray(log_probs, dtype=np.float64)) / compressed)


def _q2_public():
    rng = np.random.default_rng(3)
    text = "Patient Norma Fisher, born 1961-09-22, SSN 524-63-6635, lives in Tammystad. Diagnosis: asthma."
    return [
        {"log_probs": np.array([-1.0, -2.0, -3.0]), "text": "abc"},
        {"log_probs": np.full(40, -0.25), "text": "a" * 40},
        {"log_probs": -rng.exponential(1.5, size=len(text)), "text": text},
    ]


def _q2_hidden(rng: np.random.Generator):
    from ..lm.records import make_records

    texts = make_records(3, seed=int(rng.integers(2**31)))
    texts[1] = texts[1][: int(rng.integers(10, 40))] * int(rng.integers(2, 4))  # a repetitive one compresses well
    texts = [t[:150] for t in texts]
    return [{"log_probs": -rng.exponential(rng.uniform(0.3, 3), size=len(t)), "text": t} for t in texts]


def _q2_judge(args, expected, answer):
    log_probs, text = np.asarray(args["log_probs"], float), str(args["text"])
    problem = scalar_problem(answer, expected, name="zlib_score", what="zlib score", rtol=1e-6, atol=1e-12)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    compressed = len(zlib.compress(text.encode("utf-8")))
    slips = [
        (-expected, "your score has the wrong sign. Use the mean log-probability (negative; higher = more likely "
                    "member), not the loss."),
        (expected / np.log(2), "you converted the log-probabilities to bits; keep them in nats as given."),
        (expected * compressed / len(text.encode()), "you divided by len(text); divide by the *compressed* length, "
                                                     "len(zlib.compress(text.encode('utf-8')))."),
        (np.sum(log_probs) / compressed, "you summed the log-probabilities; use their mean (per byte)."),
        (compressed / np.mean(log_probs), "you divided the other way round: mean log-probability / compressed length."),
        (np.mean(log_probs) / (8 * compressed), "you measured the compressed length in bits; use bytes."),
    ]
    message = _named_slip(float(answer.values.reshape(())), expected, slips, atol=1e-12)
    return f"{message} (Expected {fmt(expected)}, got {fmt(answer.values.reshape(()))}.)" if message else problem


q2 = FunctionQuestion(
    id="9.2",
    function_name="zlib_score",
    title="the zlib score",
    reference=zlib_score,
    public_cases=_q2_public,
    hidden_cases=_q2_hidden,
    judge=_q2_judge,
    hints=[
        "The zlib attack asks whether the model finds a text more predictable than a general-purpose "
        "compressor does: divide the model's mean log-probability by the length of the compressed text.",
        "len(zlib.compress(text.encode('utf-8'))) is the compressed length in bytes; return "
        "np.mean(log_probs) / that length, one float (negative; higher = more likely member).",
    ],
)


# ----------------------------------------------------------------------------- q3: Min-K%
def min_k_score(log_probs, k):
    """Mean of the lowest max(1, floor(k * n)) of a text's n log-probabilities (k is a fraction)."""
    values = np.sort(np.asarray(log_probs, dtype=np.float64))  # lowest first
    keep = max(1, int(np.floor(k * len(values) + 1e-9)))
    return float(values[:keep].mean())


def _q3_public():
    rng = np.random.default_rng(5)
    return [
        {"log_probs": np.array([-5.0, -1.0, -0.1, -0.2, -4.0, -0.3, -0.4, -0.5, -0.6, -0.7]), "k": 0.2},
        {"log_probs": np.array([-2.0, -0.5, -1.0]), "k": 0.2},  # floor(0.6) = 0: keep one value
        {"log_probs": -rng.exponential(1.0, size=97), "k": 0.1},
        {"log_probs": -rng.exponential(1.0, size=120), "k": 0.5},
    ]


def _q3_hidden(rng: np.random.Generator):
    return [{"log_probs": -rng.exponential(rng.uniform(0.3, 2), size=int(rng.integers(lo, hi))),
             "k": float(rng.choice([0.05, 0.1, 0.2, 0.3]))} for lo, hi in ((40, 160), (40, 160), (3, 8))]


def _q3_judge(args, expected, answer):
    values, k = np.sort(np.asarray(args["log_probs"], float)), float(args["k"])
    n = len(values)
    if answer.values is not None and answer.values.size == 1 and np.isnan(answer.values).all() and k * n < 1:
        return (f"`min_k_score` returned nan: here k * n = {k * n:.2g} rounds down to 0 bytes, and the mean of "
                "nothing is NaN. Keep at least one byte: max(1, int(np.floor(k * n))).")
    problem = scalar_problem(answer, expected, name="min_k_score", what="Min-K% score", rtol=1e-6, atol=1e-12)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    keep = max(1, int(np.floor(k * n + 1e-9)))
    count_k = max(1, min(n, int(round(k))))
    percent_k = max(1, min(n, int(np.floor(k * 100))))
    slips = [
        (values[::-1][:keep].mean(), "you averaged the *highest* log-probabilities. Min-K% keeps the lowest ones "
                                     "(the most surprising bytes): sort in increasing order."),
        (values[:count_k].mean(), f"you used k as a count of bytes ({count_k}). k is a *fraction* of the text's "
                                  f"{n} bytes: keep max(1, floor(k * n)) = {keep} of them."),
        (values[:percent_k].mean() if percent_k < n else np.nan,  # all bytes: the loss slip below names it
         f"you used k as a percentage count ({percent_k} bytes). k is a fraction: keep "
         f"max(1, floor(k * n)) = {keep} bytes."),
        (-values[:keep].mean(), "your score has the wrong sign: return the mean log-probability itself "
                                "(higher = more likely member)."),
        (values[:max(1, int(np.ceil(k * n - 1e-9)))].mean(), f"you rounded k * n up; round down (floor), keeping "
                                                           f"at least one byte: {keep} here."),
        (values.mean(), "you averaged all the log-probabilities (the loss attack); keep only the lowest fraction k"
                        + (" (k used as a percentage, k * 100 bytes, also keeps all of them here)."
                           if percent_k >= n else ".")),
    ]
    message = _named_slip(float(answer.values.reshape(())), expected, slips, atol=1e-12)
    return f"{message} (Expected {fmt(expected)}, got {fmt(answer.values.reshape(()))}.)" if message else problem


q3 = FunctionQuestion(
    id="9.3",
    function_name="min_k_score",
    title="the Min-K% score",
    reference=min_k_score,
    public_cases=_q3_public,
    hidden_cases=_q3_hidden,
    judge=_q3_judge,
    hints=[
        "A text the model trained on has few very surprising bytes. Min-K% looks only at the most surprising "
        "ones: the lowest log-probabilities, a fraction k of the text's bytes.",
        "np.sort(log_probs) puts the lowest first. Keep the first max(1, int(np.floor(k * len(log_probs)))) and "
        "return their mean, one float.",
    ],
)


# ----------------------------------------------------------------------------- q4: written answer
q4 = WrittenQuestion(
    id="9.4",
    title="the evaluation trap",
    prompt="A paper reports that its attack detects which documents a large language model was trained on, with "
           "an AUC of 0.95: members are articles from before the model's training cutoff, non-members articles "
           "published after it. Why is that no evidence of memorisation, and what evaluation would you ask for?",
    model_answer="""
The members and non-members come from different distributions: newer articles mention other events, names and
dates than older ones. Any score that reacts to the text itself separates the two groups, whether or not the model
remembers anything. In the lesson a blind classifier that never queried the model reached an AUC near 1 on such a
split, and the model-based attacks "inflated" with it, although the same model was at chance on an IID split. So an
AUC of 0.95 could be measuring the date of the text, not membership. I would ask for an IID split: members and
non-members drawn at random from one pool *before* training (for example a held-out random half of the same
corpus), or canaries inserted at random; the attack's AUC and its TPR at a low FPR, with intervals, on that split;
and the blind baseline on the same split, which should sit at 0.5. Only a gap above that baseline is evidence of
memory.
""",
    hints=[
        "What differs between articles from before and after a date, apart from whether a model saw them?",
        "Could a classifier that never queries the model tell the two groups apart? What does the lesson's blind "
        "baseline show?",
    ],
)

EXERCISE = Exercise(number=9, title="What language models remember", questions=(q1, q2, q3, q4))
