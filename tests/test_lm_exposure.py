"""Exposure (Carlini et al. 2019) and extraction: known answers, the estimate, and TensorFlow Privacy's definitions.

What was compared: TensorFlow Privacy's reference code for the Secret Sharer
(``tensorflow_privacy/privacy/privacy_tests/secret_sharer/exposures.py``):
`compute_exposure_interpolation` (rank among references, ``log2(n_refs) - log2(rank)``) and
`compute_exposure_extrapolation` (``-log2 skewnorm.cdf(x, *skewnorm.fit(references))``). Both are
re-written below from their definitions (their code is not vendored) and compared with ours on the
same inputs.
"""

import numpy as np
import pytest
import torch
from scipy.stats import norm, skewnorm

from utils.lm import exposure
from utils.lm.model import ByteTransformer


def test_exposure_from_rank_known_answers_on_a_four_digit_space():
    assert exposure.exposure_from_rank(1, 10_000) == pytest.approx(np.log2(10_000))
    assert exposure.exposure_from_rank(10_000, 10_000) == 0.0
    assert exposure.exposure_from_rank(5_000, 10_000) == pytest.approx(1.0)  # the median candidate: 1 bit
    assert exposure.exposure_from_rank(625, 10_000) == pytest.approx(4.0)
    np.testing.assert_allclose(exposure.exposure_from_rank([1, 2, 4], 8), [3.0, 2.0, 1.0])


@pytest.mark.parametrize("rank", [0, 10_001, 2.5, -1])
def test_exposure_from_rank_refuses_ranks_outside_the_space(rank):
    with pytest.raises(ValueError, match="rank must be a whole number between 1 and n_candidates"):
        exposure.exposure_from_rank(rank, 10_000)


def _tf_privacy_interpolation(perplexities, references):
    """TF Privacy's compute_exposure_interpolation, re-written from its definition (one repetition group)."""
    values = np.concatenate([perplexities, references])
    is_reference = np.r_[np.zeros(len(perplexities), bool), np.ones(len(references), bool)]
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(is_reference[order])
    ranks = cum[~is_reference[order]] + 1
    return np.sort(np.log2(len(references)) - np.log2(ranks))


def test_sampled_ranks_match_tf_privacy_interpolation():
    rng = np.random.default_rng(0)
    references = rng.normal(20, 3, size=999)
    canaries = np.array([5.0, 14.0, 19.5, 26.0])
    ours = np.log2(len(references)) - np.log2(exposure.rank_of(canaries, references))
    np.testing.assert_allclose(np.sort(ours), _tf_privacy_interpolation(canaries, references))
    # our sampled exposure uses |R| = n_samples + 1 (the canary counts as a candidate): it saturates there
    assert exposure.sampled_exposure([0.0], references)[0] == pytest.approx(np.log2(1000))


def test_rank_counts_ties_against_the_canary():
    assert exposure.rank_of([1.0], [1.0, 2.0, 0.5]).tolist() == [3]


def test_skew_normal_estimate_matches_tf_privacy_extrapolation():
    rng = np.random.default_rng(1)
    references = skewnorm.rvs(3.0, loc=15, scale=4, size=2000, random_state=rng)
    canaries = np.array([8.0, 12.0, 16.0])
    expected = -np.log2(skewnorm.cdf(canaries, *skewnorm.fit(references)))
    np.testing.assert_allclose(exposure.estimate_exposure(canaries, references), expected, rtol=1e-6)


def test_normal_estimate_is_minus_log2_of_the_fitted_normal_cdf():
    rng = np.random.default_rng(2)
    references = rng.normal(20, 3, size=5000)
    canaries = np.array([2.0, 11.0, 20.0])
    expected = -norm.logcdf(canaries, references.mean(), references.std()) / np.log(2)
    np.testing.assert_allclose(exposure.estimate_exposure(canaries, references, distribution="normal"), expected)


