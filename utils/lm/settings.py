"""The three membership settings of Lesson 09, and every text attack run on one of them.

- **overfit**: a model trained for many epochs on a few hundred records (plus canaries); members are
  its training records, non-members fresh records of the same population (an IID split).
- **one-pass**: a model trained once over a large corpus, as large language models are; members are
  some of its training records, non-members fresh records of the same population (IID again).
- **shifted**: the one-pass model's members against non-members from *another* distribution
  (another Faker locale, or later birth years): the split of many published LLM evaluations,
  where members are old text and non-members newer text. The blind baseline exposes it.

Each `Setting` is plain text (tuples of str); `score_setting` queries the target (and the reference
model) once and returns every attack's scores as arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..progress import progress_bar
from ..validation import check_positive_int, check_seed
from .attacks import (
    blind_scores,
    loss_scores,
    min_k_plus_plus_scores,
    min_k_scores,
    reference_scores,
    token_statistics,
    zlib_scores,
)
from .records import Canaries, build_corpus, make_canaries, make_records

__all__ = ["TARGET_RECIPE", "ONE_PASS_RECIPE", "DP_RECIPE", "compare_models", "score_settings", "cached_scores",
           "cached_exposures", "cached_bits_per_byte", "Setting", "MembershipScores", "AttackRow", "auc_interval",
           "summarize_scores", "overfit_setting", "one_pass_setting", "shifted_setting", "score_setting",
           "ATTACK_NAMES"]

# The lesson's recipes (also the bench's): 12 epochs overfit 200 records; one pass over a large corpus;
# DP-SGD at epsilon 8 for as many steps as a non-private control of the same batch size.
TARGET_RECIPE = {"epochs": 12, "lr": 1e-3, "batch_size": 32}
ONE_PASS_RECIPE = {"epochs": 1, "lr": 1e-3, "batch_size": 32}
DP_RECIPE = {"epsilon": 8.0, "epochs": 12, "lr": 3e-3, "batch_size": 64}
ATTACK_NAMES = ("loss", "zlib", "min-k", "min-k++", "reference", "blind")  # the lesson's and the bench's names
_SEED_GAP = 100_003  # keeps the seeds of different record sets apart


@dataclass(frozen=True)
class Setting:
    """One membership experiment as text.

    Attributes
    ----------
    name : str
    corpus : tuple of str
        What the target trains on (canaries included, repeated).
    members, nonmembers : tuple of str
        The evaluation: texts the target trained on, and texts it never saw.
    reference_corpus : tuple of str
        Records of the members' population, disjoint from everything else (the reference model's data).
    canaries : Canaries or None
    """

    name: str
    corpus: tuple
    members: tuple
    nonmembers: tuple
    reference_corpus: tuple = ()
    canaries: Canaries | None = None

    @property
    def texts(self) -> list[str]:
        """Members then non-members (the order of `labels`)."""
        return list(self.members) + list(self.nonmembers)

    @property
    def labels(self) -> np.ndarray:
        """1 = member, 0 = non-member, shape (n_members + n_nonmembers,)."""
        return np.r_[np.ones(len(self.members), np.int64), np.zeros(len(self.nonmembers), np.int64)]


def overfit_setting(*, n_records: int = 200, n_nonmembers: int = 1000, n_per_level: int = 3,
                    repetitions=(1, 2, 4, 8, 16), n_digits: int = 6, seed: int = 0) -> Setting:
    """`n_records` en_US records plus canaries to train on; `n_nonmembers` fresh records; as many for a reference."""
    seed = check_seed(seed)
    records = make_records(check_positive_int(n_records, "n_records"), seed=seed)
    canaries = make_canaries(n_per_level, repetitions, n_digits=n_digits, seed=seed)
    nonmembers = make_records(n_nonmembers, seed=seed + _SEED_GAP)
    reference = make_records(n_records, seed=seed + 2 * _SEED_GAP)
    return Setting("overfit", tuple(build_corpus(records, canaries, seed=seed)), tuple(records), tuple(nonmembers),
                   tuple(reference), canaries)


def one_pass_setting(*, n_records: int = 5000, n_members: int = 1000, n_nonmembers: int = 1000,
                     n_reference: int = 0, seed: int = 0) -> Setting:
    """`n_records` en_US records, trained on once; `n_members` of them and `n_nonmembers` fresh ones to evaluate.

    `n_reference` fresh records make its reference corpus: none by default, since lesson 09 and
    ``utils.bench lm`` reuse the overfit setting's reference model (5,000 unused people take seconds to draw).
    """
    seed = check_seed(seed)
    records = make_records(check_positive_int(n_records, "n_records"), seed=seed + 3 * _SEED_GAP)
    if n_members > n_records:
        raise ValueError(f"n_members ({n_members}) cannot exceed n_records ({n_records}).")
    nonmembers = make_records(n_nonmembers, seed=seed + 4 * _SEED_GAP)
    reference = make_records(n_reference, seed=seed + 5 * _SEED_GAP) if n_reference else []
    return Setting("one-pass", tuple(records), tuple(records[:n_members]), tuple(nonmembers), tuple(reference))


def shifted_setting(base: Setting, *, shift: str = "locale", seed: int = 0) -> Setting:
    """`base`'s target and members against non-members from a shifted distribution.

    Parameters
    ----------
    base : Setting
        Usually the one-pass setting (whose IID evaluation is at chance).
    shift : {"locale", "years"}, default="locale"
        "locale": en_GB people (British names, cities and National Insurance numbers) instead of
        en_US; "years": en_US people born 1985-2024 instead of 1940-2005 (a softer, temporal shift).
    """
    n = len(base.nonmembers)
    seed = check_seed(seed) + 6 * _SEED_GAP
    if shift == "locale":
        nonmembers = make_records(n, seed=seed, locale="en_GB")
    elif shift == "years":
        nonmembers = make_records(n, seed=seed, years=(1985, 2024))
    else:
        raise ValueError(f"shift must be 'locale' or 'years', got {shift!r}.")
    return Setting(f"shifted-{shift}", base.corpus, base.members, tuple(nonmembers), base.reference_corpus,
                   base.canaries)


@dataclass(frozen=True)
class MembershipScores:
    """Every attack's scores on one setting's evaluation texts.

    Attributes
    ----------
    labels : ndarray of int64, shape (n_texts,)
        1 = member.
    scores : dict of str -> ndarray of float64, shape (n_texts,)
        Keyed by `ATTACK_NAMES`; higher = more likely member.
    """

    labels: np.ndarray
    scores: dict

    def as_dict(self) -> dict:
        return {"labels": np.asarray(self.labels), "scores": {k: np.asarray(v) for k, v in self.scores.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> MembershipScores:
        return cls(np.asarray(data["labels"]), {k: np.asarray(v) for k, v in data["scores"].items()})


def _scores_from_statistics(stats, ref_stats, texts, labels, k, seed):
    loss = loss_scores(stats.log_probs, stats.mask)
    scores = {"loss": loss,
              "zlib": zlib_scores(stats.log_probs, stats.mask, texts),
              "min-k": min_k_scores(stats.log_probs, stats.mask, k),
              "min-k++": min_k_plus_plus_scores(stats.log_probs, stats.mu, stats.sigma, stats.mask, k)}
    if ref_stats is not None:
        scores["reference"] = reference_scores(loss, loss_scores(ref_stats.log_probs, ref_stats.mask))
    scores["blind"] = blind_scores(texts, labels, seed=seed)
    return MembershipScores(labels, scores)


def score_setting(target, setting: Setting, *, reference=None, k: float = 0.2, seed: int = 0) -> MembershipScores:
    """Run the loss, zlib, Min-K%, Min-K%++, reference (if `reference` is given) and blind attacks (Lesson 09).

    Parameters
    ----------
    target : ByteTransformer
    setting : Setting
    reference : ByteTransformer, optional
        A model trained on records of the members' population that the target never saw.
    k : float, default=0.2
        Min-K%'s fraction of bytes.
    seed : int
        Seeds the blind baseline's folds.
    """
    return score_settings(target, {setting.name: setting}, reference=reference, k=k, seed=seed)[setting.name]


def score_settings(target, settings: dict, *, reference=None, k: float = 0.2, seed: int = 0) -> dict:
    """`score_setting` for several settings of one target, querying each distinct text once: ``{name: scores}``."""
    import types

    unique = list(dict.fromkeys(t for s in settings.values() for t in s.texts))
    where = {t: i for i, t in enumerate(unique)}
    stats = token_statistics(target, unique)
    ref = token_statistics(reference, unique) if reference is not None else None

    def rows(all_stats, texts):
        index = np.array([where[t] for t in texts])
        return types.SimpleNamespace(**{f: getattr(all_stats, f)[index] for f in ("log_probs", "mu", "sigma", "mask")})

    return {name: _scores_from_statistics(rows(stats, s.texts), None if ref is None else rows(ref, s.texts),
                                          s.texts, s.labels, k, seed) for name, s in settings.items()}


def _score_dicts(target, settings, reference, k, seed):
    scored = score_settings(target, settings, reference=reference, k=k, seed=seed)
    return {name: result.as_dict() for name, result in scored.items()}


def cached_scores(target, settings: dict, *, reference=None, k: float = 0.2, seed: int = 0) -> dict:
    """`score_settings` through `utils.cache.cached` (stored as plain arrays): ``{name: MembershipScores}``."""
    from ..cache import cached

    stored = cached(_score_dicts, target, settings, reference, k, seed)
    return {name: MembershipScores.from_dict(data) for name, data in stored.items()}


def _exposure_dict(model, canaries, n_samples, seed):
    from .exposure import canary_exposures

    return canary_exposures(model, canaries, n_samples=n_samples, seed=seed, progress=True).as_dict()


def cached_exposures(model, canaries, *, n_samples: int = 1000, seed: int = 0):
    """`utils.lm.exposure.canary_exposures` through `utils.cache.cached` (stored as plain arrays)."""
    from ..cache import cached
    from .exposure import CanaryExposure

    return CanaryExposure.from_dict(cached(_exposure_dict, model, canaries, n_samples, seed))


def cached_bits_per_byte(model, texts) -> float:
    """`utils.lm.train.bits_per_byte` through `utils.cache.cached`: a warm lesson reads it, not 1,000 forward passes."""
    from ..cache import cached
    from .train import bits_per_byte

    return float(cached(bits_per_byte, model, list(texts)))


def auc_interval(labels, scores, *, n_boot: int = 300, confidence: float = 0.95, seed: int = 0):
    """AUC and a stratified bootstrap interval: ``(auc, low, high)``.

    Members and non-members are resampled separately (their counts kept), `n_boot` times.
    """
    from scipy.stats import rankdata

    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=np.float64)
    members, nonmembers = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    if len(members) == 0 or len(nonmembers) == 0:
        raise ValueError("labels must hold both members (1) and non-members (0) to compute an AUC.")

    def area(rows):  # Mann-Whitney: P(member score > non-member score), ties count half
        ranks = rankdata(scores[rows], axis=-1)
        n1 = len(members)
        return (ranks[..., :n1].sum(-1) - n1 * (n1 + 1) / 2) / (n1 * len(nonmembers))

    rng = np.random.default_rng(check_seed(seed))
    boot = np.concatenate([rng.choice(members, (n_boot, len(members))),
                           rng.choice(nonmembers, (n_boot, len(nonmembers)))], axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(area(boot), [tail, 1 - tail])
    return float(area(np.r_[members, nonmembers])), float(low), float(high)


@dataclass(frozen=True)
class AttackRow:
    """One attack on one setting: AUC and TPR at `fpr`, each with a 95% interval."""

    auc: float
    auc_low: float
    auc_high: float
    tpr: float
    tpr_low: float
    tpr_high: float
    fpr: float


def summarize_scores(result: MembershipScores, *, fpr: float = 0.01, seed: int = 0) -> dict:
    """``{attack: AttackRow}``: bootstrap AUC intervals, Clopper-Pearson intervals of the TPR at `fpr`."""
    from ..metrics import summarize_attack

    rows = {}
    for name, scores in result.scores.items():
        area, low, high = auc_interval(result.labels, scores, seed=seed)
        summary = summarize_attack(result.labels, scores, fprs=(fpr,))
        rows[name] = AttackRow(area, low, high, summary.tpr_at_fpr[fpr], *summary.tpr_interval[fpr], fpr)
    return rows


def compare_models(models: dict, canaries, texts, *, n_samples: int = 500, seed: int = 0) -> dict:
    """For each model: its canaries' exposure (`CanaryExposure`) and its bits per byte on `texts` (Lesson 09).

    Exposures go through `cached_exposures`; pass ``canaries.subset(...)`` to measure only some of them.

    Returns
    -------
    dict of str -> (CanaryExposure, float)
    """
    measured = {}
    for name, model in progress_bar(list(models.items()), desc="models measured", leave=False):
        measured[name] = (cached_exposures(model, canaries, n_samples=n_samples, seed=seed),
                          cached_bits_per_byte(model, texts))
    return measured
