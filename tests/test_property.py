"""Property inference (lesson 04): worlds, the game, the attacks, n_leaked, known answers and errors."""

from functools import partial

import numpy as np
import pytest

from utils.models import MLP
from utils.property import (
    MIN_META_SHADOWS,
    PROPERTY_ATTACKS,
    draw_training_sets,
    evaluate_property_attack,
    group_counts,
    kl_attack,
    kl_matrix,
    kl_votes,
    meta_blackbox,
    meta_whitebox,
    n_leaked,
    play_property_game,
    run_property_attacks,
    split_pool,
    sweep_property_game,
    take_models,
    whitebox_features,
)
from utils.recipe import Recipe

SMALL = partial(MLP, in_features=2, hidden=(8,), n_classes=2)


def synthetic(n=4000, seed=0):
    """Two features; the label is the group 90% of the time, so the group's share sets the base rate."""
    rng = np.random.default_rng(seed)
    group = rng.random(n) < 0.5
    y = np.where(rng.random(n) < 0.9, group, ~group).astype(np.int64)
    X = np.c_[rng.random(n), 0.3 * group + 0.7 * rng.random(n)].astype(np.float32)
    return X, y, group


@pytest.fixture(scope="module")
def games():
    X, y, group = synthetic()
    far, same = sweep_property_game(
        X,
        y,
        group,
        base_fraction=0.1,
        other_fractions=[0.9, 0.1],
        n_train=100,
        n_shadows=MIN_META_SHADOWS + 1,
        n_victims=40,
        build_model=SMALL,
        recipe=Recipe(epochs=4, batch_size=50, lr=1e-2),
        n_query=64,
        seed=0,
    )
    return far, same


# ----------------------------------------------------------------------------- n_leaked: known answers
def test_n_leaked_known_answers():
    # Hand-computed: log(1 - 0.8^2) / log(max(0.2/0.5, 0.5/0.8)) = log(0.36) / log(0.625).
    assert n_leaked(0.9, 0.2, 0.5) == pytest.approx(np.log(0.36) / np.log(0.625))
    assert n_leaked(0.9, 0.2, 0.5) == pytest.approx(2.1737, abs=1e-4)
    assert n_leaked(0.9, 0.5, 0.2) == n_leaked(0.9, 0.2, 0.5)  # symmetric in the worlds
    # 0.1 vs 0.2: max(0.5, 0.8/0.9); acc 0.75 -> log(0.75) / log(8/9).
    assert n_leaked(0.75, 0.1, 0.2) == pytest.approx(np.log(0.75) / np.log(8 / 9))
    assert n_leaked(0.5, 0.2, 0.5) == 0.0 and n_leaked(0.3, 0.2, 0.5) == 0.0
    assert n_leaked(0.8, 0.3, 0.3) == 0.0
    assert n_leaked(1.0, 0.2, 0.5) == float("inf") and n_leaked(0.7, 0.0, 1.0) == float("inf")
    # More accuracy is worth more records; closer worlds need more records for the same accuracy.
    assert n_leaked(0.95, 0.2, 0.5) > n_leaked(0.9, 0.2, 0.5) > n_leaked(0.6, 0.2, 0.5) > 0
    assert n_leaked(0.9, 0.2, 0.3) > n_leaked(0.9, 0.2, 0.5)


@pytest.mark.parametrize("bad", [True, 1.5, -0.1, float("nan"), "0.9"])
def test_n_leaked_rejects_odd_accuracy(bad):
    with pytest.raises(ValueError, match="accuracy"):
        n_leaked(bad, 0.2, 0.5)


# ----------------------------------------------------------------------------- KL: known answers
def test_kl_votes_known_answer():
    d0 = np.array([[0.30, 0.01], [0.25, 0.02]])
    d1 = np.array([[0.02, 0.40], [0.05, 0.35], [0.50, 0.30]])
    # victim 0: 4 of 6 pairs closer to world 1; victim 1: 0 of 6.
    assert np.allclose(kl_votes(d0, d1), [4 / 6 - 0.5, -0.5])
    assert np.allclose(kl_votes([[1.0]], [[1.0]]), [0.0])  # a tie is half a vote
    with pytest.raises(ValueError, match="n_victims"):
        kl_votes(np.zeros((2, 3)), np.zeros((2, 4)))


