"""Lesson 06b's library: public digits and features, private heads, an audit's ceiling, Gaussian-DP estimates."""

import math

import numpy as np
import pytest
import torch
from scipy.special import ndtri
from scipy.stats import norm

from utils.audit import make_canaries, one_run_max_epsilon
from utils.audit_limits import ceiling_table, gdp_audit_epsilon, gdp_mu_lower, one_run_ceiling
from utils.defenses import dp
from utils.defenses.dp_experiment import audit_canary_designs
from utils.defenses.dp_public import PRIVATE_PARTS, private_part, public_only_accuracy, run_public
from utils.defenses.public_features import (
    PublicNetwork,
    dense_layers,
    head_features,
    load_public_digits,
    train_public_network,
    trunk_features,
)
from utils.metrics import clopper_pearson
from utils.recipe import Recipe

# ----------------------------------------------------------------------------- the audit's ceiling


@pytest.mark.parametrize("guesses", [5, 10, 64, 128, 1000, 20_000])
def test_ceiling_closed_form_equals_the_one_run_audit_at_delta_zero(guesses):
    assert one_run_ceiling(guesses) == pytest.approx(one_run_max_epsilon(guesses, guesses), abs=1e-9)


def test_ceiling_known_answers():
    # q^r = 0.05 with q = e^eps / (1 + e^eps): r = 1000 gives q = 0.05^(1/1000)
    q = 0.05 ** (1 / 1000)
    assert one_run_ceiling(1000) == pytest.approx(math.log(q / (1 - q)), rel=1e-12)
    assert 5.80 < one_run_ceiling(1000) < 6  # "even a perfect attack on 1,000 guesses certifies under 6"
    assert one_run_ceiling(4) == 0.0 and one_run_ceiling(5) > 0  # 4 of 4 right by chance: 6.25% > 5%
    assert one_run_ceiling(100, confidence=0.99) < one_run_ceiling(100, confidence=0.95)
    values = one_run_ceiling(np.array([10, 100, 1000]))
    assert values.shape == (3,) and np.all(np.diff(values) > 0)


@pytest.mark.parametrize("bad", [0, -3, 1.5, True, np.array([], dtype=int), "10"])
def test_ceiling_rejects_what_is_not_a_guess_count(bad):
    with pytest.raises(ValueError, match="guesses must be whole numbers >= 1"):
        one_run_ceiling(bad)


def test_ceiling_table_rows_and_the_delta_column():
    rows = ceiling_table((10, 1000), delta=1e-5)
    assert [r["guesses"] for r in rows] == [10, 1000] and [r["canaries"] for r in rows] == [10, 1000]
    for row in rows:
        assert row["max_epsilon"] == pytest.approx(one_run_ceiling(row["guesses"]))
        assert row["max_epsilon_delta"] <= row["max_epsilon"]  # delta > 0 only weakens what is certified
    with pytest.raises(ValueError, match="cannot make 100 guesses on 50 canaries"):
        ceiling_table((100,), canaries=(50,))
    with pytest.raises(ValueError, match="one entry per guess count"):
        ceiling_table((10, 20), canaries=(30,))


# ----------------------------------------------------------------------------- the Gaussian-DP estimate


def test_gdp_mu_lower_is_the_probit_gap_of_the_clopper_pearson_ends():
    tp, n1, fp, n0 = 300, 625, 20, 625
    tpr_low, _ = clopper_pearson(tp, n1)
    _, fpr_high = clopper_pearson(fp, n0)
    assert gdp_mu_lower(tp, n1, fp, n0) == pytest.approx(ndtri(tpr_low) - ndtri(fpr_high), rel=1e-12)
    assert gdp_mu_lower(10, 625, 12, 625) == 0.0  # no signal: nothing certified


@pytest.mark.parametrize("counts", [(300, 625, 20, 625), (100, 100, 0, 100), (60, 128, 5, 128)])
def test_gdp_epsilon_lies_on_the_mu_gdp_privacy_curve(counts):
    """delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2) (Dong, Roth & Su 2019) at the returned eps."""
    delta = 1e-5
    mu = gdp_mu_lower(*counts)
    eps = gdp_audit_epsilon(*counts, delta=delta)
    curve = norm.cdf(-eps / mu + mu / 2) - math.exp(eps) * norm.cdf(-eps / mu - mu / 2)
    assert curve == pytest.approx(delta, rel=1e-3)


def test_gdp_estimate_reads_more_into_strong_counts_than_clopper_pearson():
    from utils.audit import cp_epsilon

    assert gdp_audit_epsilon(100, 100, 0, 100) > 3 * cp_epsilon(100, 100, 0, 100, 1e-5)
    assert gdp_audit_epsilon(10, 625, 12, 625) == 0.0


# ----------------------------------------------------------------------------- public data and the network


