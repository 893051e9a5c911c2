"""Checks for exercise 02, "The loss attack" (Lesson 02).

In the notebook::

    from utils.checks import ex02
    ex02.q1.check(tpr_at_fpr)            # public checks on fixed inputs
    ex02.q1.hint()                       # hint 1; ex02.q1.hint(2) reveals more
    ex02.q1.solution()                   # the reference code

Questions
---------
q1 : ``tpr_at_fpr(labels, scores, fpr)`` -> the attack's true-positive rate at a false-positive rate <= `fpr`.
q2 : ``choose_threshold(labels, scores, max_fpr)`` -> the lowest threshold whose FPR is <= `max_fpr`.
q3 : written: how would an attacker get John Doe's record to test against the model?

Membership labels are 1 = member, 0 = non-member; scores are higher = more likely member, and a
threshold flags every record whose score is >= the threshold. The grader calls the student's
functions on fresh random inputs (`hidden_cases`), with ties and budgets that fall exactly on a
step of the ROC curve, so knowing the public inputs, or this file, is no shortcut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics import roc_steps
from .compare import fmt, scalar_problem
from .core import INCORRECT, AnswerKind, Exercise, FunctionQuestion, Verdict, WrittenQuestion, describe_inputs

__all__ = ["q1", "q2", "q3", "EXERCISE"]


# ----------------------------------------------------------------------------- shared
@dataclass
class _BudgetQuestion(FunctionQuestion):
    """A question whose function must return a number even when nothing fits the budget.

    A function that returns numbers on some cases and None on others did not forget its `return`
    line (the core's message for None): one path of it, typically "nothing fits the budget", returns
    nothing. `nothing_fits` says what that path should return.
    """

    nothing_fits: str = ""

    def grade(self, cases, answers, *, checks="public", expected=None):
        def is_none(answer):
            return answer.kind == AnswerKind.NOT_ATTEMPTED and answer.type_name == "NoneType"

        if len(answers) == len(cases) and any(is_none(a) for a in answers) \
                and any(a.kind not in (AnswerKind.NOT_ATTEMPTED, AnswerKind.MISSING) for a in answers):
            i, args = next((i, args) for i, (args, a) in enumerate(zip(cases, answers), start=1) if is_none(a))
            return Verdict(INCORRECT, (
                f"Not quite yet. On {checks} case {i} of {len(cases)} ({describe_inputs(args)}): "
                f"`{self.function_name}` returned None here but a number on other cases, so one path of your "
                f"function ends without returning. {self.nothing_fits}"))
        return super().grade(cases, answers, checks=checks, expected=expected)


def _roc_steps(labels, scores, *, group_ties=True):
    """TPR and FPR after flagging the highest scores first, one step per distinct score (or per record)."""
    curve = roc_steps(labels, scores, group_ties=group_ties)  # the library's one ROC primitive
    return curve.tpr, curve.fpr


def _random_attack(rng, n, *, ties=False, member_fraction=None):
    """Labels with both classes and scores where members score a little higher (optionally with ties)."""
    fraction = rng.uniform(0.2, 0.8) if member_fraction is None else member_fraction
    labels = (rng.random(n) < fraction).astype(np.int64)
    labels[:2] = [1, 0]  # both classes, always
    labels = rng.permutation(labels)
    scores = rng.normal(0.0, 1.0, n) + rng.uniform(0.2, 1.5) * labels
    if ties:
        scores = np.round(scores, 1)
    return labels, scores


# ----------------------------------------------------------------------------- q1: TPR at a fixed FPR
def tpr_at_fpr(labels, scores, fpr):
    """Fraction of members flagged by the best threshold whose false-positive rate is <= fpr."""
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")  # highest score (most member-like) first
    s, lab = scores[order], labels[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last record of each group of tied scores
    tprs = np.cumsum(lab)[last] / np.sum(lab == 1)
    fprs = np.cumsum(1 - lab)[last] / np.sum(lab == 0)
    allowed = fprs <= fpr
    return float(tprs[allowed].max()) if allowed.any() else 0.0  # flagging nobody: TPR 0


def _q1_public():
    rng = np.random.default_rng(2025)
    labels, scores = _random_attack(rng, 2000, member_fraction=0.5)
    return [
        # Swapped labels (TPR 0) and reversed scores (TPR 1/3) give different wrong answers here: each is named.
        {"labels": np.array([1, 1, 1, 0, 0, 0]), "scores": np.array([0.5, 0.6, 0.2, 0.3, 0.1, 0.4]), "fpr": 0.34},
        {"labels": np.array([0, 0, 1, 1]), "scores": np.array([0.1, 0.4, 0.35, 0.8]), "fpr": 0.1},
        # Ties: the two records scored 0.7 are flagged together or not at all.
        {"labels": np.array([1, 1, 0, 1, 0, 0, 1, 0]), "scores": np.array([0.9, 0.7, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1]),
         "fpr": 0.2},
        # The same records with a budget exactly on a step: FPR 1/4 is allowed.
        {"labels": np.array([1, 1, 0, 1, 0, 0, 1, 0]), "scores": np.array([0.9, 0.7, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1]),
         "fpr": 0.25},
        # The top score is a non-member's and the budget allows no false positive: only "flag nobody" fits.
        {"labels": np.array([0, 1]), "scores": np.array([0.9, 0.1]), "fpr": 0.4},
        {"labels": labels, "scores": scores, "fpr": 0.01},
    ]


def _q1_hidden(rng: np.random.Generator):
    cases = []
    for kind in ("plain", "ties", "exact", "strict-top", "tiny"):
        n = int(rng.integers(4, 9)) if kind == "tiny" else int(rng.integers(300, 3000))
        labels, scores = _random_attack(rng, n, ties=kind in ("ties", "exact"))
        n_nonmembers = int(np.sum(labels == 0))
        if kind == "exact":  # a budget exactly on a step of the curve: <= must include it
            _, steps = _roc_steps(labels, scores)
            fpr = float(rng.choice(steps[(steps > 0) & (steps < 0.2)]))
        elif kind == "strict-top":  # the top score is a non-member and the budget allows no false positive
            scores[np.flatnonzero(labels == 0)[0]] = scores.max() + 1.0
            fpr = 0.5 / n_nonmembers
        elif kind == "tiny":
            fpr = float(rng.uniform(0.2, 0.6))
        else:
            fpr = float(rng.choice([0.1, 0.01, 0.001]))
        cases.append({"labels": labels, "scores": scores, "fpr": fpr})
    return cases


def _tpr_from_steps(tpr, fpr, budget, strict=False):
    allowed = fpr < budget if strict else fpr <= budget
    return float(tpr[allowed].max())


def _q1_judge(args, expected, answer):
    labels, scores, budget = np.asarray(args["labels"]), np.asarray(args["scores"]), float(args["fpr"])
    problem = scalar_problem(answer, expected, name="tpr_at_fpr", what="TPR", rtol=0, atol=1e-9)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    value = float(answer.values.reshape(()))
    tpr, fpr = _roc_steps(labels, scores)
    tpr_records, fpr_records = _roc_steps(labels, scores, group_ties=False)
    flipped_tpr, flipped_fpr = _roc_steps(labels, -scores)
    swapped_tpr, swapped_fpr = _roc_steps(1 - labels, scores)
    swapped = _tpr_from_steps(swapped_tpr, swapped_fpr, budget)
    flipped = _tpr_from_steps(flipped_tpr, flipped_fpr, budget)
    if not np.isclose(swapped, expected, rtol=0, atol=1e-9) and np.isclose(value, swapped, rtol=0, atol=1e-9):
        labels_rule = ("1 means member and 0 non-member: the TPR counts the flagged records with label 1, the FPR "
                       "those with label 0")
        if np.isclose(flipped, swapped, rtol=0, atol=1e-9):  # both slips give this number: name both
            return (f"your answer is what swapped labels or reversed scores give. Check both: {labels_rule}; and a "
                    "higher score means 'more likely member', so flag the highest scores first. "
                    f"(Expected {fmt(expected)}, got {fmt(value)}.)")
        return f"you swapped the labels: {labels_rule}. (Expected {fmt(expected)}, got {fmt(value)}.)"
    slips = [
        (100 * expected, "you returned a percentage; return a fraction between 0 and 1."),
        (_tpr_from_steps(tpr, fpr, budget, strict=True),
         "you required FPR < fpr. The budget includes its limit: a threshold whose FPR equals `fpr` is allowed (<=)."),
        (_tpr_from_steps(tpr_records, fpr_records, budget),
         "records with the same score must be flagged together: a threshold cannot flag one of two tied "
         "records. Move from one *distinct* score to the next (see hint 2)."),
        (flipped,
         "you flagged the lowest scores first. Higher scores mean 'more likely member': sort in decreasing order."),
        (float(np.max(tpr[fpr <= budget + 1.0 / max(1, np.sum(labels == 0))])),
         "your threshold lets one false positive too many through; keep only thresholds with FPR <= fpr."),
    ]
    for wrong, message in slips:
        if not np.isclose(wrong, expected, rtol=0, atol=1e-9) and np.isclose(value, wrong, rtol=0, atol=1e-9):
            return f"{message} (Expected {fmt(expected)}, got {fmt(value)}.)"
    return problem


q1 = _BudgetQuestion(
    nothing_fits="When no threshold but \"flag nobody\" fits the budget, return 0.0: flagging nobody finds no member.",
    id="2.1",
    function_name="tpr_at_fpr",
    title="the TPR at a low FPR",
    reference=tpr_at_fpr,
    public_cases=_q1_public,
    hidden_cases=_q1_hidden,
    judge=_q1_judge,
    hints=[
        "Lower the threshold step by step, from above the highest score downwards. At each step count the "
        "members flagged (TPR = flagged members / all members) and the non-members flagged (FPR = flagged "
        "non-members / all non-members). The answer is the largest TPR among the steps whose FPR is <= fpr.",
        "Sort the records by decreasing score (np.argsort(-scores)); np.cumsum of the sorted labels counts the "
        "members flagged so far, np.cumsum(1 - labels) the non-members. Records with equal scores are flagged "
        "together: keep only the last position of each group of equal scores (where np.diff(sorted_scores) != 0, "
        "plus the very last record).",
        "The strictest threshold flags nobody (TPR 0, FPR 0), so when no step fits the budget the answer is 0.0. "
        "sklearn.metrics.roc_curve(labels, scores) returns exactly these steps: fpr_steps, tpr_steps, _ = "
        "roc_curve(labels, scores); then tpr_steps[fpr_steps <= fpr].max().",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q2: a threshold within an FPR budget
def choose_threshold(labels, scores, max_fpr):
    """The lowest threshold t whose FPR on these records is <= max_fpr (flag a record when score >= t)."""
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    candidates = np.unique(scores)[::-1]  # every distinct score, highest first
    nonmember_scores = np.sort(scores[labels == 0])
    # FPR of threshold t: the number of non-members scoring >= t, over the number of non-members.
    flagged = len(nonmember_scores) - np.searchsorted(nonmember_scores, candidates, side="left")
    fprs = flagged / len(nonmember_scores)
    allowed = candidates[fprs <= max_fpr]
    return float(allowed.min()) if len(allowed) else float(np.inf)  # inf: flag nobody


def _q2_public():
    rng = np.random.default_rng(11)
    labels, scores = _random_attack(rng, 2000, member_fraction=0.5)
    return [
        {"labels": np.array([0, 0, 1, 0, 1, 1]), "scores": np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), "max_fpr": 0.34},
        # A non-member tied with a member at 0.7: flagging the member flags the non-member too.
        {"labels": np.array([1, 1, 0, 1, 0, 0, 1, 0]), "scores": np.array([0.9, 0.7, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1]),
         "max_fpr": 0.2},
        # The same records with a budget exactly on a step: FPR 1/4 is allowed (<=), so 0.6 fits.
        {"labels": np.array([1, 1, 0, 1, 0, 0, 1, 0]), "scores": np.array([0.9, 0.7, 0.7, 0.6, 0.5, 0.3, 0.2, 0.1]),
         "max_fpr": 0.25},
        # The top score belongs to a non-member and no false positive is allowed: flag nobody.
        {"labels": np.array([0, 1, 1, 0]), "scores": np.array([0.9, 0.8, 0.7, 0.1]), "max_fpr": 0.1},
        {"labels": labels, "scores": scores, "max_fpr": 0.01},
    ]


def _q2_hidden(rng: np.random.Generator):
    cases = []
    for kind in ("plain", "ties", "exact", "nobody", "loose"):
        n = int(rng.integers(300, 3000))
        labels, scores = _random_attack(rng, n, ties=kind in ("ties", "exact"))
        n_nonmembers = int(np.sum(labels == 0))
        if kind == "exact":
            _, steps = _roc_steps(labels, scores)
            max_fpr = float(rng.choice(steps[(steps > 0) & (steps < 0.2)]))
        elif kind == "nobody":
            scores[np.flatnonzero(labels == 0)[0]] = scores.max() + 1.0
            max_fpr = 0.5 / n_nonmembers
        elif kind == "loose":
            max_fpr = float(rng.uniform(0.3, 0.7))
        else:
            max_fpr = float(rng.choice([0.1, 0.01, 0.002]))
        cases.append({"labels": labels, "scores": scores, "max_fpr": max_fpr})
    return cases


def _q2_judge(args, expected, answer):
    labels, scores, budget = np.asarray(args["labels"]), np.asarray(args["scores"], float), float(args["max_fpr"])
    name = "choose_threshold"
    if answer.values is None:
        return f"`{name}` returned a {answer.type_name}, but it should return one number (the threshold)."
    if answer.values.size != 1:
        return (f"`{name}` returned {answer.values.size:,} numbers (shape {answer.values.shape}), but it should "
                "return one number: the threshold.")
    threshold = float(answer.values.reshape(()))
    if np.isnan(threshold):
        return f"`{name}` returned nan; return a number (np.inf is fine when no record may be flagged)."
    members, nonmembers = scores[labels == 1], scores[labels == 0]
    tpr, fpr = float(np.mean(members >= threshold)), float(np.mean(nonmembers >= threshold))
    best_tpr = float(np.mean(members >= expected))
    if fpr > budget:
        strict_fpr = float(np.mean(nonmembers > threshold))
        tie = (" Note that the rule is score >= threshold: with > instead, it would flag "
               f"{fmt(strict_fpr * len(nonmembers))}."
               if strict_fpr <= budget else "")
        return (f"your threshold {fmt(threshold)} flags {fmt(fpr * len(nonmembers))} of the {len(nonmembers):,} "
                f"non-members (FPR {fpr:.4g}), more than max_fpr = {budget:.4g} allows.{tie}")
    if tpr < best_tpr - 1e-12:
        best_fpr = float(np.mean(nonmembers >= expected))
        exact = (f" Here that threshold's FPR equals max_fpr exactly ({fmt(best_fpr * len(nonmembers))} of "
                 f"{len(nonmembers):,} non-members), and the budget includes its limit: keep thresholds with "
                 "FPR <= max_fpr (not <), and compute the FPR as a count over the number of non-members, e.g. "
                 "np.mean(nonmember_scores >= t), so that the comparison with max_fpr is exact."
                 if best_fpr == budget else "")
        return (f"your threshold {fmt(threshold)} stays within the budget (FPR {fpr:.4g} <= {budget:.4g}) but flags "
                f"only {tpr:.4g} of the members. A lower threshold, {fmt(expected)}, also stays within the budget "
                f"and flags {best_tpr:.4g}. Return the *lowest* threshold whose FPR is <= max_fpr.{exact}")
    return None


q2 = _BudgetQuestion(
    nothing_fits="When even the highest score flags too many non-members, return np.inf: the threshold that flags "
                 "nobody.",
    id="2.2",
    function_name="choose_threshold",
    title="a threshold within a false-positive budget",
    reference=choose_threshold,
    public_cases=_q2_public,
    hidden_cases=_q2_hidden,
    judge=_q2_judge,
    hints=[
        "A threshold t flags every record with score >= t. Its FPR is the fraction of non-members whose score "
        "is >= t. Lowering t can only raise the TPR and the FPR, so the best threshold within the budget is the "
        "*lowest* one whose FPR is still <= max_fpr.",
        "Only the scores themselves are worth trying as thresholds: np.unique(scores) lists them. For each "
        "candidate t compute np.mean(scores[labels == 0] >= t), keep the candidates with FPR <= max_fpr and "
        "return the smallest of them.",
        "If even the highest score flags too many non-members, no record may be flagged: return np.inf "
        "(every score is below it). Ties matter: a candidate that equals a non-member's score flags that "
        "non-member too, which is why >= is used when computing the FPR.",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q3: written answer
q3 = WrittenQuestion(
    id="2.3",
    title="how the attacker gets John Doe's record",
    prompt="How would an attacker get John Doe's record to test against the model?",
    model_answer="""
The attack needs the record, not the secret: what membership inference reveals is the single bit
"this record was in the training set", and that bit is sensitive because of who the training set
is (the patients of a clinic, say). The record itself is often easy to obtain. Data breaches
leak names, addresses, birth dates and sometimes medical or financial details; public registers
(electoral rolls, court and company records) hold many of the same fields. Social-media profiles,
photos and posts can be scraped at scale, and a scraped face photo is exactly what a face model is
trained on. Data brokers legally sell detailed profiles, so an attacker can simply buy the
attributes the model expects. People close to the victim (an employer, an insurer, a relative)
often know them already. Even a partial record can be enough: fill the unknown fields with
plausible values and look for the version the model is suspiciously sure about. So a defence
cannot assume the record stays secret; it has to limit what the model reveals about it, which is
what the TPR at a low FPR measures.
""",
    hints=[
        "Think of where personal data already circulates: leaks, public records, social media, companies that sell it.",
        "Does the attacker need John Doe's diagnosis, or only the features the model takes as input?",
    ],
)

EXERCISE = Exercise(number=2, title="The loss attack", questions=(q1, q2, q3))
