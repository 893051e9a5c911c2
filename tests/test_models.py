"""Tests for utils.models: output shapes, no BatchNorm, the dropout switch, bad arguments."""

import pytest
import torch
from torch import nn

from utils.models import CNN, MLP, count_parameters


def has_batchnorm(model):
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("shape", [(5, 196), (5, 14, 14), (5, 1, 14, 14)])
def test_default_mlp_maps_flat_or_image_input_to_ten_logits(shape):
    torch.manual_seed(0)
    assert MLP()(torch.rand(shape)).shape == (5, 10)


def test_mlp_layers_follow_hidden_widths():
    model = MLP(in_features=49, hidden=(32, 16), n_classes=3)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(49, 32), (32, 16), (16, 3)]
    assert model(torch.rand(2, 49)).shape == (2, 3)
    assert (model.in_features, model.n_classes) == (49, 3)


def test_mlp_without_hidden_layers_is_logistic_regression():
    model = MLP(in_features=4, hidden=(), n_classes=2)
    assert [type(m) for m in model.net] == [nn.Flatten, nn.Linear]


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({}, (3, 196)),
        ({}, (3, 1, 14, 14)),
        ({}, (3, 14, 14)),
        ({"side": 28}, (3, 784)),
        ({"side": 7, "n_classes": 2}, (3, 1, 7, 7)),
        ({"side": 32, "channels": 3}, (3, 3, 32, 32)),
        ({"side": 32, "channels": 3}, (3, 3 * 32 * 32)),
    ],
)
def test_cnn_output_shapes_for_flat_and_image_input(kwargs, shape):
    torch.manual_seed(0)
    model = CNN(**kwargs)
    assert model(torch.rand(shape)).shape == (3, kwargs.get("n_classes", 10))
    assert model.in_features == model.channels * model.side**2


def test_cnn_gives_the_same_logits_for_flat_and_image_input():
    torch.manual_seed(0)
    model = CNN().eval()
    images = torch.rand(4, 1, 14, 14)
    torch.testing.assert_close(model(images), model(images.reshape(4, -1)))


def test_count_parameters_of_the_default_mlp_by_hand():
    assert count_parameters(MLP()) == 196 * 128 + 128 + 128 * 10 + 10


def test_count_parameters_of_a_small_cnn_by_hand():
    conv1 = 1 * 4 * 9 + 4
    conv2 = 4 * 8 * 9 + 8
    head = 8 * 3 * 3 * 10 + 10  # 14 -> 7 -> 3 pixels after two poolings
    assert count_parameters(CNN(side=14, width=4)) == conv1 + conv2 + head


def test_count_parameters_skips_frozen_weights():
    model = MLP(in_features=4, hidden=(3,), n_classes=2)
    model.net[1].weight.requires_grad_(False)
    assert count_parameters(model) == 3 + 3 * 2 + 2


# ----------------------------------------------------------------------------- BatchNorm and dropout


@pytest.mark.parametrize("model", [MLP(), MLP(dropout=0.5), CNN(), CNN(dropout=0.5), CNN(side=32, channels=3)])
def test_models_contain_no_batchnorm(model):
    assert not has_batchnorm(model)


def test_dropout_off_by_default():
    for model in (MLP(), CNN()):
        assert not any(isinstance(m, nn.Dropout) for m in model.modules())


@pytest.mark.parametrize("build", [lambda: MLP(hidden=(64, 32), dropout=0.3), lambda: CNN(dropout=0.3)])
def test_dropout_flag_adds_dropout_that_acts_only_in_training(build):
    torch.manual_seed(0)
    model = build()
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert dropouts and all(m.p == pytest.approx(0.3) for m in dropouts)
    x = torch.rand(8, 196)
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    assert torch.equal(model(x), model(x))


def test_mlp_has_one_dropout_per_hidden_layer():
    model = MLP(hidden=(16, 16, 16), dropout=0.1)
    assert sum(isinstance(m, nn.Dropout) for m in model.modules()) == 3


# ----------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dropout": 1.0}, r"dropout must be a probability in \[0, 1\), got 1\.0\. Use 0 to switch dropout off"),
        ({"dropout": -0.1}, r"dropout must be a probability in \[0, 1\), got -0\.1"),
        ({"dropout": "0.5"}, r"dropout must be a probability"),
        ({"in_features": 0}, r"in_features must be an integer >= 1, got 0"),
        ({"n_classes": 1}, r"n_classes must be an integer >= 2, got 1"),
        ({"hidden": (64, 0)}, r"hidden layer width must be an integer >= 1, got 0"),
        ({"hidden": (2.5,)}, r"hidden layer width must be an integer >= 1, got 2\.5"),
        ({"hidden": 128}, r"hidden must be a tuple of layer widths, got the int 128\. For one layer write \(128,\)"),
    ],
)
def test_mlp_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLP(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"side": 3}, r"side must be an integer >= 4, got 3"),
        ({"channels": 0}, r"channels must be an integer >= 1, got 0"),
        ({"width": 0}, r"width must be an integer >= 1, got 0"),
        ({"n_classes": 1}, r"n_classes must be an integer >= 2, got 1"),
        ({"dropout": 1.5}, r"dropout must be a probability in \[0, 1\), got 1\.5"),
        ({"dropout": -0.5}, r"dropout must be a probability in \[0, 1\), got -0\.5"),
    ],
)
def test_cnn_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CNN(**kwargs)
