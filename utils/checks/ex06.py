"""Checks for exercise 06, "Differential privacy" (Lesson 06).

In the notebook::

    from utils.checks import ex06
    ex06.q1.check(dp_max_tpr)            # public checks on fixed inputs
    ex06.q1.hint()                       # hint 1; ex06.q1.hint(2) reveals more
    ex06.q1.solution()                   # the reference code

Questions
---------
q1 : ``dp_max_tpr(fpr, epsilon, delta)`` -> the highest TPR any attack can reach at `fpr` against an
     (epsilon, delta)-DP training algorithm.
q2 : ``cp_epsilon_lower_bound(true_positives, n_members, false_positives, n_nonmembers, delta)`` -> the
     epsilon an audit certifies at 95% confidence from one threshold's counts.
q3 : written: the audit certifies 0 while the accountant says 16; is the model more private than promised?
q4 : ``audit_ceiling(guesses, confidence)`` -> the most epsilon a one-run audit with that many guesses can
     certify, even when all are right (Lesson 06b).

The grader calls the student's functions on fresh random inputs (`hidden_cases`): FPRs on both
branches of the bound, deltas of 0 and more, counts where the mirror inequality wins.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import beta

from .compare import fmt, scalar_problem
from .core import Exercise, FunctionQuestion, WrittenQuestion

__all__ = ["q1", "q2", "q3", "q4", "EXERCISE"]


# ----------------------------------------------------------------------------- q1: the DP bound at one FPR
def dp_max_tpr(fpr, epsilon, delta):
    """Highest TPR at false-positive rate `fpr` against an (epsilon, delta)-DP algorithm."""
    first = math.exp(epsilon) * fpr + delta                        # TPR <= e^eps FPR + delta
    mirror = 1 - math.exp(-epsilon) * (1 - delta - fpr)            # 1 - FPR <= e^eps (1 - TPR) + delta
    return float(max(fpr, min(1.0, first, mirror)))                # never below guessing, never above 1


def _q1_public():
    return [
        {"fpr": 0.01, "epsilon": 1.0, "delta": 0.0},
        {"fpr": 0.001, "epsilon": 4.0, "delta": 1e-5},
        {"fpr": 0.5, "epsilon": math.log(2), "delta": 0.1},   # the mirror inequality is the tighter one here
        {"fpr": 0.2, "epsilon": 8.0, "delta": 1e-5},          # e^8 * 0.2 > 1: the bound is 1
        {"fpr": 0.3, "epsilon": 0.0, "delta": 0.0},           # epsilon 0: no attack beats guessing
    ]


def _q1_hidden(rng: np.random.Generator):
    cases = []
    for kind in ("low", "low", "mirror", "one", "delta"):
        eps = float(rng.uniform(0.2, 3.0))
        if kind == "low":
            fpr, delta = float(10 ** rng.uniform(-4, -2)), float(rng.choice([0.0, 1e-5]))
        elif kind == "mirror":
            fpr, delta, eps = float(rng.uniform(0.4, 0.7)), float(rng.uniform(0.0, 0.1)), float(rng.uniform(0.2, 0.8))
        elif kind == "one":
            fpr, delta, eps = float(rng.uniform(0.1, 0.5)), 0.0, float(rng.uniform(5, 10))
        else:
            fpr, delta = float(rng.uniform(0.001, 0.05)), float(rng.uniform(0.01, 0.1))
        cases.append({"fpr": fpr, "epsilon": eps, "delta": delta})
    return cases


def _q1_judge(args, expected, answer):
    problem = scalar_problem(answer, expected, name="dp_max_tpr", what="largest TPR", rtol=1e-6, atol=1e-9)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    value = float(answer.values.reshape(()))
    fpr, eps, delta = args["fpr"], args["epsilon"], args["delta"]
    first = math.exp(eps) * fpr + delta
    if math.isclose(value, first, rel_tol=1e-6) and first > 1:
        return problem + " A rate cannot exceed 1: cap the bound with min(1, ...)."
    if math.isclose(value, min(1.0, first), rel_tol=1e-6):
        return problem + (" That is e^eps * FPR + delta alone. DP also bounds the *false negatives* of the "
                          "reverse test: 1 - FPR <= e^eps (1 - TPR) + delta, i.e. TPR <= 1 - e^-eps (1 - delta - FPR). "
                          "Take the smaller of the two.")
    if delta > 0 and math.isclose(value, dp_max_tpr(fpr, eps, 0.0), rel_tol=1e-6):
        return problem + " It looks like delta was left out: it is added to e^eps * FPR (and taken from 1 - FPR)."
    if math.isclose(value, min(1.0, math.exp(-eps) * fpr + delta), rel_tol=1e-6):
        return problem + " The factor is e^(+epsilon): DP lets the member side be e^eps times more likely, not less."
    mirror = 1 - math.exp(-eps) * (1 - delta - fpr)
    flipped = max(fpr, min(1.0, first, 1 - math.exp(eps) * (1 - delta - fpr)))
    if not math.isclose(flipped, expected, rel_tol=1e-6) and math.isclose(value, flipped, rel_tol=1e-6):
        return problem + (" The reverse-test term has the wrong sign in its exponent: solving 1 - FPR <= "
                          "e^eps (1 - TPR) + delta for TPR gives TPR <= 1 - e^-eps (1 - delta - FPR), with e^-eps.")
    for larger in (max(first, mirror), min(1.0, max(first, mirror)), max(fpr, min(1.0, max(first, mirror)))):
        if math.isclose(value, larger, rel_tol=1e-6):
            return problem + (" You took the larger of the two bounds. Both inequalities hold at once, so the TPR "
                              "is at most the smaller: min(1, e^eps FPR + delta, 1 - e^-eps (1 - delta - FPR)).")
    return problem


q1 = FunctionQuestion(
    id="6.1",
    function_name="dp_max_tpr",
    title="the DP bound at one FPR",
    reference=dp_max_tpr,
    public_cases=_q1_public,
    hidden_cases=_q1_hidden,
    judge=_q1_judge,
    hints=[
        "An attack is a test: 'member' means the model came from the data set with the record. DP says "
        "P[test says member | member] <= e^eps P[test says member | non-member] + delta: TPR <= e^eps FPR + delta.",
        "The same holds for the opposite answer: P[says non-member | non-member] <= e^eps P[says non-member | "
        "member] + delta, i.e. 1 - FPR <= e^eps (1 - TPR) + delta. Solve it for TPR.",
        "Return max(fpr, min(1, e^eps * fpr + delta, 1 - e^-eps * (1 - delta - fpr))): a rate is at most 1, and "
        "an attack can always do as well as guessing.",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q2: Clopper-Pearson epsilon
def cp_epsilon_lower_bound(true_positives, n_members, false_positives, n_nonmembers, delta):
    """The epsilon certified at 95% by one threshold's counts (Jagielski et al. 2020)."""
    from scipy.stats import beta

    # Each rate's 97.5% one-sided Clopper-Pearson end: both hold together with probability >= 95%.
    tpr_low = 0.0 if true_positives == 0 else beta.ppf(0.025, true_positives, n_members - true_positives + 1)
    fpr_high = 1.0 if false_positives == n_nonmembers else beta.ppf(0.975, false_positives + 1,
                                                                     n_nonmembers - false_positives)
    candidates = [0.0]
    if tpr_low - delta > 0:
        candidates.append(math.log((tpr_low - delta) / fpr_high))           # TPR <= e^eps FPR + delta
    if 1 - fpr_high - delta > 0 and tpr_low < 1:
        candidates.append(math.log((1 - fpr_high - delta) / (1 - tpr_low)))  # 1 - FPR <= e^eps (1 - TPR) + delta
    return float(max(candidates))


