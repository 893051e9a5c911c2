"""Checks for exercise 08, "Capstone: audit a released model" (Lesson 08).

In the notebook::

    from utils.checks import ex08
    ex08.q1.check(is_allowed)      # public checks on fixed inputs
    ex08.q1.hint()                 # hint 1; ex08.q1.hint(2) reveals more
    ex08.q1.solution()             # the reference code

Questions
---------
q1 : ``is_allowed(needs_outputs, needs_shadows, outputs, shadow_data)`` -> True when an attack that reads
     `needs_outputs` ("labels" or "confidences") and does (or does not) train shadow models can be run
     by an attacker whose queries return `outputs` and who does (or does not) have shadow data.
q2 : ``group_tpr(scores, membership, group, fpr)`` -> the attack's TPR on a group of members (e.g. the
     records deleted from the dataset) at the threshold where at most a fraction `fpr` of the
     non-members is flagged: the measurement behind the deletion experiment.
q3 : written: your verdict on the released model.
q4 : written: John Doe asks to be deleted. Is deleting his record enough?

The grader calls the student's functions on fresh random inputs (`hidden_cases`), so knowing the
public inputs, or this file, is no shortcut.
"""

from __future__ import annotations

import itertools

import numpy as np

from .compare import fmt, scalar_problem
from .core import Exercise, FunctionQuestion, WrittenQuestion

__all__ = ["q1", "q2", "q3", "q4", "EXERCISE"]


# ----------------------------------------------------------------------------- q1: the threat-model rule
def is_allowed(needs_outputs, needs_shadows, outputs, shadow_data):
    """Can this attacker run this attack? Confidences include the label; shadows are needed only if used."""
    has_what_it_reads = needs_outputs == "labels" or outputs == "confidences"
    has_what_it_trains = (not needs_shadows) or shadow_data
    return bool(has_what_it_reads and has_what_it_trains)


_COMBOS = [
    {"needs_outputs": n_out, "needs_shadows": n_sh, "outputs": out, "shadow_data": sh}
    for n_out, n_sh, out, sh in itertools.product(("labels", "confidences"), (False, True),
                                                  ("labels", "confidences"), (False, True))
]


def _q1_public():
    return [dict(c) for c in _COMBOS]


def _q1_hidden(rng: np.random.Generator):
    order = rng.permutation(len(_COMBOS))
    return [dict(_COMBOS[i]) for i in order[: int(rng.integers(10, len(_COMBOS) + 1))]]


def _q1_judge(args, expected, answer):
    values = answer.values
    if values is None or values.size != 1:
        shown = answer.type_name if values is None else f"{values.size} values"
        return f"`is_allowed` returned {shown}; return one boolean, True or False."
    value = bool(values.reshape(()) != 0)
    if value == expected:
        return None
    n_out, n_sh, out, sh = args["needs_outputs"], args["needs_shadows"], args["outputs"], args["shadow_data"]
    if n_out == "labels" and out == "confidences" and not value:
        return ("a label-only attack is allowed when queries return confidences: the confidences include the label "
                "(it is the class with the largest confidence). Expected True.")
    if n_out == "confidences" and out == "labels" and value:
        return "this attack reads the confidences, and a labels-only API never returns them. Expected False."
    if n_sh and not sh and value:
        return (
            "this attack trains shadow models, and this attacker has no shadow data to train them on. Expected False."
        )
    if not n_sh and sh and not value:
        return ("having shadow data never rules an attack out: an attack that needs no shadows runs whether or not "
                "the attacker has them. Expected True.")
    return f"expected {expected}, got {value}."


