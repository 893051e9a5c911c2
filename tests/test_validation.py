"""Tests for utils.validation: what each check returns, and that every mistake gets a ValueError
that names the input, says what was found and what to change."""

import numpy as np
import pytest
import torch

from utils.validation import as_1d, check_features_labels, check_fraction, check_membership, check_positive_int

# ----------------------------------------------------------------------------- as_1d


def test_as_1d_returns_float64_from_lists_arrays_and_tensors():
    for x in ([1, 2, 3], np.array([1, 2, 3], np.int32), torch.tensor([1.0, 2.0, 3.0])):
        arr = as_1d(x, "scores")
        assert arr.dtype == np.float64 and arr.shape == (3,)
        np.testing.assert_array_equal(arr, [1.0, 2.0, 3.0])


def test_as_1d_keeps_an_integer_dtype_when_asked():
    arr = as_1d([0, 1, 1], "labels", dtype=np.int64)
    assert arr.dtype == np.int64


def test_as_1d_accepts_a_tensor_that_requires_grad():
    arr = as_1d(torch.ones(4, requires_grad=True) * 2, "scores")
    np.testing.assert_array_equal(arr, np.full(4, 2.0))


@pytest.mark.parametrize(
    "x, match",
    [
        (np.zeros((5, 1)), r"scores must be 1-D with one value per record, got shape \(5, 1\)\. Flatten it with np\."
            r"ravel\(scores\)"),
        (np.zeros((1, 5)), r"got shape \(1, 5\)\. Flatten it"),
        (np.zeros((5, 3)), r"got shape \(5, 3\)\. Reduce each record to a single number"),
        (np.float64(0.3), r"got shape \(\)"),
        (["a", "b"], r"scores must hold numbers, got dtype <U1\. Convert it"),
        ([[1, 2], [3]], r"scores could not be turned into an array.*Pass a list or a NumPy array"),
    ],
)
def test_as_1d_rejects_wrong_shapes_and_types(x, match):
    with pytest.raises(ValueError, match=match):
        as_1d(x, "scores")


def test_as_1d_reports_how_many_non_finite_values_and_where():
    x = np.zeros(10)
    x[[2, 7]] = np.nan
    x[9] = -np.inf
    with pytest.raises(ValueError, match=r"scores contains 3 NaN or infinite values \(first at positions \[2, 7, "
        r"9\]\)") as err:
        as_1d(x, "scores")
    assert "float64" in str(err.value) and "drop those records" in str(err.value)


# ----------------------------------------------------------------------------- check_membership


def test_check_membership_returns_int64_labels_and_float64_scores():
    labels, scores = check_membership([True, False, True], np.array([1, 2, 3], np.float32))
    assert labels.dtype == np.int64 and scores.dtype == np.float64
    np.testing.assert_array_equal(labels, [1, 0, 1])


def test_check_membership_accepts_float_zero_one_labels():
    labels, _ = check_membership(np.array([0.0, 1.0]), [0.2, 0.4])
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1]


@pytest.mark.parametrize(
    "labels, scores, match",
    [
        ([0, 1, 1], [0.1, 0.2], r"labels has 3 entries and scores has 2\. Compute scores on the same records"),
        ([1, 1], [0.1, 0.2], r"only members \(1\); an ROC curve needs both.*Evaluate the attack on a mix of both"),
        ([0, 0], [0.1, 0.2], r"only non-members \(0\)"),
        ([], [], r"holds only nothing"),
        ([-1, 1], [0.1, 0.2], r"found \[-1, 1\]\. If you used -1/\+1, convert with \(labels \+ 1\) // 2\."),
        ([0, 1, 2], [0.1, 0.2, 0.3], r"found \[0, 1, 2\]\. Use 1 for records in the training set and 0 for the others"),
        ([0, 1, np.nan], [0.1, 0.2, 0.3], r"found \[0\.0, 1\.0, nan\]"),
        (np.zeros((2, 2)), [0.1, 0.2], r"labels must be 1-D with one 0/1 value per record, got shape \(2, 2\)\. Fl"
            r"atten"),
        (["m", "n"], [0.1, 0.2], r"got dtype <U1\. Encode membership as integers"),
        ([0, 1], [0.1, np.inf], r"scores contains 1 NaN or infinite"),
    ],
)
def test_check_membership_rejects_bad_input(labels, scores, match):
    with pytest.raises(ValueError, match=match):
        check_membership(labels, scores)


def test_check_membership_uses_the_callers_names():
    with pytest.raises(ValueError, match=r"members_truth has 2 entries and loss_scores has 3"):
        check_membership([0, 1], [1, 2, 3], labels_name="members_truth", scores_name="loss_scores")


# ----------------------------------------------------------------------------- check_fraction


@pytest.mark.parametrize("value", [0.5, 1e-6, np.float32(0.25), np.float64(0.999)])
def test_check_fraction_accepts_open_unit_interval(value):
    out = check_fraction(value, "fpr")
    assert isinstance(out, float) and out == pytest.approx(float(value))


@pytest.mark.parametrize("value", [0.0, 1.0, -0.1, 1.01, 5, 100])
def test_check_fraction_rejects_values_outside_and_explains_percent(value):
    with pytest.raises(ValueError, match=rf"fpr must lie in \(0, 1\), got {value}\. Rates are fractions: 1% is 0\.01"):
        check_fraction(value, "fpr")


@pytest.mark.parametrize("value", [np.nan, np.inf, "0.1", None, True, [0.1]])
def test_check_fraction_rejects_non_numbers(value):
    with pytest.raises(ValueError, match=r"fpr must be a number in \(0, 1\), got"):
        check_fraction(value, "fpr")


