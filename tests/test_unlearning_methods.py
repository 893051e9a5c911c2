"""utils.unlearning: requests, the methods' call shape, gradient ascent's effect, SISA's exactness."""

import numpy as np
import pytest
import torch

from utils.capstone import weights_fingerprint
from utils.data import load_digits
from utils.inference import per_record_loss, predict_logits
from utils.models import MLP
from utils.recipe import Recipe
from utils.train import train_batched
from utils.unlearning import (
    METHODS,
    ShardedModels,
    as_batch,
    audit_design,
    forget_rows,
    get_method,
    make_request,
    sisa_logits,
    train_sisa,
    unlearn_sisa,
    unlearning_path,
)
from utils.unlearning.sisa import _train_shard

RECIPE = Recipe(epochs=8, batch_size=64)


@pytest.fixture(scope="module")
def setup():
    digits = load_digits()
    X, y = digits.X[:400], digits.y[:400]
    trained, forget, pool = audit_design(400, 4, pool_size=100, n_forget=20, seed=0)
    request = make_request(X, y, trained, forget, build_model=MLP, recipe=RECIPE)
    original = train_batched(MLP, X, y, trained, RECIPE, seed=1)
    return request, original


def _forget_loss(models, request):
    logits = predict_logits(models, request.X)
    losses = per_record_loss(logits, request.y)
    return float(np.mean([losses[k, request.forget[k]].mean() for k in range(request.n_models)]))


def test_every_method_has_one_call_shape_and_returns_models(setup):
    request, original = setup
    assert set(METHODS) == {"retrain", "sisa", "finetune", "gradient-ascent", "ascent-descent"}
    for name in ("retrain", "finetune", "gradient-ascent", "ascent-descent"):
        models = get_method(name)(original, request, steps=3, seed=0)
        assert len(models) == request.n_models and predict_logits(models, request.X[:5]).shape == (4, 5, 10)
    with pytest.raises(KeyError, match="known methods"):
        get_method("amnesia")


def test_gradient_ascent_raises_the_forget_loss_and_finetuning_lowers_the_retained_loss(setup):
    request, original = setup
    before = _forget_loss(original, request)
    path = unlearning_path("gradient-ascent", original, request, [0, 5, 20])
    assert _forget_loss(path[0], request) == pytest.approx(before)  # 0 steps: the original models
    assert before < _forget_loss(path[5], request) < _forget_loss(path[20], request)
    # the original is left unchanged
    for name, p in original.params.items():
        assert not torch.equal(p, path[20].params[name])
    assert _forget_loss(original, request) == pytest.approx(before)
    # a path equals separate calls (same batches in the same order)
    alone = get_method("gradient-ascent")(original, request, steps=5, seed=0)
    for name in alone.params:
        torch.testing.assert_close(alone.params[name], path[5].params[name])


def test_retraining_never_sees_the_forget_set(setup):
    request, original = setup
    retrained = get_method("retrain")(original, request, seed=3)
    assert retrained.subsets.shape == request.retain.shape
    for row, forget in zip(retrained.subsets, request.forget):
        assert not np.isin(forget, row).any()


def test_sisa_unlearning_equals_retraining_the_shard_with_the_same_seed(setup):
    request, _ = setup
    one = make_request(request.X, request.y, request.trained[:1], request.forget[:1][:, :2], build_model=MLP,
                       recipe=RECIPE)
    sisa = train_sisa(one, n_shards=4, seed=0)
    unlearned = unlearn_sisa(sisa, one)
    hit = [s for s in range(4) if np.isin(one.forget[0], sisa.records[0][s]).any()]
    assert 1 <= len(hit) <= 2 and unlearned.retrained[0].tolist() == [s in hit for s in range(4)]
    for s in range(4):
        model = unlearned.shards[0][s].model(0)
        if s in hit:
            rows = sisa.records[0][s][~np.isin(sisa.records[0][s], one.forget[0])]
            again = _train_shard(one, rows, sisa.seeds[0, s]).model(0)
            assert weights_fingerprint(model) == weights_fingerprint(again)  # bit for bit
            assert weights_fingerprint(model) != weights_fingerprint(sisa.shards[0][s].model(0))
        else:
            assert unlearned.shards[0][s] is sisa.shards[0][s]  # untouched
    # and the whole ensemble is SISA trained from scratch without the forget set
    scratch = train_sisa(one, n_shards=4, seed=0, rows=one.retain)
    np.testing.assert_array_equal(sisa_logits(unlearned, one.X), sisa_logits(scratch, one.X))
    assert not np.isin(one.forget[0], np.concatenate(unlearned.records[0])).any()


def test_sisa_refuses_an_ordinary_model(setup):
    request, original = setup
    with pytest.raises(ValueError, match="SISA must be chosen before training"):
        get_method("sisa")(original, request)
    assert isinstance(train_sisa(make_request(request.X, request.y, request.trained[:1], request.forget[:1],
                                              build_model=MLP, recipe=RECIPE.replace(epochs=1)), n_shards=2),
                      ShardedModels)