def test_kl_matrix_bernoulli_known_answer():
    p, q = 0.8, 0.5
    shadow = np.log([[[1 - p, p]]])  # one shadow, one record
    victim = np.log([[[1 - q, q]], [[1 - p, p]]])  # two victims
    expected = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    assert np.allclose(kl_matrix(shadow, victim, np.array([1.0])), [[expected, 0.0]])


# ----------------------------------------------------------------------------- worlds
def test_training_sets_hold_the_worlds_fraction_exactly():
    X, y, group = synthetic()
    sets = draw_training_sets(group, 0.3, 200, 5, seed=1)
    assert sets.shape == (5, 200) and (group[sets].sum(axis=1) == 60).all()
    assert all(len(np.unique(row)) == 200 for row in sets)
    balanced = draw_training_sets(group, 0.3, 200, 5, labels=y, label_rate=0.5, seed=1)
    for row in balanced:
        assert group[row].sum() == 60 and y[row][group[row]].sum() == 30 and y[row][~group[row]].sum() == 70
    assert group_counts(0.25, 10) == {True: 2, False: 8} or group_counts(0.25, 10) == {True: 3, False: 7}


def test_pools_are_disjoint_and_stratified():
    _, _, group = synthetic()
    attacker, victim = split_pool(len(group), stratify=group, seed=0)
    assert len(np.intersect1d(attacker, victim)) == 0 and len(attacker) + len(victim) == len(group)
    assert abs(group[attacker].mean() - group[victim].mean()) < 0.01


def test_impossible_world_is_explained():
    group = np.array([True] * 10 + [False] * 90)
    with pytest.raises(ValueError, match="impossible world.*needs 25 group records, but the pool has only 10"):
        draw_training_sets(group, 0.5, 50, 2)
    with pytest.raises(ValueError, match="label_rate needs the labels"):
        draw_training_sets(group, 0.1, 50, 2, label_rate=0.5)
    with pytest.raises(ValueError, match="group must be True/False"):
        draw_training_sets(np.arange(100), 0.1, 50, 2)
    with pytest.raises(ValueError, match="pool must be a 1-D array of record indices"):
        draw_training_sets(group, 0.1, 5, 2, pool=np.ones(100, dtype=bool))


def test_game_rejects_too_few_shadows_and_bad_worlds():
    X, y, group = synthetic(400)
    with pytest.raises(ValueError, match="n_shadows must be at least 2"):
        play_property_game(X, y, group, n_shadows=1, n_train=50, build_model=SMALL)
    with pytest.raises(ValueError, match="fractions must be a pair"):
        play_property_game(X, y, group, fractions=(0.2,), build_model=SMALL)
    with pytest.raises(ValueError, match=r"fractions\[1\] must lie in \[0, 1\]"):
        play_property_game(X, y, group, fractions=(0.2, 20), build_model=SMALL)
    with pytest.raises(ValueError, match="impossible world"):
        play_property_game(X, y, group, fractions=(0.2, 0.99), n_train=300, build_model=SMALL)


# ----------------------------------------------------------------------------- the game and the attacks
def test_game_shapes_and_disjoint_shares(games):
    far, same = games
    assert far.fractions == (0.1, 0.9) and same.fractions == (0.1, 0.1)
    assert len(far.victims) == 40 and far.worlds.tolist() == [0] * 20 + [1] * 20
    victim_records = np.unique(far.victims.subsets)
    shadow_records = np.unique(np.r_[far.shadows0.subsets.ravel(), far.shadows1.subsets.ravel()])
    assert len(np.intersect1d(victim_records, shadow_records)) == 0, "victims must train on a disjoint share"
    X, _, group = synthetic()
    assert group[far.victims.subsets[20:]].mean() == pytest.approx(0.9)
    assert np.allclose([far.query.weights0.sum(), far.query.weights1.sum()], 1.0)
    assert far.query.weights1[far.query.group].sum() == pytest.approx(0.9)
    # World 0 is shared by every game of a sweep.
    assert far.shadows0.seeds == same.shadows0.seeds


