"""Checks for exercise 10, "Unlearning and its audit" (Lesson 10).

In the notebook::

    from utils.checks import ex10
    ex10.q1.check(ulira_score)     # public checks on fixed inputs
    ex10.q1.hint()                 # hint 1; ex10.q1.hint(2) reveals more
    ex10.q1.solution()             # the reference code

Questions
---------
q1 : ``ulira_score(target_confidence, unlearned_confidences, retrained_confidences)`` -> U-LiRA's score of
     one forget record: the log-likelihood ratio of the target's logit-scaled confidence under a
     Gaussian fitted to shadows that trained on the record and unlearned it versus one fitted to
     shadows retrained without it. Higher = "unlearned, not retrained".
q2 : ``sisa_retrain_records(shard_of, forget)`` -> how many records SISA trains on again to forget the
     records `forget`: every shard holding a forget record is retrained on its remaining records.
q3 : written: a model has "unlearned" John Doe. What evidence would convince you, and what does it cost?

The grader calls the student's functions on fresh random inputs (`hidden_cases`), so knowing the
public inputs, or this file, is no shortcut.
"""

from __future__ import annotations

import numpy as np

from .compare import fmt, likelihood_ratio_problem, scalar_problem
from .core import Exercise, FunctionQuestion, WrittenQuestion

__all__ = ["q1", "q2", "q3", "EXERCISE"]


# ----------------------------------------------------------------------------- q1: U-LiRA's score of one record
def ulira_score(target_confidence, unlearned_confidences, retrained_confidences):
    """U-LiRA score of one record: log N(x; unlearned fit) - log N(x; retrained fit) on the logit scale."""
    from scipy.stats import norm

    def logit(p):
        p = np.asarray(p, dtype=np.float64)
        return np.log(p) - np.log1p(-p)

    x, unlearned, retrained = logit(target_confidence), logit(unlearned_confidences), logit(retrained_confidences)
    log_unlearned = norm.logpdf(x, unlearned.mean(), unlearned.std(ddof=1))
    log_retrained = norm.logpdf(x, retrained.mean(), retrained.std(ddof=1))
    return float(log_unlearned - log_retrained)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _q1_case(rng, n_unlearned, n_retrained, mean_retrained, shift, std_u, std_r, x):
    return {
        "target_confidence": float(_sigmoid(x)),
        "unlearned_confidences": _sigmoid(rng.normal(mean_retrained + shift, std_u, n_unlearned)),
        "retrained_confidences": _sigmoid(rng.normal(mean_retrained, std_r, n_retrained)),
    }


def _q1_public():
    rng = np.random.default_rng(1010)
    return [
        {"target_confidence": 0.95, "unlearned_confidences": np.array([0.97, 0.99, 0.93]),
         "retrained_confidences": np.array([0.6, 0.8, 0.7, 0.9])},
        _q1_case(rng, 8, 24, 1.0, 2.5, 0.8, 1.2, 3.0),    # residual memory: unlearned shadows stay confident
        _q1_case(rng, 8, 24, 4.0, -3.0, 1.0, 0.7, 0.5),   # over-unlearned: less confident than retraining
        _q1_case(rng, 6, 20, 2.0, 0.0, 1.0, 1.0, 2.2),    # unlearning that looks like retraining
    ]


def _q1_hidden(rng: np.random.Generator):
    cases = []
    for _ in range(5):
        mean_r, shift = rng.uniform(-2.0, 5.0), rng.uniform(-3.0, 3.0)
        std_u, std_r = rng.uniform(0.3, 1.5), rng.uniform(0.3, 1.5)
        x = rng.normal(mean_r + shift * rng.integers(0, 2), 1.0)
        cases.append(_q1_case(rng, int(rng.integers(3, 30)), int(rng.integers(3, 40)), mean_r, shift, std_u, std_r,
                              x))
    return cases


def _q1_judge(args, expected, answer):
    target, first, second = (args[k] for k in ('target_confidence', 'unlearned_confidences', 'retrained_confidences'))
    return likelihood_ratio_problem(
        answer, expected, target, first, second, name="ulira_score",
        sign=("your sign is flipped: compute log N(x; unlearned) - log N(x; retrained), so that a higher score means "
              "'unlearned, not retrained' (the case the audit looks for)."))