q1 = FunctionQuestion(
    id="8.1",
    function_name="is_allowed",
    title="the threat-model rule",
    reference=is_allowed,
    public_cases=_q1_public,
    hidden_cases=_q1_hidden,
    judge=_q1_judge,
    hints=[
        "An attack is allowed when the attacker has everything it needs: what it reads from a query, and "
        "(if it trains shadow models) shadow data.",
        "What a query returns: 'confidences' give the attacker the label too (the largest entry), 'labels' give "
        "only the label. So an attack that needs 'labels' works with either; one that needs 'confidences' only "
        "with 'confidences'.",
        "return (needs_outputs == 'labels' or outputs == 'confidences') and (not needs_shadows or shadow_data)",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q2: TPR on a group at a fixed FPR
def group_tpr(scores, membership, group, fpr):
    """TPR on the records `group` at the threshold that flags at most a fraction `fpr` of the non-members."""
    scores = np.asarray(scores, dtype=np.float64)
    nonmember_scores = np.sort(scores[np.asarray(membership) == 0])[::-1]   # highest first
    allowed = int(np.floor(fpr * len(nonmember_scores) + 1e-9))             # false positives we may make
    # flag every score above the (allowed + 1)-th highest non-member score: exactly `allowed` (or fewer) flagged
    threshold = nonmember_scores[allowed] if allowed < len(nonmember_scores) else -np.inf
    return float(np.mean(scores[np.asarray(group)] > threshold))


def _q2_case(rng, n_members, n_nonmembers, n_group, shift, fpr, decimals=None):
    membership = np.r_[np.ones(n_members, np.int64), np.zeros(n_nonmembers, np.int64)]
    scores = rng.normal(0.0, 1.0, n_members + n_nonmembers)
    group = np.sort(rng.choice(n_members, size=n_group, replace=False))
    scores[group] += shift           # the group stands out ...
    scores[:n_members] += shift / 3  # ... and the other members a little
    if decimals is not None:         # rounded scores: ties at the threshold
        scores = np.round(scores, decimals)
    perm = rng.permutation(len(scores))  # members and non-members interleaved
    inverse = np.argsort(perm)
    return {"scores": scores[perm], "membership": membership[perm], "group": np.sort(inverse[group]), "fpr": fpr}


def _q2_public():
    rng = np.random.default_rng(808)
    return [
        # by hand: non-members 0.8, 0.5, 0.5, 0.2, 0.1; at fpr 0.2 one false positive is allowed, so the
        # threshold is "above 0.5": of the group (0.9, 0.5, 0.6, 0.3) two are flagged -> 2/4. The member at
        # 0.95 is not in the group. (0.3 tells an ascending sort, which flags it, from >=, which does not.)
        {"scores": np.array([0.9, 0.5, 0.6, 0.95, 0.3, 0.8, 0.5, 0.5, 0.2, 0.1]),
         "membership": np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]), "group": np.array([0, 1, 2, 4]), "fpr": 0.2},
        _q2_case(rng, 1250, 1250, 250, 1.5, 0.01),
        _q2_case(rng, 300, 500, 60, 2.0, 0.05, decimals=1),
    ]