def test_every_attack_finds_far_worlds_and_none_finds_identical_ones(games):
    far, same = games
    for r in run_property_attacks(far):
        # The loss test uses no shadows (its threshold, 0, is not tuned to these worlds); weights are a noisy view.
        floor = {"property-loss": 0.65, "property-threshold": 0.8, "property-kl": 0.9, "meta-blackbox": 0.9}
        assert r.accuracy >= floor.get(r.attack, 0.0), r
        assert r.n_victims == 40 and 0 <= r.ci_low <= r.accuracy <= r.ci_high <= 1
    for r in run_property_attacks(same):
        assert r.ci_low <= 0.5 <= r.ci_high, r


def test_scores_point_to_world_one(games):
    far, _ = games
    for name, attack in PROPERTY_ATTACKS.items():
        scores = attack(far.victims, shadows_world0=far.shadows0, shadows_world1=far.shadows1, query=far.query)
        assert scores.shape == (40,) and scores.dtype == np.float64
        if name != "meta-whitebox":
            assert scores[far.worlds == 1].mean() > scores[far.worlds == 0].mean(), name


def test_game_models_remember_the_records_that_trained_them(games):
    far, _ = games
    # take_models and the sweep's joined victims keep train_batched's fingerprint, so an attack that
    # checks which records trained a batch can still do so
    assert far.shadows0.fingerprint is not None and far.victims.fingerprint == far.shadows0.fingerprint
    assert take_models(far.victims, slice(0, 3)).fingerprint == far.victims.fingerprint


def test_whitebox_features_ignore_the_order_of_hidden_neurons(games):
    far, _ = games
    batch = take_models(far.victims, slice(0, 3))
    order = np.random.default_rng(0).permutation(8)
    shuffled = take_models(far.victims, slice(0, 3))
    shuffled.params = dict(shuffled.params)
    shuffled.params["net.1.weight"] = batch.params["net.1.weight"][:, order]
    shuffled.params["net.1.bias"] = batch.params["net.1.bias"][:, order]
    shuffled.params["net.3.weight"] = batch.params["net.3.weight"][:, :, order]
    assert np.allclose(whitebox_features(batch), whitebox_features(shuffled))


def test_attacks_refuse_mismatched_architectures_and_too_few_shadows(games):
    far, _ = games
    X, y, _ = synthetic(400)
    from utils.train import train_batched

    other = train_batched(
        partial(MLP, in_features=2, hidden=(4,), n_classes=2), X, y, np.tile(np.arange(50), (6, 1)), epochs=1
    )
    with pytest.raises(ValueError, match="different architectures"):
        kl_attack(far.victims, shadows_world0=other, shadows_world1=far.shadows1, query=far.query)
    few = take_models(far.shadows0, slice(0, MIN_META_SHADOWS - 1))
    with pytest.raises(ValueError, match=f"needs at least {MIN_META_SHADOWS} shadow models per world"):
        meta_blackbox(far.victims, shadows_world0=few, shadows_world1=far.shadows1, query=far.query)
    with pytest.raises(ValueError, match="must be a ModelBatch"):
        meta_whitebox([1, 2], shadows_world0=far.shadows0, shadows_world1=far.shadows1, query=far.query)
    with pytest.raises(ValueError, match="unknown property attack"):
        run_property_attacks(far, ["lira-online"])