def _q2_public():
    return [
        {"true_positives": 100, "n_members": 100, "false_positives": 0, "n_nonmembers": 100, "delta": 0.0},
        {"true_positives": 60, "n_members": 500, "false_positives": 2, "n_nonmembers": 500, "delta": 1e-5},
        {"true_positives": 450, "n_members": 500, "false_positives": 100, "n_nonmembers": 500, "delta": 0.0},
        {"true_positives": 10, "n_members": 500, "false_positives": 8, "n_nonmembers": 500, "delta": 1e-5},
        {"true_positives": 120, "n_members": 500, "false_positives": 3, "n_nonmembers": 500, "delta": 0.05},
    ]


def _q2_hidden(rng: np.random.Generator):
    cases = []
    for kind in ("low-fpr", "low-fpr", "mirror", "nothing", "perfect"):
        n1, n0 = int(rng.integers(100, 2000)), int(rng.integers(100, 2000))
        if kind == "low-fpr":
            tp, fp = int(rng.integers(n1 // 20, n1 // 3)), int(rng.integers(0, 4))
        elif kind == "mirror":
            tp, fp = int(n1 - rng.integers(0, 4)), int(rng.integers(n0 // 4, n0 // 2))
        elif kind == "nothing":
            tp = int(rng.integers(5, 30))
            fp = int(round(tp * n0 / n1))
        else:
            tp, fp = n1, 0
        cases.append({"true_positives": tp, "n_members": n1, "false_positives": fp, "n_nonmembers": n0,
                      "delta": float(rng.choice([0.0, 1e-5, 1e-3]))})
    return cases


def _point_estimate(tp, n1, fp, n0, delta):
    tpr, fpr = tp / n1, fp / n0
    out = [0.0]
    if tpr - delta > 0:
        out.append(math.inf if fpr == 0 else math.log((tpr - delta) / fpr))
    if 1 - fpr - delta > 0:
        out.append(math.inf if tpr == 1 else math.log((1 - fpr - delta) / (1 - tpr)))
    return max(out)


def _q2_judge(args, expected, answer):
    if answer.values is not None and answer.values.size == 1 and np.isinf(float(answer.values.reshape(()))):
        return ("`cp_epsilon_lower_bound` returned inf. With zero false positives the *measured* FPR is 0, but "
                "the true FPR may not be: use the Clopper-Pearson upper end of the FPR, which is never 0.")
    problem = scalar_problem(answer, expected, name="cp_epsilon_lower_bound", what="certified epsilon",
                             rtol=1e-4, atol=1e-6)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    value = float(answer.values.reshape(()))
    tp, n1, fp, n0, delta = (args[k] for k in ("true_positives", "n_members", "false_positives", "n_nonmembers",
                                               "delta"))
    point = _point_estimate(tp, n1, fp, n0, delta)
    if math.isfinite(point) and math.isclose(value, point, rel_tol=1e-6):
        return problem + (" That is the point estimate from the measured rates. An audit must hold with 95% "
                          "confidence: use the TPR's lower and the FPR's upper Clopper-Pearson ends.")
    if value < 0:
        return problem + " A lower bound on epsilon is never below 0: when no ratio exceeds 1, certify 0."
    # one-sided 95% ends for each rate (instead of 97.5%): a common slip
    lo95 = 0.0 if tp == 0 else beta.ppf(0.05, tp, n1 - tp + 1)
    hi95 = 1.0 if fp == n0 else beta.ppf(0.95, fp + 1, n0 - fp)
    alt = [0.0] + ([math.log((lo95 - delta) / hi95)] if lo95 > delta else []) + (
        [math.log((1 - hi95 - delta) / (1 - lo95))] if 1 - hi95 - delta > 0 and lo95 < 1 else [])
    if math.isclose(value, max(alt), rel_tol=1e-6):
        return problem + (" You used each rate's 95% one-sided end; two rates must hold *together* with 95%: "
                          "give each 97.5% (the ends of metrics.clopper_pearson's 95% two-sided interval).")
    tpr_low = 0.0 if tp == 0 else beta.ppf(0.025, tp, n1 - tp + 1)
    fpr_high = 1.0 if fp == n0 else beta.ppf(0.975, fp + 1, n0 - fp)
    if tpr_low > delta and math.isclose(value, max(0.0, math.log((tpr_low - delta) / fpr_high)), rel_tol=1e-6):
        return problem + (" Only TPR <= e^eps FPR + delta was used; the mirror inequality 1 - FPR <= e^eps (1 - TPR) "
                          "+ delta can certify more when the attack misses few members. Take the larger.")
    tpr_high = 1.0 if tp == n1 else beta.ppf(0.975, tp + 1, n1 - tp)
    fpr_low = 0.0 if fp == 0 else beta.ppf(0.025, fp, n0 - fp + 1)
    # the mirror slip first: where the mirror term decides, a full swap of the ends looks the same
    for (t1, f1, f2, t2, d), advice in [
        ((tpr_low, fpr_high, fpr_low, tpr_high, delta),
         " The first inequality is right, but the mirror one, log((1 - FPR - delta) / (1 - TPR)), needs the same "
         "pessimistic ends: the FPR's upper end and the TPR's lower end (yours grow it with the other ends)."),
        ((tpr_high, fpr_low, fpr_low, tpr_high, delta),
         " You used the TPR's upper and the FPR's lower interval ends, which make the attack look as strong as it "
         "could be. A *lower* bound on epsilon needs the pessimistic ends: the TPR's lower, the FPR's upper."),
        ((tpr_low, fpr_high, fpr_high, tpr_low, 0.0),
         " It looks like delta was left out: subtract it in both ratios, log((TPR - delta) / FPR) and "
         "log((1 - FPR - delta) / (1 - TPR))."),
    ]:
        if (d != delta or t1 != tpr_low or f2 != fpr_high) and math.isclose(
                value, _epsilon_from_ends(t1, f1, f2, t2, d), rel_tol=1e-6):
            return problem + advice
    if value > cp_epsilon_lower_bound(n1, n1, 0, n0, delta) + 1e-9:
        return problem + (f" That is more than a perfect attack could certify with {n1:,} members and {n0:,} "
                          "non-members: did you use the measured rates (a point estimate), perhaps with a tiny "
                          "number in place of a zero FPR? Use the Clopper-Pearson ends instead.")
    return problem + f" (Your value {fmt(value)} matches none of the usual slips; compare with the hints.)"


def _epsilon_from_ends(tpr_first, fpr_first, fpr_mirror, tpr_mirror, delta):
    """max(0, log((tpr_first - delta) / fpr_first), log((1 - fpr_mirror - delta) / (1 - tpr_mirror)))."""
    out = [0.0]
    if tpr_first - delta > 0 and fpr_first > 0:
        out.append(math.log((tpr_first - delta) / fpr_first))
    if 1 - fpr_mirror - delta > 0 and tpr_mirror < 1:
        out.append(math.log((1 - fpr_mirror - delta) / (1 - tpr_mirror)))
    return max(out)


q2 = FunctionQuestion(
    id="6.2",
    function_name="cp_epsilon_lower_bound",
    title="the Clopper-Pearson epsilon lower bound",
    reference=cp_epsilon_lower_bound,
    library_allowed=("utils.metrics.clopper_pearson",),  # the exercise builds on the course's interval
    public_cases=_q2_public,
    hidden_cases=_q2_hidden,
    judge=_q2_judge,
    hints=[
        "DP forces TPR <= e^eps FPR + delta, so eps >= log((TPR - delta) / FPR), and from the mirror inequality "
        "eps >= log((1 - FPR - delta) / (1 - TPR)). With measured rates these are point estimates, not bounds.",
        "Replace TPR by its Clopper-Pearson lower end and FPR by its upper end, each one-sided at 97.5% so that "
        "both hold together at 95%: utils.metrics.clopper_pearson(k, n, 0.95) returns exactly these ends.",
        "tpr_low = clopper_pearson(tp, n_members)[0]; fpr_high = clopper_pearson(fp, n_nonmembers)[1]; return the "
        "largest of 0, log((tpr_low - delta) / fpr_high) and log((1 - fpr_high - delta) / (1 - tpr_low)) (skip a "
        "term whose numerator is <= 0).",
    ],
    points=2,
)


q3 = WrittenQuestion(
    id="6.3",
    title="the gap between the audit and the accountant",
    prompt="The accountant says epsilon = 16, the audit certifies 0. Is the model more private than promised?",
    model_answer="""
Not necessarily, and the audit cannot say so. The accountant's epsilon is an upper bound proved for
the algorithm: it holds for every pair of neighbouring data sets and every attacker, including one
who sees every noisy gradient and plants the worst possible record. The audit is a lower bound from
one attacker (LiRA, or a loss threshold on canaries), who sees only the final model, on our digits,
with a few hundred records; it can certify at most ~4-5 with that many records even against a
model that leaks everything. Both statements are true at once: the model's true epsilon lies
somewhere between 0 and 16. The gap measures how much weaker this attacker is than the proof's
worst case. Stronger audits (white-box gradient canaries, many training runs) come close to the
accountant's epsilon for DP-SGD, so the guarantee is not loose by design; our black-box attack is
just far from optimal. An audit *above* the accountant, by contrast, would prove a bug.
""",
    hints=[
        "One is an upper bound over all attackers and data sets, the other a lower bound from one attacker here.",
        "How large an epsilon could the audit certify at most with this many records?",
    ],
)

# ----------------------------------------------------------------------------- q4: the audit's ceiling (06b)
def audit_ceiling(guesses, confidence):
    """The most epsilon `guesses` right guesses out of `guesses` can certify (one-run audit, delta = 0)."""
    q = (1 - confidence) ** (1 / guesses)   # at the ceiling, all right has probability q^r = 1 - confidence
    return float(max(0.0, math.log(q / (1 - q))))  # q = e^eps / (1 + e^eps), solved for eps


def _q4_public():
    return [
        {"guesses": 1000, "confidence": 0.95},
        {"guesses": 10, "confidence": 0.95},
        {"guesses": 128, "confidence": 0.95},   # lesson 06's audit
        {"guesses": 3, "confidence": 0.95},     # too few guesses: nothing certified
        {"guesses": 100, "confidence": 0.99},
    ]


def _q4_hidden(rng: np.random.Generator):
    cases = [{"guesses": int(10 ** rng.uniform(1, 5)), "confidence": float(rng.choice([0.9, 0.95, 0.99]))}
             for _ in range(4)]
    cases.append({"guesses": int(rng.integers(1, 5)), "confidence": 0.95})
    return cases


def _q4_slips(r, confidence):
    """What the usual mistakes return for `r` guesses at `confidence`, each with what to change."""
    alpha = 1 - confidence
    q = alpha ** (1 / r)
    odds = math.log(q / (1 - q))
    slips = [(math.log2(q / (1 - q)), "That is the log in base 2: epsilon is in nats, use the natural log "
                                      "(math.log or np.log)."),
             (math.log10(q / (1 - q)), "That is the log in base 10: epsilon is in nats, use the natural log."),
             (math.log(q), "That is log(q) alone: q is the chance e^eps / (1 + e^eps) of one right guess, so "
                           "eps = log(q / (1 - q)), the log of the odds."),
             (q, "That is q, the probability of a right guess, not epsilon: return log(q / (1 - q))."),
             (odds, "Below 5 guesses or so the log-odds is negative: no epsilon is certified, return 0 "
                    "(max(0, ...)).")]
    q_conf = confidence ** (1 / r)
    if q_conf < 1:
        slips.append((math.log(q_conf / (1 - q_conf)), "You used the confidence (0.95) where the chance of "
                      "all-right-by-luck belongs: at the ceiling q^r = 1 - confidence (0.05), so "
                      "q = (1 - confidence) ** (1 / guesses)."))
    return slips


def _q4_judge(args, expected, answer):
    problem = scalar_problem(answer, expected, name="audit_ceiling", what="largest certifiable epsilon",
                             rtol=1e-6, atol=1e-9)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    value = float(answer.values.reshape(()))
    for slip, advice in _q4_slips(args["guesses"], args["confidence"]):
        if math.isfinite(slip) and math.isclose(value, slip, rel_tol=1e-6, abs_tol=1e-12):
            return f"{problem} {advice}"
    return problem + f" (Your value {fmt(value)} matches none of the usual slips; compare with the hints.)"


q4 = FunctionQuestion(
    id="6.4",
    function_name="audit_ceiling",
    title="what a one-run audit can certify at most",
    reference=audit_ceiling,
    public_cases=_q4_public,
    hidden_cases=_q4_hidden,
    judge=_q4_judge,
    hints=[
        "Under epsilon-DP one guess about a canary is right with probability at most q = e^eps / (1 + e^eps). "
        "All r guesses right then has probability at most q^r.",
        "The audit certifies every epsilon for which q^r < 1 - confidence. The largest has q^r = 1 - confidence, "
        "so q = (1 - confidence) ** (1 / guesses).",
        "Solve q = e^eps / (1 + e^eps) for eps: eps = log(q / (1 - q)) (natural log), and return max(0, eps).",
    ],
    points=2,
)

EXERCISE = Exercise(number=6, title="Differential privacy", questions=(q1, q2, q3, q4))
