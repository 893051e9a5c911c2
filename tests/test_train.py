"""Tests for utils.train: fitting, determinism, the batched trainer against K single runs, the
ModelBatch it returns, and bad input (inference is in test_inference.py). Every training run here is tiny."""

import functools

import numpy as np
import pytest
import torch
from torch import nn

from utils.data import load_digits
from utils.models import CNN, MLP
from utils.seed import spawn_seeds
from utils.train import (
    ModelBatch,
    evaluate,
    init_model,
    per_record_loss,
    predict_logits,
    train_batched,
    train_model,
)

SMALL_MLP = functools.partial(MLP, hidden=(32,))
SMALL_CNN = functools.partial(CNN, width=4)
FAST = dict(epochs=3, batch_size=40)


@pytest.fixture(scope="module")
def digits():
    """300 digits from every class (the full set is sorted by class)."""
    full = load_digits()
    idx = np.random.default_rng(0).permutation(len(full))[:300]
    return full.X[idx], full.y[idx]


@pytest.fixture(scope="module")
def subsets():
    rng = np.random.default_rng(1)
    return np.stack([rng.choice(300, size=96, replace=False) for _ in range(3)])


@pytest.fixture(scope="module")
def batch(digits, subsets):
    X, y = digits
    return train_batched(SMALL_MLP, X, y, subsets, seed=11, **FAST)


def rng_states():
    return torch.get_rng_state().clone(), np.random.get_state()[1].copy()


# ----------------------------------------------------------------------------- train_model


def test_train_model_fits_a_small_subset(digits):
    X, y = digits[0][:200], digits[1][:200]
    model = init_model(functools.partial(MLP, hidden=(64,)), seed=0)
    before = evaluate(model, X, y)
    trained = train_model(model, X, y, epochs=15, batch_size=50, lr=1e-2, seed=0)
    after = evaluate(trained, X, y)
    assert trained is model and not trained.training
    assert after.accuracy >= 0.95  # chance is 0.1
    assert after.loss < before.loss / 5


def test_train_model_is_deterministic_given_its_seeds(digits):
    X, y = digits

    def run(init_seed, seed, build=SMALL_MLP):
        return predict_logits(train_model(init_model(build, init_seed), X, y, seed=seed, **FAST), X)

    first = run(0, 0)
    np.testing.assert_array_equal(first, run(0, 0))
    assert np.abs(first - run(0, 1)).max() > 1e-3  # another batch order
    assert np.abs(first - run(1, 0)).max() > 1e-3  # other initial weights
    with_dropout = functools.partial(MLP, hidden=(32,), dropout=0.5)
    np.testing.assert_array_equal(run(0, 0, with_dropout), run(0, 0, with_dropout))  # seeded dropout masks


def test_training_leaves_global_random_state_alone(digits, subsets):
    X, y = digits
    torch.manual_seed(123)
    np.random.seed(123)
    torch_before, numpy_before = rng_states()
    model = init_model(functools.partial(MLP, hidden=(16,), dropout=0.5), seed=4)
    train_model(model, X, y, seed=5, **FAST)
    train_batched(functools.partial(MLP, hidden=(16,), dropout=0.5), X, y, subsets, seed=6, **FAST)
    torch_after, numpy_after = rng_states()
    assert torch.equal(torch_before, torch_after)
    np.testing.assert_array_equal(numpy_before, numpy_after)


def test_init_model_depends_on_its_seed_only():
    torch.manual_seed(0)
    a = init_model(SMALL_MLP, seed=3)
    torch.manual_seed(99)  # the global RNG must not matter
    b = init_model(SMALL_MLP, seed=3)
    c = init_model(SMALL_MLP, seed=4)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_init_model_rejects_a_builder_that_returns_no_module():
    with pytest.raises(ValueError, match=r"build_model must return a torch.nn.Module, got dict"):
        init_model(lambda: {"weights": 1}, seed=0)


# ----------------------------------------------------------------------------- train_batched == K single runs


def no_bias_sequential():
    return nn.Sequential(nn.Flatten(), nn.Linear(196, 16, bias=False), nn.ReLU(), nn.Linear(16, 10))