def test_evaluate_counts_correct_guesses_with_an_exact_interval():
    result = evaluate_property_attack([1.0, -1.0, 2.0, 0.5], [1, 0, 0, 1], (0.2, 0.5), attack="x")
    assert result.accuracy == 0.75 and result.n_leaked == pytest.approx(n_leaked(0.75, 0.2, 0.5))
    from utils.metrics import clopper_pearson

    assert (result.ci_low, result.ci_high) == pytest.approx(clopper_pearson(3, 4))
    with pytest.raises(ValueError, match="victims of one world only"):
        evaluate_property_attack([1.0, 2.0], [1, 1], (0.2, 0.5))
    with pytest.raises(ValueError, match="one entry per victim"):
        evaluate_property_attack([1.0, 2.0, 3.0], [0, 1], (0.2, 0.5))
    with pytest.raises(ValueError, match="NaN"):
        evaluate_property_attack([np.nan, 2.0], [0, 1], (0.2, 0.5))


def test_familywise_interval_is_bonferroni_and_holds_a_chance_miss():
    from utils.metrics import clopper_pearson
    from utils.property import PropertyResult, familywise_interval

    # 83 of 200 right: the 95% interval misses 0.5 (a 2.4-sigma miss, which 15 tests at chance make
    # about one time in five), the family-wise interval over 15 tests does not.
    result = PropertyResult("meta-blackbox", 83 / 200, *clopper_pearson(83, 200), 0.0, 200)
    assert result.ci_high < 0.5
    low, high = familywise_interval(result, 15)
    assert (low, high) == clopper_pearson(83, 200, 1 - 0.05 / 15)
    assert low < result.ci_low and high > 0.5
    assert familywise_interval(result, 1) == pytest.approx((result.ci_low, result.ci_high))
    for bad in (0, True, 2.5):
        with pytest.raises(ValueError, match="n_tests"):
            familywise_interval(result, bad)


def test_ranks_auc_matches_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score

    from utils.property import ranks_auc

    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=(4, 60)), 1)  # rounding makes ties
    labels = rng.integers(0, 2, size=(4, 60))
    expected = [roc_auc_score(labels[k], scores[k]) for k in range(4)]
    np.testing.assert_allclose(ranks_auc(scores, labels), expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="both"):
        ranks_auc(scores[:, :3], np.ones((4, 3)))
    with pytest.raises(ValueError, match="shape"):
        ranks_auc(scores, labels[:, :5])


def test_member_aucs_equal_the_loss_attack_on_each_victim(games):
    from utils.inference import per_record_loss, predict_logits
    from utils.metrics import auc
    from utils.property import member_aucs

    X, y, _ = synthetic()
    victims = games[0].victims
    aucs = member_aucs(victims, X, y, seed=3)
    assert aucs.shape == (len(victims),) and np.all((aucs >= 0) & (aucs <= 1))
    # The same draw of strangers, computed the slow way: every victim on the whole pool.
    pool = np.unique(victims.subsets)
    losses = per_record_loss(predict_logits(victims, X[pool]), y[pool])
    in_mask = victims.in_mask[:, pool]
    rng = np.random.default_rng(3)
    for k in range(len(victims)):
        members = np.flatnonzero(in_mask[k])
        others = rng.choice(np.flatnonzero(~in_mask[k]), len(members), replace=False)
        labels = np.r_[np.ones(len(members)), np.zeros(len(others))]
        assert aucs[k] == pytest.approx(auc(labels, -np.r_[losses[k, members], losses[k, others]]), abs=1e-9)
    with pytest.raises(ValueError, match="records"):
        member_aucs(victims, X[:100], y[:100])
    with pytest.raises(ValueError, match="ModelBatch"):
        member_aucs(victims.model(0), X, y)


def test_benchmark_table_and_identical_worlds_check(capsys):
    from utils.bench.property import COLUMNS, main

    argv = ["--worlds", "0.5", "0.5", "--only", "census-a", "--shadows", "5", "--victims", "20", "--epochs", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "| " + " | ".join(COLUMNS) + " |"
    rows = [line for line in out.splitlines() if line.startswith("| census-a | 0.5 vs 0.5 |")]
    assert len(rows) == len(PROPERTY_ATTACKS)
    assert "family-wise 95% (Bonferroni over 5)" in out and "expected by chance 0.25" in out