def test_as_batch_wraps_one_released_model(setup):
    request, original = setup
    model = original.model(0)
    batch = as_batch(model)
    np.testing.assert_allclose(predict_logits(batch, request.X[:7])[0], predict_logits(model, request.X[:7]),
                               rtol=1e-5, atol=1e-5)  # float32 sums in another order


def test_requests_are_validated_with_clear_messages(setup):
    request, _ = setup
    X, y, trained = request.X, request.y, request.trained
    outsider = np.setdiff1d(np.arange(400), trained[0])[:3]
    with pytest.raises(ValueError, match="never trained on"):
        make_request(X, y, trained[:1], outsider[None], build_model=MLP, recipe=RECIPE)
    with pytest.raises(ValueError, match="nothing to retain"):
        make_request(X, y, trained[:1], trained[:1], build_model=MLP, recipe=RECIPE)
    with pytest.raises(ValueError, match="one per model"):
        make_request(X, y, trained[:2], trained[:1, :3], build_model=MLP, recipe=RECIPE)


def test_audit_design_and_forget_rows():
    trained, forget, pool = audit_design(1000, 8, pool_size=200, n_forget=40, seed=0)
    counts = np.zeros(1000, int)
    np.add.at(counts, trained.ravel(), 1)
    assert (counts == 4).all()  # every record trains exactly half of the models
    assert np.isin(forget, pool).all() and all(np.isin(f, t).all() for f, t in zip(forget, trained))
    members = np.arange(10, 30)
    exposure = np.arange(20.0)
    assert forget_rows(members, 3, exposure=exposure).tolist() == [27, 28, 29]
    assert len(set(forget_rows(members, 5, seed=1))) == 5
    with pytest.raises(ValueError, match="smaller than the 20 members"):
        forget_rows(members, 20)


def test_the_fast_mlp_path_and_the_generic_vmap_path_take_the_same_steps(setup, monkeypatch):
    request, original = setup
    fast = unlearning_path("ascent-descent", original, request, [4])[4]
    from utils.unlearning import steps

    monkeypatch.setattr(steps.StackedMLP, "from_module", classmethod(lambda cls, *a, **k: None))
    generic = unlearning_path("ascent-descent", original, request, [4])[4]
    for name in fast.params:
        # Adam divides by the gradient's size, so on the input weights of always-blank pixels (gradients ~1e-12)
        # float rounding moves a few weights by a fraction of one step (lr = 1e-3; 3.7e-4 on 2 of 100,352, 0.12%
        # of them by over 1e-4). A wrong sign, batch or order would move every learning weight by whole steps.
        gap = (fast.params[name] - generic.params[name]).abs()
        assert gap.max() < 1e-3, f"{name}: a weight differs by {gap.max():.2e}, a whole Adam step"
        assert (gap > 1e-4).float().mean() < 1e-2, f"{name}: {(gap > 1e-4).float().mean():.2%} of weights differ"
        moved = (fast.params[name] - original.params[name]).abs().max()
        assert moved > 3e-3


def test_the_shadow_experiment_returns_arrays_only_and_reads_back_by_budget():
    from utils.unlearning import path_at, path_budgets, run_shadow_experiment

    digits = load_digits()
    X, y = digits.X[:400], digits.y[:400]
    out = run_shadow_experiment(X, y, build_model=MLP, recipe=RECIPE.replace(epochs=3), n_shadows=4, pool_size=100,
                                n_forget=20, budgets={"gradient-ascent": (0, 3)}, seed=0)

    def leaves(value):
        if isinstance(value, dict):
            assert all(isinstance(k, str) for k in value), list(value)  # keys a safe (JSON-like) cache keeps
            for v in value.values():
                yield from leaves(v)
        else:
            yield value

    assert all(isinstance(v, (np.ndarray, float)) for v in leaves(out))
    assert path_budgets(out, "gradient-ascent") == [0, 3]
    np.testing.assert_array_equal(path_at(out, "gradient-ascent", 0)["log_odds"], out["original"]["log_odds"])
    with pytest.raises(ValueError, match="no observations at 7 steps"):
        path_at(out, "gradient-ascent", 7)


def test_bad_input_is_named_with_the_fix(setup):
    from utils.unlearning.release import unlearn_release
    from utils.unlearning.steps import continue_training

    request, original = setup
    with pytest.raises(ValueError, match="needs records to descend on, to ascend on, or both"):
        next(continue_training(original, request.X, request.y, budgets=[1], lr=1e-3))
    with pytest.raises(ValueError, match="distinct and increasing"):
        next(continue_training(original, request.X, request.y, ascend=request.forget, budgets=[5, 2], lr=1e-3))
    with pytest.raises(ValueError, match="the exact methods retrain and have no budget"):
        unlearning_path("retrain", original, request, [1])
    with pytest.raises(ValueError, match="as_batch"):
        get_method("finetune")(original.model(0), request, steps=1)
    with pytest.raises(ValueError, match="must be even"):
        audit_design(401, 4, pool_size=100, n_forget=20)
    with pytest.raises(ValueError, match="n_forget <= pool_size / 2"):
        audit_design(400, 4, pool_size=100, n_forget=60)
    with pytest.raises(ValueError, match="missing \\['ascent-descent'\\]"):
        unlearn_release(None, [0], steps={"finetune": 1, "gradient-ascent": 1})