@pytest.mark.parametrize(
    "build, kwargs",
    [
        (SMALL_MLP, dict(epochs=4, batch_size=40)),  # 96 records: batches of 40, 40 and 16
        (SMALL_MLP, dict(epochs=3, batch_size=32, lr=1e-2, weight_decay=1e-3)),
        (functools.partial(MLP, hidden=(24, 16)), dict(epochs=3, batch_size=40)),
        (no_bias_sequential, dict(epochs=3, batch_size=40)),
        (SMALL_CNN, dict(epochs=2, batch_size=50)),
    ],
    ids=["mlp", "mlp-weight-decay", "mlp-2-hidden", "sequential-no-bias", "cnn"],
)
def test_batched_model_k_equals_training_it_alone(digits, subsets, build, kwargs):
    X, y = digits
    batch = train_batched(build, X, y, subsets, seed=5, **kwargs)
    assert batch.seeds == spawn_seeds(5, 3)
    logits = predict_logits(batch, X)
    for k, seed in enumerate(batch.seeds):
        alone = train_model(init_model(build, seed), X[subsets[k]], y[subsets[k]], seed=seed, **kwargs)
        assert np.abs(predict_logits(alone, X) - logits[k]).max() < 1e-3, k
    assert np.abs(logits[0] - logits[1]).max() > 0.1  # the K models really differ


def test_batched_training_with_dropout_is_seeded(digits, subsets):
    X, y = digits
    build = functools.partial(MLP, hidden=(32,), dropout=0.5)
    first = predict_logits(train_batched(build, X, y, subsets, seed=2, **FAST), X)
    np.testing.assert_array_equal(first, predict_logits(train_batched(build, X, y, subsets, seed=2, **FAST), X))
    assert np.abs(first - predict_logits(train_batched(build, X, y, subsets, seed=3, **FAST), X)).max() > 1e-3
    assert np.all(np.isfinite(first))


def test_batched_models_have_learned_their_own_subsets(digits, subsets):
    X, y = digits
    batch = train_batched(SMALL_MLP, X, y, subsets, seed=0, epochs=15, batch_size=32, lr=1e-2)
    losses = per_record_loss(predict_logits(batch, X), y)  # (K, n_records)
    mask = batch.in_mask
    for k in range(len(batch)):
        assert losses[k][mask[k]].mean() < losses[k][~mask[k]].mean() / 2  # members fit much better


# ----------------------------------------------------------------------------- ModelBatch


def test_model_batch_records_seeds_subsets_and_membership(batch, subsets):
    assert isinstance(batch, ModelBatch) and len(batch) == 3
    assert batch.seeds == spawn_seeds(11, 3) and batch.n_records == 300
    np.testing.assert_array_equal(batch.subsets, subsets)
    mask = batch.in_mask
    assert mask.shape == (3, 300) and mask.dtype == bool
    for k in range(3):
        expected = np.zeros(300, bool)
        expected[subsets[k]] = True
        np.testing.assert_array_equal(mask[k], expected)
    for name, p in batch.params.items():
        assert p.shape[0] == 3 and not p.requires_grad, name


def test_model_k_is_an_ordinary_module_with_the_batch_logits(batch, digits):
    X, _ = digits
    logits = predict_logits(batch, X)
    for k in (0, 2, -1):
        module = batch.model(k)
        assert isinstance(module, nn.Module) and not module.training
        assert next(module.parameters()).device.type == "cpu"
        np.testing.assert_allclose(predict_logits(module, X), logits[k], atol=1e-5)


def test_model_copies_do_not_share_weights_with_the_batch(batch, digits):
    X, _ = digits
    before = predict_logits(batch, X)
    module = batch.model(0)
    with torch.no_grad():
        for p in module.parameters():
            p.zero_()
    np.testing.assert_array_equal(predict_logits(batch, X), before)


@pytest.mark.parametrize("k", [3, -4, 100])
def test_model_index_out_of_range(batch, k):
    with pytest.raises(IndexError, match=rf"model index {k} out of range for a batch of 3 models"):
        batch.model(k)


# ----------------------------------------------------------------------------- predict_logits


# ----------------------------------------------------------------------------- per_record_loss, accuracy, evaluate


# ----------------------------------------------------------------------------- bad input to the trainers

