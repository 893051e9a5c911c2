"""Text membership attacks: known answers, and MIMIR's definitions on the same inputs.

What was compared: MIMIR (github.com/iamgroot42/mimir), ``mimir/attacks/min_k.py`` (the mean of
``sorted(probs)[:int(len(probs) * k)]``, negated), ``min_k_plus_plus.py`` (``mu = sum p log p``,
``sigma = sqrt(sum p (log p)**2 - mu**2)``, then the same on ``(log p - mu) / sigma``, negated) and
``zlib.py`` (``loss / len(zlib.compress(bytes(text, "utf-8")))``). MIMIR's scores are lower = member;
ours are higher = member, so each must equal minus MIMIR's. The MIMIR formulas are re-written below
from their code (not vendored).
"""

import zlib

import numpy as np
import pytest
import torch

from utils.attacks import registry
from utils.lm import attacks
from utils.lm.model import ByteTransformer
from utils.metrics import auc


def _mimir_min_k(log_probs, k):
    return -np.mean(sorted(log_probs)[: int(len(log_probs) * k)])


def _mimir_min_k_plus_plus(log_probs, all_log_probs, k):
    p = np.exp(all_log_probs)
    mu = (p * all_log_probs).sum(-1)
    sigma = (p * np.square(all_log_probs)).sum(-1) - np.square(mu)
    scores = (np.asarray(log_probs) - mu) / np.sqrt(sigma)
    return -np.mean(sorted(scores)[: int(len(scores) * k)])


def _mimir_zlib(loss, text):
    return loss / len(zlib.compress(bytes(text, "utf-8")))


def test_loss_is_the_mean_log_prob_over_real_bytes_only():
    log_probs = np.array([[-1.0, -3.0, 0.0], [-2.0, 0.0, 0.0]])
    mask = np.array([[True, True, False], [True, False, False]])
    np.testing.assert_allclose(attacks.loss_scores(log_probs, mask), [-2.0, -2.0])


def test_min_k_known_answers_k_is_a_fraction_of_each_text():
    log_probs = np.array([[-5.0, -1.0, -0.1, -0.2, -4.0, -0.3, -0.4, -0.5, -0.6, -0.7]])
    mask = np.ones_like(log_probs, bool)
    assert attacks.min_k_scores(log_probs, mask, 0.2)[0] == pytest.approx(-4.5)  # lowest 2 of 10: -5, -4
    assert attacks.min_k_scores(log_probs, mask, 0.1)[0] == pytest.approx(-5.0)
    assert attacks.min_k_scores(log_probs, mask, 1.0)[0] == pytest.approx(log_probs.mean())
    # a short text keeps at least one byte (MIMIR would average nothing and return NaN)
    short = np.array([[-2.0, -1.0, 0.0]]), np.array([[True, True, False]])
    assert attacks.min_k_scores(*short, 0.2)[0] == pytest.approx(-2.0)


@pytest.mark.parametrize("k", [0.1, 0.2, 0.5])
def test_min_k_equals_minus_mimir_on_the_same_inputs(k):
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 60, size=8)
    log_probs = np.log(rng.uniform(1e-4, 1, size=(8, 60)))
    mask = np.arange(60)[None] < lengths[:, None]
    ours = attacks.min_k_scores(log_probs, mask, k)
    theirs = [_mimir_min_k(row[:n], k) for row, n in zip(log_probs, lengths)]
    np.testing.assert_allclose(ours, -np.array(theirs), rtol=1e-12)


@pytest.mark.parametrize("k", [0.2, 0.5])
def test_min_k_plus_plus_equals_minus_mimir_on_the_same_inputs(k):
    rng = np.random.default_rng(1)
    n, length, vocab = 5, 30, 256
    all_log_probs = torch.log_softmax(torch.from_numpy(rng.normal(0, 3, (n, length, vocab))), -1).numpy()
    tokens = rng.integers(0, vocab, size=(n, length))
    log_probs = np.take_along_axis(all_log_probs, tokens[..., None], -1)[..., 0]
    p = np.exp(all_log_probs)
    mu = (p * all_log_probs).sum(-1)
    sigma = np.sqrt((p * all_log_probs**2).sum(-1) - mu**2)
    mask = np.ones((n, length), bool)
    ours = attacks.min_k_plus_plus_scores(log_probs, mu, sigma, mask, k)
    theirs = [_mimir_min_k_plus_plus(log_probs[i], all_log_probs[i], k) for i in range(n)]
    np.testing.assert_allclose(ours, -np.array(theirs), rtol=1e-10)


