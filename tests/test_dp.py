"""Tests for utils.defenses.dp and dp_batched at tiny sizes: the accountant's promise is kept, the fast noise search
agrees with Opacus's, per-record clipping matches per-sample gradients computed one by one, the
batched DP trainer learns without noise and not with huge noise, and bad input is named."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from utils.defenses import dp, dp_batched
from utils.models import MLP
from utils.recipe import Recipe
from utils.train import init_model

TINY = Recipe(epochs=2, batch_size=32, lr=1e-2)


def tiny_data(n=120, d=8, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = (rng.random((n, d)) * 0.3 + np.eye(3)[y].repeat(3, axis=1)[:, :d] * 0.7).astype(np.float32)
    return X, y.astype(np.int64)


def build():
    return MLP(in_features=8, hidden=(6,), n_classes=3)


def test_train_dp_spends_at_most_the_target_and_reports_both_accountants():
    X, y = tiny_data()
    run = dp.train_dp(init_model(build, 0), X, y, TINY, epsilon=2.0, delta=1e-3, accountant="rdp", seed=0)
    assert 2.0 - 0.02 <= run.epsilon <= 2.0
    assert run.noise_multiplier > 0 and run.private
    assert run.steps == 2 * math.ceil(120 / 32) and run.sample_rate == pytest.approx(1 / 4)
    assert len(run.history) == 1 and run.history[0][2] == run.steps
    assert run.epsilon_rdp == pytest.approx(run.epsilon)  # rdp was the chosen accountant
    assert not run.model.training and isinstance(run.model, MLP)
    again = dp.train_dp(init_model(build, 0), X, y, TINY, epsilon=2.0, delta=1e-3, accountant="rdp", seed=0)
    for a, b in zip(run.model.parameters(), again.model.parameters()):
        torch.testing.assert_close(a, b)  # seeded: same batches, same noise


def test_fast_noise_search_agrees_with_opacus():
    from opacus.accountants.utils import get_noise_multiplier

    ours = dp.noise_multiplier_for(3.0, 1e-4, 0.1, 40, accountant="rdp")
    theirs = get_noise_multiplier(target_epsilon=3.0, target_delta=1e-4, sample_rate=0.1, steps=40, accountant="rdp")
    assert ours == pytest.approx(theirs, rel=0.02)
    assert 3.0 - 0.01 <= dp.epsilon_for(ours, 0.1, 40, 1e-4, "rdp") <= 3.0


def test_opacus_search_path_gives_the_same_guarantee():
    X, y = tiny_data()
    run = dp.train_dp(init_model(build, 0), X, y, TINY, epsilon=2.0, delta=1e-3, accountant="rdp",
                      noise_search="opacus", grad_sample_mode="hooks")
    assert 2.0 - 0.02 <= run.epsilon <= 2.0


def test_nonprivate_twin():
    X, y = tiny_data()
    run = dp.train_dp(init_model(build, 0), X, y, TINY.replace(epochs=20), epsilon=math.inf, delta=1e-3)
    assert run.epsilon == math.inf and run.noise_multiplier == 0.0 and not run.private
    acc = (run.model(torch.from_numpy(X)).argmax(1).numpy() == y).mean()
    assert acc > 0.9


def test_clipped_gradient_sums_match_per_sample_gradients():
    torch.manual_seed(0)
    K, n, d, h, c = 2, 7, 5, 4, 3
    weights = [torch.randn(K, h, d), torch.randn(K, c, h)]
    biases = [torch.randn(K, h), torch.randn(K, c)]
    inputs = torch.randn(K, n, d)
    labels = torch.randint(0, c, (K, n))
    targets = nn.functional.one_hot(labels, c).float()
    C = 0.5
    sums = dp_batched.clipped_gradient_sums(weights, biases, inputs, targets, C)
    for k in range(K):
        expected = [torch.zeros_like(t[k]) for t in (weights[0], biases[0], weights[1], biases[1])]
        for j in range(n):  # one record at a time, by autograd
            params = [t[k].clone().requires_grad_(True) for t in (weights[0], biases[0], weights[1], biases[1])]
            hidden = torch.relu(inputs[k, j] @ params[0].T + params[1])
            loss = nn.functional.cross_entropy((hidden @ params[2].T + params[3])[None], labels[k, j][None])
            grads = torch.autograd.grad(loss, params)
            norm = torch.sqrt(sum((g * g).sum() for g in grads))
            factor = min(1.0, C / (float(norm) + 1e-6))
            for e, g in zip(expected, grads):
                e += factor * g
        got = [sums[0][0][k], sums[0][1][k], sums[1][0][k], sums[1][1][k]]
        for g, e in zip(got, expected):
            torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-5)


def test_train_dp_batched_learns_without_noise_and_not_with_huge_noise():
    from utils.inference import accuracy, predict_logits

    X, y = tiny_data(200)
    subsets = np.stack([np.arange(0, 100), np.arange(100, 200)])

    def build(): return MLP(in_features=8, hidden=(16,), n_classes=3)

    quiet = dp_batched.train_dp_batched(build, X, y, subsets, Recipe(epochs=30, batch_size=50, lr=3e-2),
                                noise_multiplier=0.0, max_grad_norm=1.0)
    loud = dp_batched.train_dp_batched(build, X, y, subsets, Recipe(epochs=30, batch_size=50, lr=3e-2),
                               noise_multiplier=500.0, max_grad_norm=1.0)
    assert len(quiet) == 2 and quiet.in_mask.sum() == 200
    accs_quiet = [accuracy(lg, y) for lg in predict_logits(quiet, X)]
    accs_loud = [accuracy(lg, y) for lg in predict_logits(loud, X)]
    assert min(accs_quiet) > 0.85
    assert max(accs_loud) < min(accs_quiet) - 0.2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(epsilon=1.0, delta=0.01), "delta must be below 1 / n_records"),
        (dict(epsilon=-1.0), "epsilon"),
        (dict(epsilon=True), "epsilon"),
        (dict(epsilon=1.0, accountant="gdp"), "accountant must be"),
        (dict(epsilon=1.0, grad_sample_mode="fast"), "grad_sample_mode must be"),
        (dict(epsilon=1.0, max_grad_norm=0.0), "max_grad_norm"),
    ],
)
def test_train_dp_bad_input(kwargs, match):
    X, y = tiny_data()
    with pytest.raises(ValueError, match=match):
        dp.train_dp(init_model(build, 0), X, y, TINY, **{"delta": 1e-3, **kwargs})


def test_batchnorm_and_other_layers_are_refused_with_a_fix():
    X, y = tiny_data()
    model = nn.Sequential(nn.Linear(8, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    with pytest.raises(ValueError, match="ModuleValidator.fix"):
        dp.train_dp(model, X, y, TINY, epsilon=1.0, delta=1e-3)
    with pytest.raises(ValueError, match="Linear and ReLU layers only"):
        dp_batched.train_dp_batched(lambda: MLP(8, (6,), 3, dropout=0.5), X, y, np.stack([np.arange(60)]),
                                    noise_multiplier=1.0)


def test_known_noise_entry_spends_its_epsilon():
    """KNOWN_NOISE saves the lesson a search; the accountant itself confirms an entry (one PRV call)."""
    (epsilon, delta, sample_rate, steps, accountant), sigma = next(
        (key, value) for key, value in dp.KNOWN_NOISE.items() if key[0] == 8.0)
    assert epsilon - 0.01 <= dp.epsilon_for(sigma, sample_rate, steps, delta, accountant) <= epsilon
    assert dp.noise_multiplier_for(epsilon, delta, sample_rate, steps, accountant) == sigma


def test_bench_table_columns():
    from utils.bench.dp import COLUMNS, format_ceiling_table, format_table

    assert COLUMNS == ("model", "epsilon", "test_acc", "lira_tpr@1%fpr", "lira_auc", "audit_eps", "accountant_eps",
                       "train_s", "nonprivate_train_s")
    row = {"model": "from-scratch", "epsilon": 4.0, "test_acc": 0.8, "lira_tpr@1%fpr": (0.01, 0.005, 0.02),
           "lira_auc": 0.52, "audit_eps": 0.0, "accountant_eps": 3.995, "train_s": 1.5, "nonprivate_train_s": 1.0}
    public_only = {**row, "model": "public-only", "epsilon": 0.0, "lira_tpr@1%fpr": None, "lira_auc": None,
                   "audit_eps": None, "accountant_eps": 0.0}
    lines = format_table([row, {**row, "epsilon": math.inf, "accountant_eps": math.inf}, public_only]).splitlines()
    assert lines[0] == "| " + " | ".join(COLUMNS) + " |"
    assert lines[2].startswith("| from-scratch | 4 | 0.800 | 1.00% [0.50%, 2.00%] | 0.520 | 0.000 | 3.995 | 1.50 |")
    assert lines[3].startswith("| from-scratch | inf |") and "| inf |" in lines[3][20:]
    assert lines[4].startswith("| public-only | 0 | 0.800 | n/a | n/a | n/a | 0.000 |")
    ceiling = format_ceiling_table([{"guesses": 1000, "canaries": 1000, "max_epsilon": 5.809,
                                     "max_epsilon_delta": 5.78}])
    assert ceiling.splitlines()[2] == "| 1,000 | 1,000 | 5.809 | 5.780 |"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: dp.check_privacy_target(1.0, 1e-5, 0), "n_records must be an integer >= 1"),
        (lambda: dp.check_privacy_target(1.0, 1e-5, True), "n_records must be an integer >= 1"),
        (lambda: dp.noise_multiplier_for(0.0, 1e-5, 0.1, 10, "rdp"), "epsilon must be > 0"),
        (lambda: dp.noise_multiplier_for(-1.0, 1e-5, 0.1, 10, "rdp"), "epsilon must be > 0"),
        (lambda: dp.noise_multiplier_for(float("nan"), 1e-5, 0.1, 10, "rdp"), "epsilon must be a finite number"),
        (lambda: dp.noise_multiplier_for(1.0, 1.0, 0.1, 10, "rdp"), r"delta must lie in \(0, 1\)"),
        (lambda: dp.noise_multiplier_for(1.0, 1e-5, 0.0, 10, "rdp"), r"sample_rate must lie in \(0, 1\]"),
        (lambda: dp.noise_multiplier_for(1.0, 1e-5, 0.1, True, "rdp"), "steps must be an integer >= 1"),
        (lambda: dp.noise_multiplier_for(1.0, 1e-5, 0.1, 10, "moments"), "accountant must be"),
        (lambda: dp.epsilon_for(0.0, 0.1, 10, 1e-5, "rdp"), "noise_multiplier must be > 0"),
        (lambda: dp.epsilon_for(1.0, 1.5, 10, 1e-5, "rdp"), "sample_rate must lie in"),
        (lambda: dp.epsilon_for(1.0, 0.1, 0, 1e-5, "rdp"), "steps must be an integer >= 1"),
        (lambda: dp.epsilon_for(1.0, 0.1, 10, 0.0, "rdp"), "delta must lie in"),
        (lambda: dp.epsilon_for(1.0, 0.1, 10, 1e-5, "moments"), "accountant must be"),
    ],
)
def test_accounting_bad_input_is_named(call, match):
    """Before: n_records=0 divided by zero, epsilon=0 hit a math domain error and NaN searched without end."""
    with pytest.raises(ValueError, match=match):
        call()