SUBSET_CASES = [
    ("ragged", [[0, 1, 2], [3, 4]], r"subsets must be a 2-D array.*same number of records\. Subset sizes found: \[2"
        r", 3\]"),
    ("1-D", [0, 1, 2], r"subsets must be a 2-D array \(K models, n_train indices each\)"),
    ("empty", np.zeros((0, 5), int), r"at least one model and one record each, got shape \(0, 5\)"),
    ("float", [[0.0, 1.0]], r"subsets must hold integer record indices, got dtype float64"),
    ("too large", [[0, 300]], r"subsets hold indices from 0 to 300, but X has 300 records"),
    ("negative", [[-1, 5]], r"subsets hold indices from -1 to 5"),
    ("duplicate", [[0, 1], [4, 4]], r"each row of subsets must list distinct records"),
]


@pytest.mark.parametrize("case, bad, match", SUBSET_CASES, ids=[c[0] for c in SUBSET_CASES])
def test_train_batched_rejects_bad_subsets(digits, case, bad, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        train_batched(SMALL_MLP, X, y, bad, epochs=1)


def _with_nan(X):
    X = X.copy()
    X[7, 3] = np.nan
    return X


DATA_CASES = [
    ("label >= n_classes", lambda X, y: (X, np.where(np.arange(len(y)) == 0, 10, y)), r"class labels in \[0, 10\)"),
    ("negative label", lambda X, y: (X, np.where(np.arange(len(y)) == 0, -1, y)), r"found values from -1"),
    ("NaN in X", lambda X, y: (_with_nan(X), y), r"X contains NaN or infinite values in 1 records \(first at rows \["
        r"7\]\)"),
    ("lengths differ", lambda X, y: (X, y[:-1]), r"X has 300 records and y has 299"),
    ("flat X", lambda X, y: (X[:, 0], y), r"X must have shape \(n_records, n_features\)"),
]


@pytest.mark.parametrize("case, corrupt, match", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_trainers_and_evaluate_reject_bad_data(digits, subsets, case, corrupt, match):
    X, y = corrupt(*digits)
    with pytest.raises(ValueError, match=match):
        train_batched(SMALL_MLP, X, y, subsets, epochs=1)
    with pytest.raises(ValueError, match=match):
        train_model(SMALL_MLP(), X, y, epochs=1)
    with pytest.raises(ValueError, match=match):
        evaluate(SMALL_MLP(), X, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, r"epochs must be an integer >= 1, got 0"),
        ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
        ({"lr": 0}, r"lr must be > 0, got 0"),
        ({"lr": float("nan")}, r"lr must be a finite number"),
        ({"lr": True}, r"lr must be a finite number, got True"),
        ({"weight_decay": -0.1}, r"weight_decay must be >= 0.0, got -0\.1"),
        ({"seed": -1}, r"seed must be a non-negative integer below 2\*\*63, got -1"),
        ({"seed": None}, r"seed must be a non-negative integer, got None"),
        ({"epoch": 3}, r"unknown training option\(s\) \['epoch'\]"),
    ],
)
def test_trainers_reject_bad_hyperparameters(digits, subsets, kwargs, match):
    X, y = digits
    error = TypeError if "unknown" in match else ValueError
    with pytest.raises(error, match=match):
        train_model(SMALL_MLP(), X, y, **kwargs)
    with pytest.raises(error, match=match):
        train_batched(SMALL_MLP, X, y, subsets, **kwargs)


def test_a_recipe_object_and_keywords_train_the_same_model(digits):
    from utils.recipe import Recipe

    X, y = digits
    a = train_model(init_model(SMALL_MLP, 1), X[:200], y[:200], Recipe(epochs=2, batch_size=50), seed=3)
    b = train_model(init_model(SMALL_MLP, 1), X[:200], y[:200], epochs=2, batch_size=50, seed=3)
    c = train_model(init_model(SMALL_MLP, 1), X[:200], y[:200], Recipe(epochs=1), seed=3, epochs=2, batch_size=50)
    np.testing.assert_array_equal(predict_logits(a, X[:50]), predict_logits(b, X[:50]))
    np.testing.assert_array_equal(predict_logits(a, X[:50]), predict_logits(c, X[:50]))
    assert Recipe(lr=np.float32(1e-3)).lr == pytest.approx(1e-3)