def test_token_statistics_match_the_definitions_on_a_model():
    torch.manual_seed(0)
    model = ByteTransformer().eval()
    texts = ["Patient Jane Roe, born 1970-01-01.", "ab"]
    stats = attacks.token_statistics(model, texts)
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([[2] + list(texts[0].encode())[:-1]])).double(), -1)[0]
    target = torch.tensor(list(texts[0].encode()))
    np.testing.assert_allclose(stats.log_probs[0, :len(texts[0])], logp[torch.arange(len(target)), target], rtol=1e-5)
    p = logp.exp()
    mu = (p * logp).sum(-1)
    np.testing.assert_allclose(stats.mu[0, :len(texts[0])], mu, rtol=1e-5)
    np.testing.assert_allclose(stats.sigma[0, :len(texts[0])], ((p * (logp - mu[:, None]) ** 2).sum(-1)).sqrt(),
                               rtol=1e-6)
    assert stats.mask.sum(1).tolist() == [len(texts[0]), 2]


def test_zlib_known_answer_and_mimir():
    texts = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Patient Xq7 Zr, born 1901-02-03, SSN 555-12-9876."]
    log_probs = np.array([[-0.5] * 40 + [0.0] * 9, [-2.0] * 49])
    mask = np.array([[True] * 40 + [False] * 9, [True] * 49])
    lengths = attacks.zlib_lengths(texts)
    assert lengths[0] < 15 < lengths[1]  # a repetitive text compresses to a few bytes
    assert attacks.zlib_lengths(["a" * 40])[0] == len(zlib.compress(b"a" * 40))
    ours = attacks.zlib_scores(log_probs, mask, texts)
    np.testing.assert_allclose(ours, [-0.5 / lengths[0], -2.0 / lengths[1]])
    np.testing.assert_allclose(ours, [-_mimir_zlib(0.5, texts[0]), -_mimir_zlib(2.0, texts[1])])


def test_reference_subtracts_the_reference_models_score():
    np.testing.assert_allclose(attacks.reference_scores([-1.0, -2.0], [-1.5, -1.0]), [0.5, -1.0])
    with pytest.raises(ValueError, match="one entry per text"):
        attacks.reference_scores([1.0], [1.0, 2.0])


def test_blind_baseline_is_chance_on_iid_texts_and_perfect_on_shifted_ones():
    from utils.lm.records import make_records

    members = make_records(150, seed=0)
    same = make_records(150, seed=1)
    british = make_records(150, seed=2, locale="en_GB")
    labels = np.r_[np.ones(150), np.zeros(150)]
    assert 0.35 < auc(labels, attacks.blind_scores(members + same, labels)) < 0.65
    assert auc(labels, attacks.blind_scores(members + british, labels)) > 0.95


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="same shape"):
        attacks.loss_scores(np.zeros((2, 3)), np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="at least one byte"):
        attacks.min_k_scores(np.zeros((1, 3)), np.zeros((1, 3), bool))
    with pytest.raises(ValueError, match="same texts"):
        attacks.zlib_scores(np.zeros((2, 3)), np.ones((2, 3), bool), ["a"])


def test_every_text_attack_is_registered_in_the_course_call_shape():
    torch.manual_seed(0)
    model = ByteTransformer().eval()
    texts = ["Patient A, born 1950-01-01.", "Patient B, born 1960-02-02.", "x y z"]
    for name in attacks.TEXT_ATTACKS:
        attack = registry.get(name)
        if name == "text-reference":
            scores = attack(model, texts, shadows=model)
            np.testing.assert_allclose(scores, 0.0)  # a model is its own perfect reference: nothing left
        elif name == "blind":
            scores = attack(None, texts, shadows=(texts + texts, [1, 0, 1, 0, 1, 0]))
        else:
            scores = attack(model, texts)
        assert scores.shape == (3,) and scores.dtype == np.float64 and np.all(np.isfinite(scores))
    with pytest.raises(ValueError, match="reference model"):
        registry.get("text-reference")(model, texts)
