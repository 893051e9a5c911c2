"""The comparison table, pooled low-FPR targets, and the `python -m utils.bench attacks` entry point."""

import sys
from functools import partial

import numpy as np
import pytest

from utils.attacks import compare, pooled
from utils.bench import attacks as bench
from utils.metrics import auc
from utils.models import MLP

CONTRACT = "| attack | auc | advantage | tpr@1%fpr | tpr@0.1%fpr | seconds |"


def test_table_known_answers():
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(5000, int), np.zeros(5000, int)]
    table = compare.compare_attacks(
        {"perfect": labels + 0.5, "random": rng.random(10_000), "backwards": -labels.astype(float)},
        labels=labels, seconds={"perfect": 1.5},
    )
    assert list(table["attack"]) == ["perfect", "random", "backwards"]
    perfect, random, backwards = (table.iloc[i] for i in range(3))
    assert perfect["auc"] == 1.0 and perfect["advantage"] == 1.0 and perfect["tpr@1%fpr"] == 1.0
    assert perfect["seconds"] == 1.5 and np.isnan(random["seconds"])
    assert 0.003 < random["tpr@1%fpr"] < 0.02 and abs(random["auc"] - 0.5) < 0.02
    assert backwards["auc"] == 0.0 and backwards["tpr@0.1%fpr"] == 0.0
    for col in ("tpr@1%fpr", "tpr@0.1%fpr"):
        assert np.all(table[col + "_low"] <= table[col]) and np.all(table[col] <= table[col + "_high"])
    assert random["tpr@1%fpr_high"] - random["tpr@1%fpr_low"] < 0.01
    assert list(table["n_nonmembers"]) == [5000] * 3


def test_pairs_for_attacks_on_different_records_and_markdown():
    table = compare.compare_attacks({"a": ([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]), "b": ([1, 0], [0.3, 0.7])})
    assert list(table["auc"]) == [1.0, 0.0] and list(table["n_members"]) == [2, 1]
    text = compare.format_markdown(table)
    lines = text.splitlines()
    assert lines[0].startswith(CONTRACT) and "tpr@1%fpr 95% CI" in lines[0]
    assert len(lines) == 4 and lines[2].startswith("| a | 1.000 | 1.000 | 1.000 | 1.000 | n/a | [")
    assert compare.fpr_column(0.001) == "tpr@0.1%fpr"


def test_table_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        compare.compare_attacks({})
    with pytest.raises(ValueError, match="no labels were given"):
        compare.compare_attacks({"a": [0.1, 0.2]})
    with pytest.raises(ValueError, match="labels=... was also given"):
        compare.compare_attacks({"a": ([0, 1], [0.1, 0.2])}, labels=[0, 1])
    with pytest.raises(ValueError, match="not in results: \\['typo'\\]"):
        compare.compare_attacks({"a": [0.1, 0.2]}, labels=[0, 1], seconds={"typo": 1.0})
    with pytest.raises(ValueError, match="one entry per record"):
        compare.compare_attacks({"a": [0.1, 0.2, 0.3]}, labels=[0, 1])


@pytest.fixture(scope="module")
def experiment():
    rng = np.random.default_rng(0)
    X, y = rng.random((120, 20), dtype=np.float32), rng.integers(0, 4, 120)
    toy = partial(MLP, in_features=20, hidden=(128,), n_classes=4)
    return pooled.train_pooled(toy, X, y, n_shadows=8, n_targets=4, seed=0, epochs=60, lr=2e-2, batch_size=50)


def test_pooled_targets_multiply_the_non_members(experiment):
    assert experiment.logits.shape == (12, 120, 4) and experiment.n_targets == 4 and experiment.n_shadows == 8
    assert not set(experiment.target_ids) & set(experiment.shadow_ids)
    for attack in ("lira-online", "lira-offline", "loss"):
        labels, scores = pooled.pooled_scores(experiment, attack)
        assert labels.shape == scores.shape == (4 * 120,)
        assert labels.sum() == 2 * 120  # each record a member of exactly half the targets
        assert auc(labels, scores) > 0.75, attack
    labels, scores = pooled.pooled_scores(experiment, "loss")
    np.testing.assert_array_equal(labels[:120], experiment.in_mask[0])


def test_pooled_bad_input(experiment):
    with pytest.raises(ValueError, match="attack must be one of"):
        pooled.pooled_scores(experiment, "lira")
    with pytest.raises(ValueError, match="PooledExperiment"):
        pooled.pooled_scores("experiment")
    with pytest.raises(ValueError, match="must be even"):
        pooled.train_pooled(MLP, np.zeros((10, 196), np.float32), np.zeros(10, int), n_shadows=5, n_targets=2)
    with pytest.raises(ValueError, match="n_targets must be an integer >= 2"):
        pooled.train_pooled(MLP, np.zeros((10, 196), np.float32), np.zeros(10, int), n_targets=1)


def test_bench_prints_one_row_per_attack_and_survives_without_art(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "art", None)  # as if adversarial-robustness-toolbox were not installed
    assert bench.main(["--shadows", "4", "--art-shadows", "2", "--art-epochs", "1", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].startswith(CONTRACT)
    rows = {line.split(" | ")[0][2:]: line for line in table[1:]}
    assert {"loss", "shokri", "lira-offline", "lira-online", "art-blackbox"} <= set(rows)
    assert "| n/a |" in rows["art-blackbox"] and "not installed" in out
    assert "Checks:" in out
