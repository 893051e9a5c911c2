"""The attack registry: one call shape for every attack, names shared with the plot styles, clear errors."""

import inspect

import numpy as np
import pytest

from utils.attacks import registry, threshold
from utils.plots.base import ATTACK_STYLES

MEMBERSHIP_ATTACKS = ["loss", "confidence", "log-odds", "entropy", "modified-entropy", "shokri",
                      "lira-online", "lira-offline", "rmia-online", "rmia-offline"]


def test_every_membership_attack_is_registered_under_its_plot_style_name():
    assert set(MEMBERSHIP_ATTACKS) <= set(registry.ATTACKS)
    assert set(registry.ATTACKS) <= set(ATTACK_STYLES), "every registered attack needs a style in ATTACK_STYLES"


@pytest.mark.parametrize("name", sorted(registry.ATTACKS))
def test_one_call_shape(name):
    """Every registered attack, including those registered later (label-only, ...)."""
    params = list(inspect.signature(registry.get(name)).parameters.values())
    assert [p.name for p in params[:3]] == ["target", "X", "y"]
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params[:3])
    shadows = inspect.signature(registry.get(name)).parameters["shadows"]
    assert shadows.kind is shadows.KEYWORD_ONLY
    assert all(p.kind is p.KEYWORD_ONLY for p in params[3:] if p.name != "kind")


def test_get_names_the_known_attacks():
    with pytest.raises(KeyError, match="no attack named 'lira'; known attacks: .*lira-offline, lira-online"):
        registry.get("lira")


def test_registering_is_one_decorator_and_refuses_a_taken_name(monkeypatch):
    monkeypatch.setattr(registry, "ATTACKS", dict(registry.ATTACKS))

    @registry.register("always-member")
    def always(target, X, y, *, shadows=None):
        return np.ones(len(y))

    assert registry.get("always-member") is always
    with pytest.raises(ValueError, match="already registered"):
        registry.register("loss", lambda target, X, y, *, shadows=None: None)
    with pytest.raises(ValueError, match="non-empty string"):
        registry.register("", always)


def test_threshold_attacks_in_the_registry_equal_threshold_score():
    from utils.models import MLP

    model = MLP(in_features=4, hidden=(8,), n_classes=3).eval()
    X, y = np.random.default_rng(0).random((5, 4), dtype=np.float32), np.array([0, 1, 2, 0, 1])
    for kind in threshold.SIGNALS:
        np.testing.assert_array_equal(registry.get(kind)(model, X, y), threshold.score(model, X, y, kind))
