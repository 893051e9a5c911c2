"""Lesson 09's evaluation settings, the combined scoring, the AUC intervals and the bench's headline."""

import numpy as np
import pytest
import torch

from utils.lm import settings
from utils.lm.model import ByteTransformer
from utils.metrics import auc


@pytest.fixture(scope="module")
def small():
    overfit = settings.overfit_setting(n_records=30, n_nonmembers=40, n_per_level=1, repetitions=(1, 4), seed=0)
    one_pass = settings.one_pass_setting(n_records=60, n_members=30, n_nonmembers=30, n_reference=20, seed=0)
    return overfit, one_pass


def test_settings_keep_members_nonmembers_and_reference_apart(small):
    overfit, one_pass = small
    for s in small:
        assert not set(s.members) & set(s.nonmembers) and not set(s.reference_corpus) & set(s.texts)
        assert s.labels.tolist() == [1] * len(s.members) + [0] * len(s.nonmembers)
        assert set(s.members) <= set(s.corpus)
    assert len(overfit.corpus) == 30 + 1 + 4 and overfit.canaries.repetitions.tolist() == [4, 1]
    assert len(one_pass.reference_corpus) == 20
    assert settings.one_pass_setting(n_records=5, n_members=2, n_nonmembers=2).reference_corpus == ()
    for shift in ("locale", "years"):
        shifted = settings.shifted_setting(one_pass, shift=shift)
        assert shifted.members == one_pass.members and shifted.corpus == one_pass.corpus
        assert not set(shifted.nonmembers) & set(one_pass.nonmembers)
    with pytest.raises(ValueError, match="shift must be"):
        settings.shifted_setting(one_pass, shift="season")


def test_scoring_several_settings_at_once_equals_scoring_each(small):
    overfit, one_pass = small
    torch.manual_seed(0)
    target, reference = ByteTransformer().eval(), ByteTransformer().eval()
    both = settings.score_settings(target, {"a": overfit, "b": one_pass}, reference=reference)
    alone = settings.score_setting(target, one_pass, reference=reference)
    assert list(both["b"].scores) == list(settings.ATTACK_NAMES)
    for name in settings.ATTACK_NAMES:
        np.testing.assert_allclose(both["b"].scores[name], alone.scores[name])
        assert both["a"].scores[name].shape == (70,)
    assert "reference" not in settings.score_setting(target, one_pass).scores


def test_auc_interval_contains_the_auc_and_narrows_with_more_records():
    rng = np.random.default_rng(0)
    widths = []
    for n in (100, 2000):
        labels = np.r_[np.ones(n), np.zeros(n)]
        scores = rng.normal(size=2 * n) + 0.5 * labels
        value, low, high = settings.auc_interval(labels, scores, seed=0)
        assert value == pytest.approx(auc(labels, scores)) and low < value < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 3
    with pytest.raises(ValueError, match="both members"):
        settings.auc_interval(np.ones(5), np.arange(5.0))


def test_results_round_trip_through_plain_data(small):
    result = settings.MembershipScores(np.array([1, 0]), {"loss": np.array([0.5, 0.1])})
    again = settings.MembershipScores.from_dict(result.as_dict())
    assert again.labels.tolist() == [1, 0] and again.scores["loss"].tolist() == [0.5, 0.1]


def test_bench_headline_shows_memory_of_the_repeated_canaries():
    from utils.bench import all as bench_all
    from utils.bench import lm

    pairs = dict(bench_all._as_pairs(lm.headline()))
    gap = pairs["exposure 16x minus 1x canaries (bits, median)"]
    assert gap > 10, f"the 16x canaries should be far more exposed than the 1x ones, got {gap:.1f} bits"
    assert pairs["loss attack AUC, overfit LM (0.5 = chance)"] > 0.65
