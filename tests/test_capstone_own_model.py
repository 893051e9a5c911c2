"""run_audit on a model the course did not train: a scikit-learn estimator or any torch classifier."""

import numpy as np
import pytest
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from torch import nn

from utils.capstone import (
    ATTACK_NEEDS,
    ESTIMATOR_UNSUPPORTED,
    EstimatorModel,
    ThreatModel,
    allowed_attacks,
    fit_estimator_shadows,
    run_audit,
    split_own_data,
)
from utils.tables import load_patients


@pytest.fixture(scope="module")
def own():
    table = load_patients()
    return split_own_data(table.X, table.y, n_members=300, n_population=600, seed=0)


@pytest.fixture(scope="module")
def forest(own):
    return RandomForestClassifier(n_estimators=20, random_state=0).fit(own.X_train, own.y_train)


@pytest.fixture(scope="module")
def forest_audit(own, forest):
    return run_audit(forest, ThreatModel(), own.X, own.y, own.membership, population=own.population,
                     n_shadows=8, seed=0)


def test_split_own_data_gives_disjoint_sets_of_records_without_copies(own):
    assert own.X.shape == (600, 8) and own.membership.tolist() == [1] * 300 + [0] * 300
    np.testing.assert_array_equal(own.X[:300], own.X_train)
    rows = [tuple(r) + (c,) for X, y in [(own.X, own.y), own.population] for r, c in zip(X, y)]
    assert len(rows) == 1200 and len(set(rows)) == 1200
    with pytest.raises(ValueError, match="without an exact copy; ask for fewer"):
        split_own_data(own.X, own.y, n_members=300, n_population=1)
    copies = np.concatenate([own.X[:10], own.X[:10]])
    with pytest.raises(ValueError, match="without an exact copy"):  # every record has a twin: none usable
        split_own_data(copies, np.zeros(20, dtype=int), n_members=1, n_population=1)


def test_an_estimator_faces_every_allowed_attack_but_the_two_that_need_torch_shadows(forest_audit):
    expected = [a for a in allowed_attacks(ThreatModel()) if a not in ESTIMATOR_UNSUPPORTED]
    assert list(forest_audit.attacks) == expected
    assert set(forest_audit.excluded) == {"shokri", "label-robustness"}
    assert all("scikit-learn" in why for why in forest_audit.excluded.values())
    assert len(forest_audit.shadows) == 8 and forest_audit.shadows.in_mask.sum(0).tolist() == [4] * 600
    for scores in forest_audit.scores.values():
        assert scores.shape == (600,) and np.isfinite(scores).all()


def test_the_shadow_attacks_see_what_the_threshold_attacks_miss_on_an_overfit_forest(forest_audit):
    table = forest_audit.table.set_index("attack")
    # a fully grown forest ties members and non-members at confidence 1.0; its clones tell them apart
    assert table.loc["rmia-online", "auc"] > table.loc["loss", "auc"] + 0.05
    assert forest_audit.strongest in ("lira-offline", "lira-online", "rmia-offline", "rmia-online")


def test_an_estimators_logits_are_its_log_probabilities(own, forest):
    model = EstimatorModel(forest)
    logits = model(torch.from_numpy(own.X[:50]))
    np.testing.assert_allclose(torch.softmax(logits, -1).numpy(), forest.predict_proba(own.X[:50]), atol=1e-9)
    assert not model.training and model.in_features == 8
    other = EstimatorModel(RandomForestClassifier(n_estimators=3, random_state=1).fit(own.X_train, own.y_train))
    assert not torch.equal(model.estimator_sha256, other.estimator_sha256)  # the cache keys them apart


def test_shadow_clones_are_fitted_like_the_estimator_each_with_its_own_seed(own, forest):
    shadows = fit_estimator_shadows(forest, own.X, own.y, n_shadows=4, seed=3)
    states = [m.estimator.random_state for m in shadows.models]
    assert len(set(states)) == 4
    assert all(m.estimator.n_estimators == 20 for m in shadows.models)
    again = fit_estimator_shadows(forest, own.X, own.y, n_shadows=4, seed=3)
    np.testing.assert_array_equal(shadows.logits(own.X), again.logits(own.X))


def test_any_torch_classifier_is_audited_with_the_attacks_that_need_no_recipe(own):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2))
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    X, y = torch.from_numpy(own.X_train), torch.from_numpy(own.y_train)
    for _ in range(200):
        optimiser.zero_grad()
        nn.functional.cross_entropy(net(X), y).backward()
        optimiser.step()
    net.eval()
    result = run_audit(net, ThreatModel(), own.X, own.y, own.membership, attacks=["loss", "gap"])
    assert result.attacks == ("loss", "gap") and result.table["auc"].between(0.3, 1).all()
    # without its recipe, the default audit runs what needs no shadows and says what it left out
    default = run_audit(net, ThreatModel(), own.X, own.y, own.membership)
    shadow_attacks = {a for a, needs in ATTACK_NEEDS.items() if needs["shadows"]}
    assert set(default.attacks) == set(allowed_attacks(ThreatModel())) - shadow_attacks
    assert set(default.excluded) == shadow_attacks
    assert all("pass build_model= and recipe=" in why for why in default.excluded.values())
    with pytest.raises(ValueError, match="pass build_model=... and recipe=..."):
        run_audit(net, ThreatModel(), own.X, own.y, own.membership, attacks=["lira-online"])


def test_bad_targets_and_records_get_an_error_that_says_what_to_fix(own, forest, forest_audit):
    args = (ThreatModel(), own.X, own.y, own.membership)
    with pytest.raises(ValueError, match="torch.nn.Module .* or a fitted scikit-learn classifier"):
        run_audit("my model", *args)
    with pytest.raises(ValueError, match="not fitted"):
        run_audit(RandomForestClassifier(), *args)
    named = LogisticRegression().fit(own.X_train, np.where(own.y_train == 1, "died", "alive"))
    with pytest.raises(ValueError, match="classes_ must be 0, 1"):
        run_audit(named, *args)
    with pytest.raises(ValueError, match="its own recipe"):
        run_audit(forest, *args, build_model=lambda: None)
    with pytest.raises(ValueError, match="membership has 599 entries"):
        run_audit(forest, ThreatModel(), own.X, own.y, own.membership[:-1])
    with pytest.raises(ValueError, match=r"membership must be 0 \(non-member\) or 1"):
        run_audit(forest, ThreatModel(), own.X, own.y, own.membership * 2)
    with pytest.raises(ValueError, match="3 population record.* exact copies of members"):
        X_pop, y_pop = own.population
        run_audit(forest, *args, population=(np.concatenate([X_pop, own.X[:3]]), np.concatenate([y_pop, own.y[:3]])))
    with pytest.raises(ValueError, match="'shokri' is ruled out here: it trains its attack on a batch of torch"):
        run_audit(forest, *args, attacks=["shokri"])
    with pytest.raises(ValueError, match="its fitted clones"):
        run_audit(forest, *args, attacks=["lira-online"], shadows=object())
    reused = run_audit(forest, *args, attacks=["lira-online"], shadows=forest_audit.shadows)
    np.testing.assert_array_equal(reused.scores["lira-online"], forest_audit.scores["lira-online"])