def test_train_batched_rejects_batchnorm(digits, subsets):
    X, y = digits

    def with_batchnorm():
        return nn.Sequential(nn.Flatten(), nn.Linear(196, 8), nn.BatchNorm1d(8), nn.Linear(8, 10))

    with pytest.raises(ValueError, match=r"BatchNorm; use GroupNorm or no normalisation"):
        train_batched(with_batchnorm, X, y, subsets, epochs=1)


# --- clear errors instead of torch stack traces (added with the shared logits check) --------------


def test_trainers_report_a_model_that_does_not_fit_the_data():
    X = np.random.default_rng(0).random((20, 5)).astype(np.float32)
    y = np.arange(20) % 3
    with pytest.raises(ValueError, match=r"cannot take records of shape \(5,\).*in_features"):
        train_model(MLP(in_features=4), X, y, epochs=1)
    with pytest.raises(ValueError, match=r"cannot take records of shape \(5,\)"):
        train_batched(lambda: MLP(in_features=4), X, y, [[0, 1], [2, 3]], epochs=1)
    with pytest.raises(ValueError, match=r"outputs \(2,\) logits per record.*n_classes > 2"):
        train_model(torch.nn.Sequential(torch.nn.Linear(5, 2)), X, y, epochs=1)


# --- the optimiser: torch's fused Adam kernel, called directly ------------------------------------


def test_training_does_not_import_torch_dynamo():
    # torch.optim imports torch._dynamo on first use: 3-8 s in every fresh notebook kernel.
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from utils.models import MLP\n"
        "from utils.train import init_model, train_model, train_batched\n"
        "X = np.random.rand(40, 196).astype('float32'); y = np.arange(40) % 10\n"
        "train_model(init_model(MLP, 0), X, y, epochs=1)\n"
        "train_batched(MLP, X, y, [[0, 1, 2], [3, 4, 5]], epochs=1)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "False", out.stderr


# ----------------------------------------------------------------------------- issue 8: odd input, clear errors
def test_device_meta_is_refused_and_the_weights_survive():
    model = MLP(in_features=4, hidden=(8,), n_classes=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X, y = np.random.default_rng(0).random((6, 4), dtype=np.float32), np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match="device='meta' holds shapes but no numbers"):
        train_model(model, X, y, epochs=1, device="meta")  # used to replace the weights by empty meta tensors
    assert all(v.device.type == "cpu" and torch.equal(v, before[k]) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="device='meta'"):
        train_batched(functools.partial(MLP, in_features=4, hidden=(8,), n_classes=3), X, y, [[0, 1, 2]], device="meta")
    with pytest.raises(ValueError, match="device must be a torch device"):
        train_model(model, X, y, epochs=1, device="gpu please")


def test_a_model_where_a_builder_belongs_and_the_other_way_round():
    X, y = np.random.default_rng(0).random((6, 4), dtype=np.float32), np.array([0, 1, 2, 0, 1, 2])
    built = MLP(in_features=4, hidden=(8,), n_classes=3)
    with pytest.raises(ValueError, match="got an already built MLP; pass the class or a function"):
        train_batched(built, X, y, [[0, 1, 2]])
    with pytest.raises(ValueError, match="got an already built MLP"):
        init_model(built, 0)
    with pytest.raises(ValueError, match="model must be a built torch.nn.Module .* got the class MLP"):
        train_model(MLP, X, y)


@pytest.mark.parametrize("seed", [-1, None, 1.5, True])
def test_odd_seeds_are_named(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        init_model(MLP, seed)


def test_a_batch_remembers_the_records_that_trained_it():
    rng = np.random.default_rng(0)
    X, y = rng.random((6, 4), dtype=np.float32), np.array([0, 1, 2, 0, 1, 2])
    batch = train_batched(functools.partial(MLP, in_features=4, hidden=(8,), n_classes=3), X, y, [[0, 1, 2]], epochs=1)
    assert batch.trained_on(X.astype(np.float64), list(y)) and not batch.trained_on(X[::-1], y[::-1])
    with pytest.raises(ValueError, match="trained on other records"):
        batch.check_trained_on(X + 1, y)
