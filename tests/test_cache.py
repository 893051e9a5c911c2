"""The experiment cache (utils/cache.py): what the key covers, stale and damaged entries, the random state."""

import dataclasses
import json
import random

import numpy as np
import pytest
import torch

from utils import cache

CALLS = []


@dataclasses.dataclass(frozen=True)
class Split:
    members: np.ndarray
    nonmembers: np.ndarray


def slow_square(x, *, scale=1.0, seed=0):
    """A stand-in for an experiment: counts its calls and draws from the global generators."""
    CALLS.append((x, scale, seed))
    np.random.rand(3)
    random.random()
    torch.rand(2)
    return {"value": np.asarray(x, dtype=float) ** 2 * scale, "seed": seed}


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_CACHE", raising=False)
    CALLS.clear()
    return tmp_path / "cache"


def test_second_call_is_loaded_not_computed(private_cache):
    first = cache.cached(slow_square, np.arange(4), scale=2.0)
    second = cache.cached(slow_square, np.arange(4), scale=2.0)
    assert len(CALLS) == 1
    np.testing.assert_array_equal(first["value"], [0, 2, 8, 18])
    np.testing.assert_array_equal(second["value"], first["value"])
    (entry,) = cache.entries()
    assert entry.function == "tests.test_cache.slow_square" or entry.function.endswith("test_cache.slow_square")
    assert entry.path.parent.parent == private_cache and entry.path.exists()
    assert entry.meta["arguments"]["scale"] == "2.0" and entry.compute_s >= 0
    assert entry.meta["course_fast"] == "1"


@pytest.mark.parametrize("other", [
    {"x": np.arange(4), "scale": 3.0},                       # another keyword value
    {"x": np.array([0, 1, 2, 5]), "scale": 2.0},              # one array element
    {"x": np.arange(4, dtype=np.int32), "scale": 2.0},       # the dtype
    {"x": np.arange(4).reshape(2, 2), "scale": 2.0},         # the shape
    {"x": np.arange(4), "scale": 2},                         # 2 (int) is not 2.0 (float)
    {"x": np.arange(4), "scale": 2.0, "seed": 1},            # the seed
])
def test_any_changed_argument_recomputes(other):
    cache.cached(slow_square, np.arange(4), scale=2.0)
    x = other.pop("x")
    cache.cached(slow_square, x, **other)
    assert len(CALLS) == 2


def test_keys_know_values_not_identities():
    split_a = Split(members=np.arange(5), nonmembers=np.arange(5, 10))
    split_b = Split(members=np.arange(5), nonmembers=np.arange(5, 10))
    split_c = Split(members=np.arange(5), nonmembers=np.arange(5, 11))
    key = cache.cache_key
    assert key(slow_square, (split_a,)) == key(slow_square, (split_b,)) != key(slow_square, (split_c,))
    assert key(slow_square, (1,)) != key(slow_square, (1.0,)) != key(slow_square, (True,))
    assert key(slow_square, ([1, 2],)) != key(slow_square, ((1, 2),))
    assert key(slow_square, (), {"a": 1, "b": 2}) == key(slow_square, (), {"b": 2, "a": 1})
    assert key(slow_square, (), {"a": 1}) != key(slow_square, (1,))
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    same = torch.nn.Linear(3, 2)
    same.load_state_dict(model.state_dict())
    assert key(slow_square, (model,)) == key(slow_square, (same,))
    with torch.no_grad():
        same.bias[0] += 1e-6
    assert key(slow_square, (model,)) != key(slow_square, (same,))
    assert key(slow_square, (np.float32(0.5),)) != key(slow_square, (np.float64(0.5),))
    assert key(len, (torch.nn.Linear,)) != key(len, (torch.nn.Conv1d,))


def test_course_fast_is_part_of_the_key(monkeypatch):
    cache.cached(slow_square, 3)
    monkeypatch.setenv("COURSE_FAST", "0")
    cache.cached(slow_square, 3)
    assert len(CALLS) == 2
    assert len(cache.entries()) == 2