def test_public_digits_are_the_other_collection_in_our_frame():
    public = load_public_digits()
    assert public.X.shape == (1797, 196) and public.X.dtype == np.float32 and public.side == 14
    assert public.X.min() >= 0 and public.X.max() <= 1 and public.y.dtype == np.int64
    assert set(np.unique(public.y)) == set(range(10))
    frame = public.images
    assert np.all(frame[:, :2] == 0) and np.all(frame[:, -2:] == 0)  # the digit fills the central 10x10
    assert np.all(frame[:, :, :2] == 0) and np.all(frame[:, :, -2:] == 0)
    with pytest.raises(ValueError, match="inner .* must fit"):
        load_public_digits(side=10, inner=12)


@pytest.fixture(scope="module")
def small_network():
    public = load_public_digits()
    return train_public_network(public.X[:300], public.y[:300], Recipe(epochs=2, batch_size=64), seed=0)


def test_public_network_is_seeded_and_its_features_are_what_the_parts_train_on(small_network):
    public = load_public_digits()
    again = train_public_network(public.X[:300], public.y[:300], Recipe(epochs=2, batch_size=64), seed=0)
    for a, b in zip(small_network.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    X = public.X[300:340]
    head = head_features(small_network, X)
    assert head.shape == (40, 64) and np.allclose(np.linalg.norm(head, axis=1), 1.0, atol=1e-5)
    trunk = trunk_features(small_network, X)
    assert trunk.shape == (40, small_network.trunk_width)
    dense = dense_layers(small_network)  # the dense part on the trunk's outputs is the whole network
    with torch.no_grad():
        assert torch.allclose(dense(torch.from_numpy(trunk)), small_network(torch.from_numpy(X)), atol=1e-5)
    assert 0 <= public_only_accuracy(small_network, X, public.y[300:340]) <= 1


def test_public_features_reject_the_wrong_inputs(small_network):
    with pytest.raises(ValueError, match=r"shape \(n_records, 196\)"):
        head_features(small_network, np.zeros((3, 64), np.float32))
    with pytest.raises(ValueError, match="must be a PublicNetwork"):
        trunk_features(torch.nn.Linear(196, 10), np.zeros((3, 196), np.float32))
    with pytest.raises(ValueError, match="no private part named 'tail'"):
        private_part("tail")
    with pytest.raises(ValueError, match="flattened square images"):
        train_public_network(np.zeros((20, 50), np.float32), np.arange(20) % 10)


def test_private_parts_use_lesson_06s_schedule_so_its_noise_is_known():
    for part in PRIVATE_PARTS.values():
        assert (part.recipe.epochs, part.recipe.batch_size) == (dp.DP_RECIPE.epochs, dp.DP_RECIPE.batch_size)
    assert (2.0, 1e-5, 1 / 3, 45, "prv") in dp.KNOWN_NOISE


def test_known_noise_for_epsilon_two_spends_it():
    sigma = dp.KNOWN_NOISE[(2.0, 1e-5, 1 / 3, 45, "prv")]
    assert 2.0 - 0.01 <= dp.epsilon_for(sigma, 1 / 3, 45, 1e-5, "prv") <= 2.0


def test_run_public_trains_private_parts_on_public_features(small_network):
    from utils.data import load_digits, make_membership_split

    digits = load_digits()
    split = make_membership_split(digits.y, n_members=200, n_nonmembers=200, seed=0)
    X, y = digits.X, digits.y
    canaries = make_canaries(X[split.attacker_pool], y[split.attacker_pool], 32, seed=0)
    data = (X[split.members], y[split.members], X[split.nonmembers], y[split.nonmembers], *canaries)
    for part in ("head", "finetune"):
        run = run_public(4.0, small_network, part, *data, delta=1e-4, n_shadows=4, seed=0)
        assert run.training.private and 3.99 - 0.01 <= run.training.epsilon <= 4.0
        assert run.training.max_grad_norm == PRIVATE_PARTS[part].max_grad_norm
        assert run.scores["lira-online"].shape == (400,) and 0 <= run.test_accuracy <= 1
    with pytest.raises(ValueError, match="must be a PublicNetwork"):
        run_public(4.0, torch.nn.Linear(196, 10), "head", *data)


# ----------------------------------------------------------------------------- canary design


def test_natural_canaries_keep_their_labels_and_the_same_draws():
    X, y = np.random.default_rng(0).random((100, 4), dtype=np.float32), np.arange(100) % 10
    Xw, yw, inw = make_canaries(X, y, 20, seed=3)
    Xn, yn, inn = make_canaries(X, y, 20, mislabel=False, seed=3)
    assert np.array_equal(Xw, Xn) and np.array_equal(inw, inn)
    truth = np.array([y[np.flatnonzero((X == row).all(1))[0]] for row in Xn])
    assert np.array_equal(yn, truth) and np.all(yw != truth)


def test_mislabelled_canaries_audit_a_memorising_model_better_than_natural_ones():
    from utils.data import load_digits, make_membership_split

    digits = load_digits()
    split = make_membership_split(digits.y, n_members=400, n_nonmembers=200, seed=0)
    X, y = digits.X, digits.y
    result = audit_canary_designs(math.inf, X[split.members], y[split.members], X[split.nonmembers],
                                  y[split.nonmembers], X[split.attacker_pool], y[split.attacker_pool], m=64,
                                  recipe=Recipe(epochs=40), seed=0)
    assert set(result.one_run) == {"mislabelled", "natural"}
    assert result.one_run["mislabelled"].correct > result.one_run["natural"].correct
    assert result.one_run["mislabelled"].epsilon > 1.0
    with pytest.raises(ValueError, match="two sets of m = 2000 canaries need 4000"):
        audit_canary_designs(math.inf, X[:10], y[:10], X[:10], y[:10], X[:100], y[:100], m=2000)


def test_the_network_class_is_what_the_cache_and_the_shadows_see():
    net = PublicNetwork()
    assert net.trunk_width == 32 * 3 * 3 and net.feature_mean.shape == (64,)


# ----------------------------------------------------------------------------- the secret society under DP


def test_victims_lira_offline_pools_members_and_strangers_and_refuses_shadows_that_saw_them():
    from utils.property import sweep_property_game
    from utils.property.exposure import victims_accuracy, victims_lira_offline
    from utils.property.scenarios import tabular_mlp
    from utils.tables import load_census

    census = load_census()
    game = sweep_property_game(census.X, census.y, census.group, base_fraction=0.2, other_fractions=[0.5],
                               n_train=200, n_shadows=3, n_victims=4, build_model=tabular_mlp(census.X.shape[1]),
                               recipe=Recipe(epochs=2, batch_size=100, lr=1e-2), n_query=64, seed=0)[0]
    labels, scores = victims_lira_offline(game.victims, [game.shadows0, game.shadows1], census.X, census.y)
    assert labels.shape == scores.shape == (4 * 400,) and labels.sum() == 4 * 200
    assert np.all(np.isfinite(scores)) and np.all(scores >= 0)  # a one-sided tail score in nats
    accuracy = victims_accuracy(game.victims, census.X, census.y)
    assert accuracy.shape == (4,) and np.all((0 <= accuracy) & (accuracy <= 1))
    with pytest.raises(ValueError, match="some shadow trained on a victim's record"):
        victims_lira_offline(game.victims, game.victims, census.X, census.y)
    with pytest.raises(ValueError, match="shadows must be a ModelBatch"):
        victims_lira_offline(game.victims, [], census.X, census.y)


def test_the_census_game_under_dp_spends_its_epsilon_and_reports_both_secrets():
    from utils.property.dp import DP_CENSUS_RECIPE, secret_society_under_dp

    run = secret_society_under_dp(1.0, n_shadows=5, n_victims=10, seed=0)
    assert 0.99 - 0.01 <= run.epsilon <= 1.0 and run.noise_multiplier == dp.KNOWN_NOISE[(1.0, 1e-5, 1 / 2, 30, "prv")]
    assert len(run.results) == 5 and run.best.accuracy == max(r.accuracy for r in run.results)
    assert run.lira_tpr_low <= run.lira_tpr <= run.lira_tpr_high and 0 <= run.test_accuracy <= 1
    assert run.n_victims == 10 and DP_CENSUS_RECIPE.batch_size == 500
    with pytest.raises(ValueError, match="delta must be below"):
        secret_society_under_dp(1.0, delta=0.01)


@pytest.mark.parametrize("epsilon", [0.05, 4.0, 8.0])
def test_known_noise_of_the_census_game_spends_its_epsilon(epsilon):
    sigma = dp.KNOWN_NOISE[(epsilon, 1e-5, 1 / 2, 30, "prv")]
    assert epsilon - 0.01 <= dp.epsilon_for(sigma, 1 / 2, 30, 1e-5, "prv") <= epsilon


def test_bench_property_prints_the_dp_table():
    from utils.bench.property import DP_COLUMNS, format_dp_table

    row = {"epsilon": 0.9918, "best_attack": "meta-blackbox", "accuracy": 0.83, "ci_low": 0.77, "ci_high": 0.88,
           "lira_tpr@1%fpr": (0.0116, 0.0111, 0.0120), "dp_bound@1%fpr": 0.0272, "test_acc": 0.526, "seconds": 6.5}
    lines = format_dp_table([row, {**row, "epsilon": float("inf")}]).splitlines()
    assert lines[2] == "| " + " | ".join(DP_COLUMNS) + " |"
    assert lines[4] == "| 0.992 | meta-blackbox | 0.830 | 0.770 | 0.880 | 1.16% [1.11%, 1.20%] | 0.027 | 0.526 | 6.5 |"
    assert lines[5].startswith("| inf |")