def test_check_fraction_closed_ends_on_request():
    assert check_fraction(0, "delta", low_open=False) == 0.0
    assert check_fraction(1, "p", high_open=False) == 1.0
    with pytest.raises(ValueError, match=r"delta must lie in \[0, 1\)"):
        check_fraction(1, "delta", low_open=False)


# ----------------------------------------------------------------------------- check_positive_int


def test_check_positive_int_accepts_python_and_numpy_integers():
    assert check_positive_int(3, "epochs") == 3
    out = check_positive_int(np.int64(7), "epochs")
    assert out == 7 and type(out) is int
    assert check_positive_int(0, "n", minimum=0) == 0


@pytest.mark.parametrize("value", [0, -3, 2.0, 2.5, "3", True, None])
def test_check_positive_int_rejects_non_integers_and_small_values(value):
    with pytest.raises(ValueError, match=rf"epochs must be an integer >= 1, got {value!r}"):
        check_positive_int(value, "epochs")


def test_check_positive_int_respects_minimum():
    with pytest.raises(ValueError, match=r"n_classes must be an integer >= 2, got 1"):
        check_positive_int(1, "n_classes", minimum=2)


# ----------------------------------------------------------------------------- check_features_labels


def test_check_features_labels_returns_float32_and_int64():
    X, y = check_features_labels(np.ones((4, 3), np.float64), [0, 1, 2, 1], n_classes=3)
    assert X.dtype == np.float32 and X.shape == (4, 3)
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2, 1]


def test_check_features_labels_accepts_images_tensors_and_integral_floats():
    X, y = check_features_labels(torch.zeros(2, 1, 14, 14), np.array([3.0, 1.0]))
    assert X.shape == (2, 1, 14, 14) and y.dtype == np.int64 and y.tolist() == [3, 1]


def test_check_features_labels_does_not_copy_float32_input():
    X = np.ones((3, 2), np.float32)
    out, _ = check_features_labels(X, [0, 1, 0])
    assert np.shares_memory(out, X)


@pytest.mark.parametrize(
    "X, y, n_classes, match",
    [
        (np.zeros(5), [0] * 5, None, r"X must have shape \(n_records, n_features\).*got shape \(5,\)\. For a single "
            r"record use X\[None\]"),
        ([["a", "b"]], [0], None, r"X must hold numbers, got dtype <U1\. Convert it"),
        (np.full((3, 2), np.nan), [0, 1, 0], None, r"X contains NaN or infinite values in 3 records.*drop those re"
            r"cords"),
        (np.array([[0.0, np.inf], [1.0, 1.0]]), [0, 1], None, r"in 1 records \(first at rows \[0\]\)"),
        (np.zeros((3, 2)), np.zeros((3, 10)), None, r"y must be 1-D.*got shape \(3, 10\)\. If it is one-hot, use y\."
            r"argmax\(axis=1\)"),
        (np.zeros((3, 2)), [0, 1], None, r"X has 3 records and y has 2\. Take both from the same records"),
        (np.zeros((0, 2)), [], None, r"X and y are empty; pass at least one record"),
        (np.zeros((2, 2)), [0.5, 1.0], None, r"y must hold integer class labels, got dtype float64 with non-integer "
            r"values\. Pass class indices"),
        (np.zeros((2, 2)), ["a", "b"], None, r"y must hold integer class labels, got dtype <U1\. Pass class"),
        (np.zeros((2, 2)), [0, 10], 10, r"y must hold class labels in \[0, 10\), found values from 0 to 10\..*more c"
            r"lasses"),
        (np.zeros((2, 2)), [-1, 3], 10, r"found values from -1 to 3"),
        (np.zeros((2, 2)), [-1, 3], None, r"y must hold non-negative class labels, found values from -1 to 3\. Ren"
            r"umber"),
    ],
)
def test_check_features_labels_rejects_bad_datasets(X, y, n_classes, match):
    with pytest.raises(ValueError, match=match):
        check_features_labels(X, y, n_classes=n_classes)


def test_check_features_labels_never_prints_none_for_missing_class_count():
    with pytest.raises(ValueError) as err:
        check_features_labels(np.zeros((2, 2)), [-1, 0])
    assert "None" not in str(err.value)


def test_check_features_labels_uses_the_callers_names():
    with pytest.raises(ValueError, match=r"X_shadow has 3 records and y_shadow has 2"):
        check_features_labels(np.zeros((3, 2)), [0, 1], X_name="X_shadow", y_name="y_shadow")


# ----------------------------------------------------------------------------- issue 8: positions, complex values
def test_check_indices():
    from utils.validation import check_indices

    assert check_indices([2, 0], "idx", 3).tolist() == [2, 0]
    assert check_indices([-1], "idx", 3, allow_negative=True).tolist() == [2]
    for bad, match in (([True, False], "booleans"), ([1.0], "integer positions"), ([3], r"positions in \[0, 3\)"),
                       ([1, 1], "more than once"), (2, "single value")):
        with pytest.raises(ValueError, match=match):
            check_indices(bad, "idx", 3)


def test_complex_values_are_refused():
    with pytest.raises(ValueError, match="complex"):
        as_1d(np.array([1 + 2j]), "scores")
    with pytest.raises(ValueError, match="real numbers"):
        check_features_labels(np.zeros((2, 2), complex), [0, 1])


@pytest.mark.parametrize("value", [True, np.bool_(True), 2.0, -1])
def test_numbers_are_checked_one_way(value):
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        check_positive_int(value, "n")
