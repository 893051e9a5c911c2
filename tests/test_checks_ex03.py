"""Exercise 03's checks name the mistakes of wrong answers (feeding each wrong answer on the public checks)."""

import numpy as np
from scipy.special import log_softmax

from utils.checks import core, ex03


def test_log_probabilities_are_named_not_taken_for_a_missing_softmax():
    def log_probs(shadow_logits, in_mask, labels):
        rows = ex03.shadow_attack_dataset(shadow_logits, in_mask, labels)
        logits = np.asarray(shadow_logits, dtype=np.float64)
        rows[:, :logits.shape[-1]] = log_softmax(logits, axis=-1).reshape(-1, logits.shape[-1])
        return rows

    verdict = ex03.q1.evaluate(log_probs)
    assert verdict.outcome == core.INCORRECT
    assert "log-probabilities" in verdict.message and "np.exp" in verdict.message
    assert "raw logits" not in verdict.message and "do not sum to 1" not in verdict.message


def test_raw_logits_are_still_named_as_a_missing_softmax():
    def raw(shadow_logits, in_mask, labels):
        rows = ex03.shadow_attack_dataset(shadow_logits, in_mask, labels)
        logits = np.asarray(shadow_logits, dtype=np.float64)
        rows[:, :logits.shape[-1]] = logits.reshape(-1, logits.shape[-1])
        return rows

    verdict = ex03.q1.evaluate(raw)
    assert "raw logits" in verdict.message and "apply a softmax" in verdict.message


def test_written_question_hint_counts_the_models_the_attacker_trains():
    hint = ex03.q3.hints[0]
    assert "two kinds of models" in hint and "three" not in hint