def _q2_hidden(rng: np.random.Generator):
    cases = []
    for decimals in (None, 1, None):
        n_members, n_nonmembers = int(rng.integers(50, 2000)), int(rng.integers(100, 2000))
        n_group = int(rng.integers(5, n_members // 2))
        fpr = float(rng.choice([0.01, 0.02, 0.05, 0.1, 0.2]))
        cases.append(_q2_case(rng, n_members, n_nonmembers, n_group, rng.uniform(0.5, 3.0), fpr, decimals))
    return cases


def _q2_variants(args):
    """What the usual slips compute on these inputs."""
    scores = np.asarray(args["scores"], dtype=np.float64)
    membership = np.asarray(args["membership"])
    group, fpr = np.asarray(args["group"]), args["fpr"]
    non = np.sort(scores[membership == 0])[::-1]
    allowed = int(np.floor(fpr * len(non) + 1e-9))
    threshold = non[allowed] if allowed < len(non) else -np.inf
    everyone = np.sort(scores)[::-1]
    k_all = int(np.floor(fpr * len(everyone) + 1e-9))
    ascending = np.sort(scores[membership == 0])
    shifted = {k: (non[k] if 0 <= k < len(non) else -np.inf) for k in (allowed - 1, allowed + 1)}
    return [
        (float(np.mean(scores[group] > (ascending[allowed] if allowed < len(ascending) else -np.inf))),
         "you sorted the non-member scores in ascending order (np.sort's own), so entry [allowed] is one of the "
         "*lowest* scores and almost everyone is flagged. Sort highest first: np.sort(...)[::-1]."),
        *[(float(np.mean(scores[group] > shifted[k])),
           f"your threshold is one place off: it is the non-member score at index "
           f"[allowed {'-' if k < allowed else '+'} 1] of the descending sort. With allowed = "
           "floor(fpr * n_nonmembers) false positives permitted, flag what lies strictly above index [allowed], "
           "the (allowed + 1)-th highest non-member score.")
          for k in (allowed - 1, allowed + 1) if k >= 0],
        (float(np.sum(scores[group] > threshold)),
         "you returned how many of the group are flagged; the TPR is a fraction: divide by the group's size "
         "(np.mean of the flags instead of np.sum)."),
        (float(np.mean(scores[membership == 1] > threshold)),
         "you measured the TPR on all members; the question is about the group only: scores[group]."),
        (float(np.mean(scores[group] >= threshold)),
         "you flagged scores >= the threshold; with ties that flags more non-members than fpr allows. "
         "Flag only the scores strictly above the (allowed + 1)-th highest non-member score."),
        (float(np.mean(scores[group] > np.quantile(scores[membership == 0], 1 - fpr))),
         "you took the threshold from np.quantile, which interpolates between non-member scores; take the "
         "(allowed + 1)-th highest non-member score itself, with allowed = floor(fpr * n_nonmembers)."),
        (float(np.mean(scores[group] > (everyone[k_all] if k_all < len(everyone) else -np.inf))),
         "your threshold counts members as false positives too; the FPR is measured on the non-members only "
         "(membership == 0)."),
        (100 * float(np.mean(scores[group] > threshold)), "you returned a percentage; return a fraction in [0, 1]."),
    ]


def _q2_judge(args, expected, answer):
    problem = scalar_problem(answer, expected, name="group_tpr", what="TPR", rtol=0, atol=1e-9)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    value = float(answer.values.reshape(()))
    matches = [message for wrong, message in _q2_variants(args)
               if not np.isclose(wrong, expected, rtol=0, atol=1e-9) and np.isclose(value, wrong, rtol=0, atol=1e-9)]
    if len(matches) == 1:
        return f"{matches[0]} (Expected {fmt(expected)}, got {fmt(value)}.)"
    if matches:  # on these inputs several slips give the same number: name each
        listed = " ".join(f"({i}) {m[0].upper()}{m[1:]}" for i, m in enumerate(matches, 1))
        return f"Expected {fmt(expected)}, got {fmt(value)}, which {len(matches)} usual slips give here. {listed}"
    return problem


q2 = FunctionQuestion(
    id="8.2",
    function_name="group_tpr",
    title="the attack's TPR on a group of records",
    reference=group_tpr,
    library_allowed=("utils.attacks.threshold",),  # the capstone reuses lesson 02's attack
    public_cases=_q2_public,
    hidden_cases=_q2_hidden,
    judge=_q2_judge,
    hints=[
        "First fix the threshold from the non-members alone (membership == 0): at most a fraction fpr of them "
        "may be flagged. Then count how many of the group's records score above it.",
        "Sort the non-member scores from highest to lowest. With allowed = floor(fpr * n_nonmembers) false "
        "positives, the threshold is the (allowed + 1)-th highest non-member score: flag what is strictly above it.",
        "threshold = np.sort(non_scores)[::-1][allowed]; return float(np.mean(scores[group] > threshold)) "
        "(if allowed equals the number of non-members, every record is flagged).",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q3, q4: written answers
q3 = WrittenQuestion(
    id="8.3",
    title="your verdict on the released model",
    prompt="Write your verdict on the released model: threat model, finding with its interval, risk, utility, "
           "and what the company should do.",
    model_answer="""
Threat model. The prediction API returns the full confidence vector, and the model card publishes the
architecture and the training recipe; handwritten digits are easy to collect. So the attacker can run
every attack of the course, shadow models included. Finding. The strongest attack, online LiRA, names
about 7-10% of the 1,250 training records (95% interval several percent wide, well above 5%) while
wrongly accusing at most 1% of the non-members, and still several percent at 0.1% FPR. The loss
attack alone would have suggested the model is nearly safe; the per-record attack shows it is not.
Risk: high. For the people in the training set, the model is a witness: an attacker holding John
Doe's record can tell with good confidence that he was in it. Utility: about 89% accuracy on unseen
digits. Recommendation: do not release as it is. Masking the API to labels only hides the signal
from these attacks but proves nothing (the gap attack's AUC stays above 0.5); early stopping or
weight decay lower the risk a little at a small cost in accuracy but leave it far above a guess.
Retrain with differential privacy (DP-SGD) at a stated epsilon, re-audit, and publish the guarantee.
""",
    hints=[
        "Four parts: who the attacker is (threat model), what the strongest allowed attack found (TPR at a low FPR, "
        "with its interval), how serious that is, and what the model is worth (accuracy).",
        "End with a recommendation, and say what each option on the privacy-utility chart would buy and cost.",
    ],
)

q4 = WrittenQuestion(
    id="8.4",
    title="deleting John Doe's record",
    prompt="John Doe asks the company to delete his record. It deletes the row from its database. Is his "
           "privacy restored? What would it take, and what does it cost?",
    model_answer="""
No. Deleting the row changes the database, not the model: the weights are bit for bit what they were,
so the model answers exactly as before, and an attacker who holds a copy of John Doe's record (leaked,
scraped or bought) still finds that he was a member. In the lesson the attack's power on the 250
deleted records did not move at all. The model is itself a copy of what it learnt from the data.
What removes the ghost is retraining from scratch without his record: then the model has never seen
him and he looks like any non-member (the attack's AUC on the deleted group fell to about 0.5). The
cost is a whole training run per deletion request (seconds here, weeks for a large model), every
deployed copy of the old model has to be replaced, and retraining protects only the deleted records,
not the others. Cheaper "machine unlearning" methods (e.g. SISA's sharded training) reduce the cost.
The lesson of the course: data is persistent, so privacy has to be built in before training, with
less memorisation and above all with differential privacy, which limits what the model can remember
about any one person in the first place.
""",
    hints=[
        "What changes when the row is deleted: the database, the model's weights, or both?",
        "Which model would treat John Doe like someone it never saw, and what does it take to get it?",
    ],
)

EXERCISE = Exercise(number=8, title="Capstone: audit a released model", questions=(q1, q2, q3, q4))
