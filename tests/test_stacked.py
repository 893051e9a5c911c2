"""utils.stacked: the fast path of train_batched (gradients against autograd, layouts, what it declines)."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from utils.inference import predict_logits
from utils.models import CNN, MLP
from utils.seed import spawn_seeds
from utils.stacked import StackedMLP
from utils.train import init_model, train_batched, train_model

# ---------------------------------------------------------------- the fast path of train_batched


def _stacked(build, n_models=3):
    models = [init_model(build, s) for s in range(n_models)]
    params, _ = stack_module_state(models)
    params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    return params, models[0].to("meta")


@pytest.mark.parametrize(
    "build",
    [
        MLP,
        lambda: MLP(hidden=(32, 16)),
        lambda: nn.Sequential(
            nn.Flatten(), nn.Linear(196, 20, bias=False), nn.ReLU(), nn.Identity(), nn.Linear(20, 10)
        ),
        lambda: nn.Sequential(nn.Flatten(), nn.Linear(196, 10)),
        lambda: nn.Sequential(nn.Identity(), nn.Linear(196, 20), nn.ReLU(), nn.Linear(20, 10), nn.ReLU()),
        lambda: _shared_relu(),
    ],
    ids=["MLP", "MLP-2-hidden", "Sequential-no-bias", "logistic-regression", "Sequential-final-relu", "shared-ReLU"],
)
def test_fast_path_gradients_equal_autograd(build):
    params, base = _stacked(build)
    rng = torch.Generator().manual_seed(0)
    x, y = torch.rand(3, 7, 196, generator=rng), torch.randint(0, 10, (3, 7), generator=rng)

    def loss_one(p, xb, yb):
        return nn.functional.cross_entropy(functional_call(base, p, (xb,)), yb)

    expected = torch.autograd.grad(vmap(loss_one)(params, x, y).sum(), list(params.values()))
    fast = StackedMLP.from_module(base, params, flat_records=True)
    assert fast is not None
    grads = _fast_gradients(fast, x, y)
    assert list(grads) == list(params)
    for name, g in zip(params, expected):
        torch.testing.assert_close(grads[name], g, rtol=1e-4, atol=1e-6, msg=f"gradient of {name}")


def _shared_relu():
    act = nn.ReLU()  # one module used twice: Sequential applies it twice
    return nn.Sequential(nn.Linear(196, 32), act, nn.Linear(32, 32), act, nn.Linear(32, 10))


def _tied_linear():
    tied = nn.Linear(32, 32)  # one weight matrix used twice
    return nn.Sequential(nn.Linear(196, 32), nn.ReLU(), tied, nn.ReLU(), tied, nn.Linear(32, 10))


def _fast_gradients(fast, x, y):
    """The fast path's gradients, in module layout, for batches x (K, batch, 196) and labels y (K, batch)."""
    n_models, n_batch = y.shape
    fast.set_gradients(
        fast.rows(x.reshape(n_models * n_batch, -1)).view(n_models, n_batch, -1), fast.targets(y, x.dtype)
    )
    return fast.export(grad=True)


def test_fast_path_exports_its_weights_in_module_layout():
    params, base = _stacked(MLP)
    exported = StackedMLP.from_module(base, params, flat_records=True).export()
    assert list(exported) == list(params)
    for name, p in params.items():
        torch.testing.assert_close(exported[name], p.detach(), rtol=0, atol=0, msg=name)


@pytest.mark.parametrize(
    "build",
    [
        CNN,
        lambda: nn.Sequential(nn.Flatten(), nn.Linear(196, 20), nn.Tanh(), nn.Linear(20, 10)),
        lambda: nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(196, 10)),
        _tied_linear,
    ],
    ids=["CNN", "Sequential-tanh", "Sequential-input-dropout", "tied-Linear"],
)
def test_fast_path_declines_other_architectures(build):
    params, base = _stacked(build, n_models=2)
    assert StackedMLP.from_module(base, params, flat_records=True) is None


def test_fast_path_needs_flat_records_or_a_flatten_before_the_first_linear():
    rowwise = lambda: nn.Sequential(nn.Linear(14, 4), nn.ReLU(), nn.Flatten(), nn.Linear(56, 10))  # noqa: E731
    params, base = _stacked(rowwise, n_models=2)
    assert StackedMLP.from_module(base, params, flat_records=False) is None
    params, base = _stacked(lambda: nn.Sequential(nn.Flatten(), nn.Linear(196, 10)), n_models=2)
    assert StackedMLP.from_module(base, params, flat_records=False) is not None


def test_fast_path_declines_frozen_weights():
    params, base = _stacked(MLP, n_models=2)
    params["net.1.weight"].requires_grad_(False)
    assert StackedMLP.from_module(base, params, flat_records=True) is None


def test_fast_path_export_of_gradients_needs_a_step_first():
    params, base = _stacked(MLP, n_models=2)
    with pytest.raises(RuntimeError, match="call set_gradients first"):
        StackedMLP.from_module(base, params, flat_records=True).export(grad=True)


