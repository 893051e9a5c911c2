"""Offline census and patient tables, and the opt-in UCI Adult with its checksum (lesson 04)."""

import hashlib

import numpy as np
import pytest

from utils.tables import adult_from_csv, load_adult, load_census, load_patients


def test_census_is_the_cps_table_scaled_with_gender_kept_apart():
    census = load_census()
    assert census.X.shape == (61395, 6) and census.X.dtype == np.float32 and census.y.dtype == np.int64
    assert census.X.min() == 0.0 and census.X.max() == 1.0
    assert "female" not in census.feature_names
    assert census.group_rate == pytest.approx(27047 / 61395)  # 61,395 - 34,348 men
    assert abs(census.y.mean() - 0.5) < 0.01  # earnings above the median
    assert census.label_rate(census.group) < census.label_rate(~census.group) - 0.1  # the lesson's base-rate leak
    assert np.allclose(census.X[:, 2:6].sum(axis=1), 1.0)  # one region each
    assert set(np.unique(census.source)) == {"Midwest", "Northeast", "South", "West"}
    with_group = load_census(group_as_input=True)
    assert with_group.feature_names[-1] == "female" and np.array_equal(
        with_group.X[:, -1], census.group.astype(np.float32)
    )


def test_patients_table_is_clean():
    patients = load_patients()
    assert patients.X.shape == (7874, 8) and np.isfinite(patients.X).all()
    assert patients.X.min() >= 0 and patients.X.max() <= 1
    assert set(np.unique(patients.y)) == {0, 1} and 0.2 < patients.y.mean() < 0.35
    assert 0.5 < patients.group_rate < 0.6
    assert patients.X[:, patients.feature_names.index("creatinine_missing")].sum() == 1350


def _write_adult(path, rows=40, seed=0):
    rng = np.random.default_rng(seed)
    lines = ["age,education-num,capital-gain,capital-loss,hours-per-week,sex,class"]
    for _ in range(rows):
        lines.append(
            f"{rng.integers(17, 90)},{rng.integers(1, 17)},{rng.choice([0, 5000])},{rng.choice([0, 1500])},"
            f"{rng.integers(10, 80)},{rng.choice(['Male', 'Female'])},{rng.choice(['<=50K', '>50K'])}"
        )
    path.write_text("\n".join(lines) + "\n")
    (path.parent / (path.name + ".sha256")).write_text(hashlib.sha256(path.read_bytes()).hexdigest() + "\n")


def test_adult_loads_from_a_checked_cache(tmp_path):
    _write_adult(tmp_path / "adult.csv")
    adult = load_adult(cache_dir=tmp_path)  # no download: the cached copy, hash checked
    assert adult.X.shape == (40, 5) and adult.X.dtype == np.float32 and adult.X.min() >= 0 and adult.X.max() <= 1
    assert set(np.unique(adult.y)) <= {0, 1} and adult.group.dtype == bool
    assert load_adult(cache_dir=tmp_path, group_as_input=True).X.shape == (40, 6)


def test_adult_refuses_a_damaged_or_missing_copy(tmp_path):
    with pytest.raises(FileNotFoundError, match="load_adult\\(download=True\\)"):
        load_adult(cache_dir=tmp_path)  # and no network: the test's guard would block it
    path = tmp_path / "adult.csv"
    _write_adult(path)
    path.write_text(path.read_text().replace("Male", "Femal", 1))
    with pytest.raises(ValueError, match="damaged or was edited"):
        adult_from_csv(path)
    (tmp_path / "adult.csv.sha256").unlink()
    with pytest.raises(ValueError, match="no checksum"):
        adult_from_csv(path)
    bad = tmp_path / "other.csv"
    bad.write_text("age,sex\n30,Male\n")
    with pytest.raises(ValueError, match="lacks the column"):
        adult_from_csv(bad, sha256=hashlib.sha256(bad.read_bytes()).hexdigest())