def test_an_entry_written_by_other_code_is_stale_and_rebuilt(monkeypatch):
    cache.cached(slow_square, 3)
    (entry,) = cache.entries()
    monkeypatch.setattr(cache, "code_digest", lambda fn: "0" * 64)  # the library changed since
    cache.cached(slow_square, 3)
    assert len(CALLS) == 2
    (rebuilt,) = cache.entries()  # overwritten in place, not left beside the new one
    assert rebuilt.path == entry.path and rebuilt.meta["code_digest"] == "0" * 64
    cache.cached(slow_square, 3)
    assert len(CALLS) == 2  # the rebuilt entry is used


def test_code_digest_follows_the_library_and_the_function(tmp_path, monkeypatch):
    library = tmp_path / "lib"
    library.mkdir()
    (library / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(cache, "LIBRARY", library)
    before = cache.code_digest(slow_square)
    assert cache.code_digest(slow_square) == before
    (library / "a.py").write_text("x = 2\n")
    assert cache.code_digest(slow_square) != before
    assert cache.code_digest(slow_square) != cache.code_digest(test_code_digest_follows_the_library_and_the_function)


def test_a_damaged_entry_is_recomputed():
    cache.cached(slow_square, 3)
    (entry,) = cache.entries()
    entry.path.write_bytes(entry.path.read_bytes()[:-5] + b"xxxxx")
    assert cache.cached(slow_square, 3)["value"] == 9
    assert len(CALLS) == 2


def test_a_hit_leaves_the_random_generators_where_a_miss_would():
    draws = []
    for _ in range(2):  # miss, then hit
        np.random.seed(7)
        random.seed(7)
        torch.manual_seed(7)
        cache.cached(slow_square, 3)
        draws.append((np.random.rand(), random.random(), torch.rand(1).item()))
    assert len(CALLS) == 1
    assert draws[0] == draws[1]


def test_cache_off_computes_every_time_and_writes_nothing(monkeypatch, private_cache):
    monkeypatch.setenv("COURSE_CACHE", "off")
    cache.cached(slow_square, 3)
    cache.cached(slow_square, 3)
    assert len(CALLS) == 2 and not private_cache.exists()


def test_the_description_is_readable_json(private_cache):
    cache.cached(slow_square, np.zeros(2), seed=4)
    (meta_file,) = private_cache.glob("*/*.json")
    meta = json.loads(meta_file.read_text())
    assert set(meta) >= {"function", "key", "code_digest", "arguments", "compute_s", "written", "sha256"}
    assert meta["arguments"]["seed"] == "4" and meta_file.stem == meta["key"][:32]


def test_unkeyable_arguments_are_named():
    with pytest.raises(TypeError, match=r"argument rng= of .*slow_square is a numpy.random._generator.Generator"):
        cache.cached(slow_square, 1, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"argument 1 of .*slow_square\[1\] is a builtins.object"):
        cache.cached(slow_square, [1, object()])
    with pytest.raises(TypeError, match="array of Python objects"):
        cache.cached(slow_square, np.array([1, "a"], dtype=object))
    with pytest.raises(TypeError, match=r"not cached\(train_and_measure\(X, y, \.\.\.\)\)"):
        cache.cached(slow_square(2))
    assert len(CALLS) == 1  # only the call written by mistake ran


# ----------------------------------------------------------------------------- issue 18: entries cannot run code
def replace_entry(entry, payload: bytes) -> None:
    """Write `payload` as the entry, with a checksum that matches (anyone can compute it: no secret)."""
    import hashlib

    entry.path.write_bytes(payload)
    meta_path = entry.path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = hashlib.sha256(payload).hexdigest()
    meta_path.write_text(json.dumps(meta))


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_tampered_entry_with_a_matching_checksum_runs_nothing(tmp_path):
    import io

    cache.cached(slow_square, 3)
    (entry,) = cache.entries()
    marker = tmp_path / "pwned"
    for payload in ({"format": 2, "skeleton": "1", "tensors": {"a": RunsCode(marker)}},
                    {"value": RunsCode(marker), "rng": None}):
        buffer = io.BytesIO()
        torch.save(payload, buffer)  # a pickle inside: loaded with weights_only=True it is refused
        replace_entry(entry, buffer.getvalue())
        assert cache.cached(slow_square, 3)["value"] == 9
        assert not marker.exists()
        replace_entry(entry, __import__("pickle").dumps(RunsCode(marker)))  # a bare pickle, as entries were
        assert cache.cached(slow_square, 3)["value"] == 9
        assert not marker.exists()
    assert len(CALLS) == 5  # every tampered entry was recomputed


def _damaged(kind):
    from utils import cache_format

    good = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if kind == "truncated":
        return None
    if kind == "list instead of dict":
        return cache_format.dumps([{"value": 9}, good])
    if kind == "value of the wrong shape":
        return cache_format.dumps({"value": 9, "rng": good, "extra": 1})
    if kind == "bad python rng":
        return cache_format.dumps({"value": 9, "rng": {**good, "python": (3, (1, 2), None)}})
    if kind == "bad numpy rng":
        bad = ("MT19937", np.zeros(3, np.uint32), 0, 0, 0.0)
        return cache_format.dumps({"value": 9, "rng": {**good, "numpy": bad}})
    if kind == "bad torch rng":
        return cache_format.dumps({"value": 9, "rng": {**good, "torch": torch.zeros(3, dtype=torch.uint8)}})
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["truncated", "list instead of dict", "value of the wrong shape", "bad python rng",
                                  "bad numpy rng", "bad torch rng"])