q1 = FunctionQuestion(
    id="10.1",
    function_name="ulira_score",
    title="U-LiRA's score of one forget record",
    reference=ulira_score,
    public_cases=_q1_public,
    hidden_cases=_q1_hidden,
    judge=_q1_judge,
    hints=[
        "The same test as LiRA's, with other shadows: IN are shadows that trained on the record and then unlearned "
        "it, OUT are shadows retrained without it. Move every confidence p to log(p / (1 - p)) first.",
        "Fit one Gaussian to the unlearned shadows' values and one to the retrained shadows' values: mean and "
        "sample standard deviation (.std(ddof=1)).",
        "Return norm.logpdf(x, mean_u, std_u) - norm.logpdf(x, mean_r, std_r) as one float (scipy.stats.norm), "
        "where x is the target's logit-scaled confidence.",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q2: SISA's retraining cost
def sisa_retrain_records(shard_of, forget):
    """Records SISA trains on again: the remaining records of every shard that held a forget record."""
    shard_of = np.asarray(shard_of)
    forget = np.asarray(forget)
    hit = np.unique(shard_of[forget])                    # shards that held a forget record, each once
    in_hit = np.isin(shard_of, hit)                       # every record of those shards ...
    in_hit[forget] = False                                # ... except the forgotten ones
    return int(in_hit.sum())


def _q2_case(rng, n_records, n_shards, n_forget, clustered=False):
    shard_of = rng.integers(0, n_shards, n_records)
    pool = np.flatnonzero(shard_of == shard_of[0]) if clustered else np.arange(n_records)
    n_forget = min(n_forget, len(pool))
    return {"shard_of": shard_of, "forget": np.sort(rng.choice(pool, n_forget, replace=False))}


def _q2_public():
    rng = np.random.default_rng(1020)
    return [
        # by hand: shards 0 (records 0, 3, 6), 1 (1, 4, 7), 2 (2, 5); forgetting 3 and 6 retrains shard 0 on record 0.
        {"shard_of": np.array([0, 1, 2, 0, 1, 2, 0, 1]), "forget": np.array([3, 6])},
        _q2_case(rng, 1250, 5, 1),            # John Doe alone: one shard
        _q2_case(rng, 1250, 5, 40, True),     # many records, all in one shard
        _q2_case(rng, 1250, 5, 125),          # a large random request: every shard
    ]


def _q2_hidden(rng: np.random.Generator):
    return [_q2_case(rng, int(rng.integers(50, 3000)), int(rng.integers(2, 20)), int(rng.integers(1, 60)),
                     clustered=bool(rng.integers(0, 2))) for _ in range(5)]


def _q2_judge(args, expected, answer):
    problem = scalar_problem(answer, float(expected), name="sisa_retrain_records", what="number of records",
                             rtol=0, atol=1e-9)
    if problem is None or answer.values is None or answer.values.size != 1:
        return problem
    value = float(answer.values.reshape(()))
    shard_of, forget = np.asarray(args["shard_of"]), np.asarray(args["forget"])
    hit = np.unique(shard_of[forget])
    whole = float(np.isin(shard_of, hit).sum())
    slips = [
        (whole, "you counted the forgotten records too; the retrained shards train on their *remaining* records."),
        (float(np.bincount(shard_of, minlength=int(shard_of.max()) + 1)[shard_of[forget]].sum() - len(forget)),
         "a shard that held several forget records is retrained once, not once per record: take the distinct "
         "shards (np.unique)."),
        (float(len(hit)), "you returned the number of shards to retrain; the question asks for the records they "
                          "train on."),
        (float(len(shard_of) - len(forget)), "you counted every remaining record: that is full retraining. SISA "
                                             "retrains only the shards that held a forget record."),
    ]
    for wrong, message in slips:
        if wrong != expected and value == wrong:
            return f"{message} (Expected {fmt(float(expected))}, got {fmt(value)}.)"
    return problem


q2 = FunctionQuestion(
    id="10.2",
    function_name="sisa_retrain_records",
    title="what SISA retrains",
    reference=sisa_retrain_records,
    public_cases=_q2_public,
    hidden_cases=_q2_hidden,
    judge=_q2_judge,
    hints=[
        "Find the shards that held at least one forget record: shard_of[forget], each shard once.",
        "Every record of those shards is trained on again, except the forget records themselves.",
        "hit = np.unique(shard_of[forget]); count the records with np.isin(shard_of, hit) that are not in forget.",
    ],
    points=2,
)


# ----------------------------------------------------------------------------- q3: written answer
q3 = WrittenQuestion(
    id="10.3",
    title="evidence that John Doe was unlearned",
    prompt="A company says its model has 'unlearned' John Doe. What evidence would convince you, and what does it "
           "cost to be sure?",
    model_answer="""
A claim of unlearning is a claim that the model is indistinguishable from one retrained without John
Doe. Two kinds of method can make it. Exact ones prove it by construction: retraining from scratch
without him (a whole training run), or SISA, which retrains only the shard that held his record but
must be chosen before training and costs accuracy, because each shard learns from a fraction of the
data. For those, the evidence is the procedure itself: show the records each model was trained on.
Approximate methods (fine-tuning on the other records, gradient ascent on his) promise nothing, so
they need an audit, and the usual one is too weak: a population test that compares the loss of the
forgotten records with held-out records gave an AUC near 0.5 in the lesson, for the original model
as much as for the 'unlearned' ones. The convincing evidence is a per-example test, U-LiRA: train
shadow models that learn and then unlearn the record, and others retrained without it, and ask
whether the released model answers on John Doe's record like the first or the second. In the lesson
U-LiRA told unlearned from retrained models for 7-15% of forgotten records at 1% FPR, where the
population test found about 1%. The cost of being sure: dozens of shadow models, each trained and
unlearned, i.e. far more compute than retraining once, which is why retraining (or SISA) is the
honest answer when the guarantee matters.
""",
    hints=[
        "Which methods are exact by construction, and which ones need an audit to be believed?",
        "Compare what the population test and U-LiRA found in the lesson, and what each needs (shadow models).",
    ],
)

EXERCISE = Exercise(number=10, title="Unlearning and its audit", questions=(q1, q2, q3))