def test_estimate_recovers_the_true_exposure_of_a_large_space():
    # 10**9 candidates whose log-perplexity is normal: a canary at the true quantile 2**-20 has exposure 20 bits,
    # far beyond what a sample of 2,000 can show by ranks (11 bits)
    rng = np.random.default_rng(3)
    sample = rng.normal(30, 4, size=2000)
    canary = norm.ppf(2.0**-20, 30, 4)
    est = exposure.estimate_exposure([canary], sample, distribution="normal")[0]
    assert est == pytest.approx(20, abs=1.0)
    assert exposure.estimate_exposure([canary], sample)[0] == pytest.approx(20, abs=2.0)  # skew-normal fit
    assert exposure.sampled_exposure([canary], sample)[0] <= np.log2(2001) + 1e-9


def test_estimate_needs_enough_candidates():
    with pytest.raises(ValueError, match="at least 10 candidates"):
        exposure.estimate_exposure([1.0], [1.0, 2.0])


class _DigitOracle(torch.nn.Module):
    """A fake language model: after any input it puts probability 0.9 on the digit of a fixed secret at that
    position (counted from the first digit) and 0.1/9 on each other digit. Its exposures are known exactly."""

    def __init__(self, secret: str, prefix_length: int):
        super().__init__()
        self.secret, self.start = [int(c) for c in secret], prefix_length  # BOS + prefix

    def forward(self, inputs):
        n, length = inputs.shape
        logits = torch.full((n, length, 256), -1e4, dtype=torch.float32)
        for pos in range(length):
            j = pos + 1 - self.start  # the digit index this position predicts
            if 0 <= j < len(self.secret):
                logits[:, pos, 48:58] = np.log(0.1 / 9)
                logits[:, pos, 48 + self.secret[j]] = np.log(0.9)
        return logits


def test_exact_exposure_enumerates_the_whole_space():
    prefix = "John Doe's PIN is "
    model = _DigitOracle("4821", len(prefix) + 1)
    # the oracle's favourite is the secret itself: rank 1 of 10,000
    assert exposure.exact_exposure(model, prefix, "4821") == pytest.approx(np.log2(10_000))
    # one digit wrong: beaten only by the secret (rank 2) and tied with 35 others (ties count against it)
    assert exposure.exact_exposure(model, prefix, "4820") == pytest.approx(np.log2(10_000) - np.log2(1 + 36))
    # all four digits wrong: tied with 9**4 strings and behind the rest: rank 10,000
    assert exposure.exact_exposure(model, prefix, "0000") == pytest.approx(0.0)


def test_exact_exposure_refuses_a_space_too_large_to_enumerate():
    with pytest.raises(ValueError, match="use estimate_exposure"):
        exposure.exact_exposure(_DigitOracle("1234567", 5), "abc: ", "1234567")


def test_secret_log_probs_and_beam_search_find_the_oracles_secret():
    prefix = "PIN "
    model = _DigitOracle("907", len(prefix) + 1)
    lp = exposure.secret_log_probs(model, prefix, [[9, 0, 7], [9, 0, 1], [1, 1, 1]])
    np.testing.assert_allclose(lp, [3 * np.log(0.9), 2 * np.log(0.9) + np.log(0.1 / 9), 3 * np.log(0.1 / 9)],
                               rtol=1e-5)
    greedy, _ = exposure.beam_search(model, [prefix], 3, beam_width=1)
    assert greedy[0, 0].tolist() == [9, 0, 7]
    beams, scores = exposure.beam_search(model, [prefix], 3, beam_width=4)
    assert beams[0, 0].tolist() == [9, 0, 7] and np.all(np.diff(scores[0]) <= 1e-9)
    assert len({tuple(b) for b in beams[0]}) == 4  # distinct beams, best first


def test_extracted_compares_whole_secrets():
    class C:
        secrets = ("123", "456")

    found = np.array([[[1, 2, 3], [0, 0, 0]], [[4, 5, 7], [4, 6, 5]]])
    assert exposure.extracted(C, found).tolist() == [True, False]


def test_canary_exposures_on_an_untrained_model_are_near_zero():
    from utils.lm.records import make_canaries

    torch.manual_seed(0)
    canaries = make_canaries(1, (1, 4), n_digits=4, seed=0)
    result = exposure.canary_exposures(ByteTransformer(), canaries, n_samples=200, seed=0)
    assert result.estimated.shape == (2,) and np.all(result.sampled <= np.log2(201) + 1e-9)
    assert np.all(result.estimated < 6)  # an untrained model prefers no secret