def test_any_damaged_entry_is_recomputed_never_a_raw_error(kind):
    cache.cached(slow_square, 3)
    (entry,) = cache.entries()
    payload = _damaged(kind)
    replace_entry(entry, entry.path.read_bytes()[: len(entry.path.read_bytes()) // 2] if payload is None else payload)
    state = random.getstate()
    assert cache.cached(slow_square, 3)["value"] == 9
    assert len(CALLS) == 2
    random.setstate(state)  # the global generators still work
    assert cache.cached(slow_square, 3)["value"] == 9 and len(CALLS) == 2  # and the rewritten entry is a hit


def test_models_dataclasses_and_shared_objects_come_back_as_computed():
    from utils.data import make_membership_split
    from utils.models import MLP

    def build(seed=0):
        torch.manual_seed(seed)
        model = MLP(hidden=(8,), dropout=0.2)
        model.eval()
        split = make_membership_split(np.arange(40) % 10, n_members=10, n_nonmembers=10, seed=seed)
        return {"model": model, "again": model, "split": split, "n": 2**60 + 1}

    first = cache.cached(build)
    second = cache.cached(build)
    x = torch.randn(4, 196)
    assert torch.equal(first["model"](x), second["model"](x)) and second["again"] is second["model"]
    assert not second["model"].training and second["n"] == 2**60 + 1
    assert type(second["split"]) is type(first["split"]) and np.array_equal(second["split"].members,
                                                                             first["split"].members)
    assert len(CALLS) == 0 and len(cache.entries()) == 1
    assert cache.entries()[0].path.suffix == ".pt"


def _model_after_dp_sgd_hooks(seed=0):
    """A model as Opacus leaves it: its hooks removed, torch's _is_full_backward_hook flag still set."""
    from utils.models import MLP

    torch.manual_seed(seed)
    model = MLP(hidden=(8,))
    handle = model.net[1].register_full_backward_hook(lambda module, grad_in, grad_out: None)
    handle.remove()
    return model.eval()


def test_a_model_whose_hooks_were_removed_is_cached_and_one_with_hooks_is_not():
    assert vars(_model_after_dp_sgd_hooks().net[1])["_is_full_backward_hook"] is True
    first = cache.cached(_model_after_dp_sgd_hooks)
    second = cache.cached(_model_after_dp_sgd_hooks)
    x = torch.randn(3, 196)
    assert torch.equal(first(x), second(x)) and len(cache.entries()) == 1

    def with_a_hook(seed=0):
        model = _model_after_dp_sgd_hooks(seed)
        model.net[1].register_forward_hook(lambda *args: None)
        return model

    cache.cached(with_a_hook)
    assert len(cache.entries()) == 1  # not stored: a hook is a function