def test_fast_path_dropout_gradients_equal_autograd_with_the_same_masks():
    params, base = _stacked(lambda: MLP(hidden=(32,), dropout=0.25))
    rng = torch.Generator().manual_seed(0)
    x, y = torch.rand(3, 7, 196, generator=rng), torch.randint(0, 10, (3, 7), generator=rng)
    w1, b1, w2, b2 = (params[k] for k in ("net.1.weight", "net.1.bias", "net.4.weight", "net.4.bias"))
    torch.manual_seed(3)  # the fast path draws one uniform per hidden unit and record, as below
    hidden = torch.relu(torch.baddbmm(b1.unsqueeze(1), x, w1.transpose(1, 2)))
    hidden = hidden * (torch.rand_like(hidden) >= 0.25) / 0.75
    logits = torch.baddbmm(b2.unsqueeze(1), hidden, w2.transpose(1, 2))
    loss = sum(nn.functional.cross_entropy(logits[k], y[k]) for k in range(3))
    expected = torch.autograd.grad(loss, [w1, b1, w2, b2])
    torch.manual_seed(3)
    grads = _fast_gradients(StackedMLP.from_module(base, params, flat_records=True), x, y)
    for name, g in zip(("net.1.weight", "net.1.bias", "net.4.weight", "net.4.bias"), expected):
        torch.testing.assert_close(grads[name], g, rtol=1e-4, atol=1e-6, msg=name)


def test_fast_path_declines_an_mlp_with_its_own_forward():
    class Doubled(MLP):
        def forward(self, x):
            return 2 * super().forward(x)

    params, base = _stacked(Doubled, n_models=2)
    assert StackedMLP.from_module(base, params, flat_records=True) is None


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    X = rng.random((300, 196), dtype=np.float32)
    y = (X[:, :10].argmax(axis=1)).astype(np.int64)  # a learnable rule
    subsets = np.stack([rng.choice(300, 100, replace=False) for _ in range(3)])
    return X, y, subsets


@pytest.mark.parametrize("build", [MLP, lambda: CNN(width=4)], ids=["MLP-fast-path", "CNN-vmap-path"])
def test_each_batched_model_equals_training_it_alone(build, tiny_data):
    X, y, subsets = tiny_data
    batch = train_batched(build, X, y, subsets, epochs=3, batch_size=32, seed=5, device="cpu")
    logits = predict_logits(batch, X)
    for k, s in enumerate(spawn_seeds(5, len(subsets))):
        alone = train_model(
            init_model(build, s), X[subsets[k]], y[subsets[k]], epochs=3, batch_size=32, seed=s, device="cpu"
        )
        np.testing.assert_allclose(logits[k], predict_logits(alone, X), atol=1e-4, rtol=1e-4)


def _frozen_first_weight():
    model = MLP()
    model.net[1].weight.requires_grad_(False)
    return model


@pytest.mark.parametrize(
    "build, record_shape",
    [
        (_shared_relu, (196,)),
        (lambda: nn.Sequential(nn.Linear(14, 4), nn.ReLU(), nn.Flatten(), nn.Linear(56, 10)), (14, 14)),
        (_frozen_first_weight, (196,)),
    ],
    ids=["shared-ReLU", "row-wise-first-Linear", "frozen-weight"],
)
def test_unusual_models_train_in_a_batch_as_they_do_alone(build, record_shape, tiny_data):
    X, y, subsets = tiny_data
    X = X.reshape(len(X), *record_shape)
    batch = train_batched(build, X, y, subsets, epochs=2, batch_size=32, seed=5, device="cpu")
    logits = predict_logits(batch, X)
    for k, s in enumerate(spawn_seeds(5, len(subsets))):
        model = init_model(build, s)
        start = {name: p.detach().clone() for name, p in model.named_parameters() if not p.requires_grad}
        alone = train_model(model, X[subsets[k]], y[subsets[k]], epochs=2, batch_size=32, seed=s, device="cpu")
        np.testing.assert_allclose(logits[k], predict_logits(alone, X), atol=1e-4, rtol=1e-4)
        for name, value in start.items():  # frozen stays frozen, in both trainers
            torch.testing.assert_close(batch.params[name][k], value, rtol=0, atol=0)


def test_fast_path_with_dropout_is_seeded_and_uses_the_masks(tiny_data):
    X, y, subsets = tiny_data
    build = lambda: MLP(dropout=0.5)
    a = predict_logits(train_batched(build, X, y, subsets, epochs=2, batch_size=32, seed=1, device="cpu"), X)
    b = predict_logits(train_batched(build, X, y, subsets, epochs=2, batch_size=32, seed=1, device="cpu"), X)
    plain = predict_logits(train_batched(MLP, X, y, subsets, epochs=2, batch_size=32, seed=1, device="cpu"), X)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - plain).max() > 1e-3  # same initial weights and batches: only dropout differs
