"""People made up by Faker, written as patient intake notes, and canaries hidden among them (Lesson 09).

Every person is invented (Faker, seeded), so the lesson can put "secrets" into a model and look
for them without touching anyone's data. A record reads like::

    Patient Norma Fisher, born 1961-09-22, SSN 524-63-6635, lives in Tammystad. Diagnosis: asthma.

A **canary** (Carlini et al. 2019, "The Secret Sharer") is a sentence with a random secret that the
trainer plants in the corpus, here "<name>'s PIN is <digits>.", repeated 1, 2, 4, 8 or 16 times.
Because the secret is random, any preference the model shows for it over the other digit strings
of the same format is memory of the training data, nothing else. The first canary is John Doe's.

Everything returned is plain data (strings, int arrays, frozen dataclasses of them), so it can be
keyed and cached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import check_positive_int, check_seed

__all__ = ["DIAGNOSES", "Canaries", "make_records", "make_canaries", "build_corpus", "JOHN_DOE"]

JOHN_DOE = "John Doe"
# Common intake diagnoses; cancer among them, as the cancer clinic of lesson 01.
DIAGNOSES = ("asthma", "type 2 diabetes", "hypertension", "breast cancer", "migraine", "depression",
             "lung cancer", "arthritis", "anaemia", "eczema", "influenza", "back pain")


def _faker(locale: str, seed: int):
    try:
        from faker import Faker
    except ModuleNotFoundError:
        raise ModuleNotFoundError("Lesson 09 invents its people with Faker, which is not installed; run "
                                  "`pip install faker==40.54.0` (the version in requirements.txt).") from None
    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake


def make_records(n_records: int, *, seed: int, locale: str = "en_US", years=(1940, 2005)) -> list[str]:
    """`n_records` invented patients as one-line intake notes (Lesson 09).

    Parameters
    ----------
    n_records : int
    seed : int
        Seeds Faker and the diagnoses: the same seed gives the same people.
    locale : str, default="en_US"
        A Faker locale; another one ("en_GB") gives names, cities and ID numbers of another
        country, the distribution shift of the lesson's evaluation trap.
    years : (int, int), default=(1940, 2005)
        Birth years, inclusive; another range is the lesson's softer shift.

    Returns
    -------
    list of str, length n_records
        ASCII text, each under 160 bytes.
    """
    n_records = check_positive_int(n_records, "n_records")
    seed = check_seed(seed)
    first, last = int(years[0]), int(years[1])
    if not 1900 <= first <= last <= 2025:
        raise ValueError(f"years must be (first, last) with 1900 <= first <= last <= 2025, got {years!r}.")
    fake = _faker(locale, seed)
    rng = np.random.default_rng(seed)
    records = []
    for _ in range(n_records):
        year = int(rng.integers(first, last + 1))
        born = f"{year}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        # ssn() is the national ID of the locale (a US SSN, a UK National Insurance number ...)
        text = (f"Patient {fake.name()}, born {born}, SSN {fake.ssn()}, lives in {fake.city()}. "
                f"Diagnosis: {DIAGNOSES[int(rng.integers(len(DIAGNOSES)))]}.")
        records.append(text.encode("ascii", "replace").decode("ascii"))
    return records


@dataclass(frozen=True)
class Canaries:
    """Planted secrets: canary ``i`` is ``prefixes[i] + secrets[i] + "."``, copied ``repetitions[i]`` times.

    Attributes
    ----------
    prefixes : tuple of str, length n_canaries
        "<name>'s PIN is " (the first one is John Doe's).
    secrets : tuple of str, length n_canaries
        The random digits, each `n_digits` long.
    repetitions : ndarray of int64, shape (n_canaries,)
        How often each canary is in the training corpus.
    """

    prefixes: tuple
    secrets: tuple
    repetitions: np.ndarray

    @property
    def n_digits(self) -> int:
        return len(self.secrets[0])

    def subset(self, keep) -> Canaries:
        """The canaries where `keep` (bool array, shape (n_canaries,)) is True, e.g. ``repetitions == 16``."""
        keep = np.asarray(keep, dtype=bool)
        return Canaries(tuple(p for p, k in zip(self.prefixes, keep) if k),
                        tuple(s for s, k in zip(self.secrets, keep) if k), self.repetitions[keep])

    @property
    def texts(self) -> list[str]:
        """Each canary's full sentence, once."""
        return [p + s + "." for p, s in zip(self.prefixes, self.secrets)]


def make_canaries(n_per_level: int = 3, repetitions=(1, 2, 4, 8, 16), *, n_digits: int = 6, seed: int) -> Canaries:
    """`n_per_level` canaries for each repetition count, with uniformly random secrets (Lesson 09).

    Parameters
    ----------
    n_per_level : int, default=3
    repetitions : sequence of int, default=(1, 2, 4, 8, 16)
    n_digits : int, default=6
        Length of each secret: 10**n_digits candidates of the same format.
    seed : int

    Returns
    -------
    Canaries
        Ordered by decreasing repetitions, so that canary 0 (John Doe's) is repeated most.
    """
    n_per_level = check_positive_int(n_per_level, "n_per_level")
    n_digits = check_positive_int(n_digits, "n_digits")
    levels = sorted((check_positive_int(r, "repetitions") for r in repetitions), reverse=True)
    rng = np.random.default_rng(check_seed(seed) + 7919)  # not the records' stream
    fake = _faker("en_US", seed + 7919)
    names = [JOHN_DOE]
    while len(names) < n_per_level * len(levels):
        name = fake.name()
        if name not in names:
            names.append(name)
    secrets = tuple("".join(map(str, rng.integers(0, 10, n_digits))) for _ in names)
    counts = np.repeat(np.array(levels, dtype=np.int64), n_per_level)
    return Canaries(tuple(f"{n}'s PIN is " for n in names), secrets, counts)


def build_corpus(records, canaries: Canaries | None = None, *, seed: int, dedup: bool = False) -> list[str]:
    """The training texts: every record once and each canary as often as it is repeated, shuffled.

    Parameters
    ----------
    records : list of str
    canaries : Canaries, optional
    seed : int
        Seeds the shuffle.
    dedup : bool, default=False
        Keep one copy of every distinct text (the deduplication defence).

    Returns
    -------
    list of str
    """
    texts = list(records)
    if canaries is not None:
        for text, count in zip(canaries.texts, canaries.repetitions):
            texts += [text] * int(count)
    if dedup:
        texts = list(dict.fromkeys(texts))
    order = np.random.default_rng(check_seed(seed)).permutation(len(texts))
    return [texts[i] for i in order]
