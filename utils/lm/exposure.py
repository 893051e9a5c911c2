"""Exposure and extraction of planted secrets (Carlini et al. 2019, "The Secret Sharer"; Lesson 09).

A canary "<prefix><secret>." hides a secret drawn uniformly from a space R of candidates (all
``10**n_digits`` digit strings). Rank every candidate by the model's log-perplexity of the secret
after the prefix; the canary's **rank** is its place in that order (1 = the model's favourite).
Its **exposure**, in bits, is

    exposure = log2 |R| - log2 rank

0 bits for a secret the model finds no more likely than a typical candidate (rank ~ |R| / 2 gives
1 bit), log2 |R| bits for one it prefers to every other candidate, i.e. one it has memorised.

Three ways to get it, all here:

- `exact_exposure`: score every candidate (an enumerable space, up to 6 digits), the definition itself;
- `estimate_exposure`: the paper's estimate for a large space: fit a skew-normal (or normal)
  distribution to the log-perplexities of a random sample of candidates and read the canary's
  rank fraction off its CDF, ``exposure ~ -log2 F(canary)``; it can exceed log2 of the sample size;
- `sampled_exposure`: the rank among the sampled candidates alone, which saturates at
  ``log2(n_samples + 1)`` bits (1,000 candidates: 10 bits), however well the model knows the secret.

Compared with the reference implementation of TensorFlow Privacy
(``privacy_tests/secret_sharer/exposures.py``: `compute_exposure_interpolation` for ranks,
`compute_exposure_extrapolation` for ``-log2 skewnorm.cdf`` of a fit to the references); the tests
recompute both on the same inputs.

Extraction (`beam_search`): the attacker knows the prefix and the format and asks the model for the
most likely digits, greedily (beam width 1) or keeping the best `beam_width` partial secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import log_ndtr

from ..progress import progress_bar
from ..validation import check_positive_int, check_seed
from .model import BOS

__all__ = ["DIGITS", "exposure_from_rank", "rank_of", "sampled_exposure", "estimate_exposure", "secret_log_probs",
           "exact_exposure", "beam_search", "CanaryExposure", "canary_exposures", "extracted",
           "extraction_report"]

DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8).astype(np.int64)  # the digits' byte values
LN2 = np.log(2.0)


# ---------------------------------------------------------------- the maths, on arrays


def exposure_from_rank(rank, n_candidates):
    """Exposure in bits, ``log2(n_candidates) - log2(rank)`` (Carlini et al. 2019, definition 3).

    Parameters
    ----------
    rank : int or array-like of int, shape (n_canaries,)
        1 = the model's most likely candidate.
    n_candidates : int
        |R|, the number of candidates the secret was drawn from (the canary among them).

    Returns
    -------
    float or ndarray of float64
        Between 0 (rank |R|) and log2 |R| (rank 1).

    >>> float(exposure_from_rank(1, 10_000)), float(exposure_from_rank(10_000, 10_000))
    (13.287712379549449, 0.0)
    """
    rank = np.asarray(rank, dtype=np.float64)
    n = float(n_candidates)
    if n < 1 or np.any(rank < 1) or np.any(rank > n) or np.any(rank != np.round(rank)):
        raise ValueError(f"rank must be a whole number between 1 and n_candidates = {n:g}; found "
                         f"{rank.min():g} to {rank.max():g}. Rank 1 is the most likely candidate (count from 1).")
    out = np.log2(n) - np.log2(rank)
    return float(out) if out.ndim == 0 else out


def rank_of(canary_nll, candidate_nll) -> np.ndarray:
    """Rank of each canary among candidates: 1 + the number of candidates the model finds more likely.

    Parameters
    ----------
    canary_nll : array-like of float, shape (n_canaries,)
        The canaries' log-perplexity (negative log-likelihood of the secret; lower = more likely).
    candidate_nll : array-like of float, shape (n_canaries, n_others) or (n_others,)
        The other candidates' log-perplexity (the canary itself not among them), per canary or shared.

    Returns
    -------
    ndarray of int64, shape (n_canaries,)
        Ties count against the canary (a tied candidate ranks before it), so exposure is never overstated.
    """
    canary = np.atleast_1d(np.asarray(canary_nll, dtype=np.float64))
    others = np.asarray(candidate_nll, dtype=np.float64)
    others = np.broadcast_to(others, (len(canary), others.shape[-1])) if others.ndim == 1 else others
    if others.shape[0] != len(canary):
        raise ValueError(f"candidate_nll has {others.shape[0]} rows for {len(canary)} canaries; give one row per "
                         "canary, or one shared row.")
    return 1 + np.sum(others <= canary[:, None], axis=1).astype(np.int64)


def sampled_exposure(canary_nll, sample_nll) -> np.ndarray:
    """Exposure from the rank among a random sample of candidates: ``-log2(rank / (n_samples + 1))``.

    Saturates at ``log2(n_samples + 1)`` bits: a sample of 1,000 cannot show more than ~10 bits.

    Returns
    -------
    ndarray of float64, shape (n_canaries,)
    """
    sample = np.asarray(sample_nll, dtype=np.float64)
    return np.log2(sample.shape[-1] + 1) - np.log2(rank_of(canary_nll, sample))


def estimate_exposure(canary_nll, sample_nll, *, distribution: str = "skewnorm") -> np.ndarray:
    """The Secret Sharer's estimate of exposure on a large space: ``-log2 F(canary_nll)``.

    `F` is the CDF of a skew-normal (the paper's choice) or normal distribution fitted (maximum
    likelihood) to the log-perplexities of candidates drawn uniformly from the space: F(x) estimates
    the fraction of *all* candidates at least as likely as the canary, i.e. rank / |R|.

    Parameters
    ----------
    canary_nll : array-like of float, shape (n_canaries,)
    sample_nll : array-like of float, shape (n_canaries, n_samples) or (n_samples,)
        Random candidates' log-perplexity, per canary (each canary has its own prefix) or shared.
    distribution : {"skewnorm", "normal"}, default="skewnorm"

    Returns
    -------
    ndarray of float64, shape (n_canaries,)
        Exposure in bits (>= 0).
    """
    from scipy.stats import skewnorm

    if distribution not in ("skewnorm", "normal"):
        raise ValueError(f"distribution must be 'skewnorm' or 'normal', got {distribution!r}.")
    canary = np.atleast_1d(np.asarray(canary_nll, dtype=np.float64))
    sample = np.asarray(sample_nll, dtype=np.float64)
    sample = np.broadcast_to(sample, (len(canary), sample.shape[-1])) if sample.ndim == 1 else sample
    if sample.shape[0] != len(canary) or sample.shape[1] < 10:
        raise ValueError(f"sample_nll must hold at least 10 candidates per canary, shape ({len(canary)}, n) or (n,); "
                         f"got shape {np.shape(sample_nll)}.")
    out = np.empty(len(canary))
    for i, (x, row) in enumerate(zip(canary, sample)):
        if distribution == "normal":
            log_cdf = log_ndtr((x - row.mean()) / row.std())
        else:
            a, loc, scale = skewnorm.fit(row)
            log_cdf = skewnorm.logcdf(x, a, loc, scale)
            if not np.isfinite(log_cdf):  # beyond float64's tail: the normal tail of the same fit is a floor
                log_cdf = log_ndtr((x - loc) / scale)
        out[i] = max(0.0, -log_cdf / LN2)
    return out


# ---------------------------------------------------------------- querying the model


def _encode_prefix(prefix: str) -> np.ndarray:
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(f"prefix must be a non-empty string, got {prefix!r:.60}.")
    return np.concatenate([[BOS], np.frombuffer(prefix.encode("utf-8"), dtype=np.uint8)]).astype(np.int64)


@torch.no_grad()
def _after_prefix(model, prefix: torch.Tensor, rows: torch.Tensor):
    """``model.after_prefix`` (the prefix computed once) where the model has it; one full forward otherwise."""
    if hasattr(model, "after_prefix"):
        return model.after_prefix(prefix, rows)
    logits = model(torch.cat([prefix.expand(len(rows), -1), rows], dim=1))
    return logits[0, len(prefix) - 1], logits[:, len(prefix):]


@torch.no_grad()
def _next_log_probs(model, prefix_codes: np.ndarray, partials: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Log-probabilities (nats, over all 256 bytes) of each digit after prefix + partial digits.

    partials: (n, j) digits 0-9. Returns (n, 10) float64.
    """
    n, j = partials.shape
    prefix = torch.from_numpy(prefix_codes)
    out = np.empty((n, 10))
    for start in range(0, n, batch_size):
        rows = torch.from_numpy(np.ascontiguousarray(DIGITS[partials[start:start + batch_size]]))
        last, logits = _after_prefix(model, prefix, rows)  # the prefix is computed once, not once per row
        logits = last.expand(len(rows), -1) if j == 0 else logits[:, -1]
        out[start:start + batch_size] = torch.log_softmax(logits.double(), -1)[:, DIGITS].numpy()
    return out


@torch.no_grad()
def secret_log_probs(model, prefix: str, candidates, *, batch_size: int = 256) -> np.ndarray:
    """Log-likelihood (nats) the model gives each candidate secret after `prefix`.

    Parameters
    ----------
    model : ByteTransformer
    prefix : str
    candidates : array-like of int, shape (n_candidates, n_digits)
        Digits 0-9.

    Returns
    -------
    ndarray of float64, shape (n_candidates,)
        ``sum_t log p(digit_t | prefix, digits before t)``; its negative is the log-perplexity.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    if candidates.ndim != 2 or candidates.min() < 0 or candidates.max() > 9:
        raise ValueError(f"candidates must be digits 0-9 of shape (n_candidates, n_digits), got shape "
                         f"{candidates.shape}.")
    codes = torch.from_numpy(_encode_prefix(prefix))
    out = np.empty(len(candidates))
    for start in range(0, len(candidates), batch_size):
        # the prefix is computed once; each candidate costs only its own digits (but the last)
        rows = torch.from_numpy(np.ascontiguousarray(DIGITS[candidates[start:start + batch_size, :-1]]))
        last, logits = _after_prefix(model, codes, rows)
        logits = torch.cat([last.expand(len(rows), 1, -1), logits], dim=1)
        log_probs = torch.log_softmax(logits.double(), -1).numpy()
        chosen = DIGITS[candidates[start:start + batch_size]]
        out[start:start + batch_size] = np.take_along_axis(log_probs, chosen[..., None], -1)[..., 0].sum(1)
    return out


def _digits(secret: str) -> np.ndarray:
    if not isinstance(secret, str) or not secret.isdigit():
        raise ValueError(f"secret must be a string of digits, got {secret!r}.")
    return np.array([int(c) for c in secret], dtype=np.int64)


def exact_exposure(model, prefix: str, secret: str) -> float:
    """Exposure of `secret` by ranking it among *all* ``10**len(secret)`` digit strings (up to 6 digits).

    Scores the whole space by expanding a tree of partial secrets (1 + 10 + ... + 10**(d-1) queries).

    Returns
    -------
    float
        Bits, between 0 and ``d * log2(10)``.
    """
    digits = _digits(secret)
    d = len(digits)
    if d > 6:
        raise ValueError(f"exact_exposure enumerates 10**{d} candidates, too many; use estimate_exposure for "
                         "secrets longer than 6 digits.")
    codes = _encode_prefix(prefix)
    totals = np.zeros(1)
    partials = np.zeros((1, 0), dtype=np.int64)
    for _ in range(d):
        step = _next_log_probs(model, codes, partials)  # (n, 10)
        totals = (totals[:, None] + step).ravel()
        partials = np.concatenate([np.repeat(partials, 10, axis=0), np.tile(np.arange(10), len(partials))[:, None]], 1)
    index = int(digits @ (10 ** np.arange(d - 1, -1, -1)))  # partials are in lexicographic = numeric order
    others = np.delete(-totals, index)
    return exposure_from_rank(rank_of(-totals[index], others)[0], 10**d)


def beam_search(model, prefixes, n_digits: int, *, beam_width: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The model's most likely `n_digits`-digit secrets after each prefix: greedy (width 1) or beam search.

    Parameters
    ----------
    model : ByteTransformer
    prefixes : list of str, length n_prefixes
    n_digits : int
    beam_width : int, default=1

    Returns
    -------
    secrets : ndarray of int64, shape (n_prefixes, beam_width, n_digits)
        Best first.
    log_probs : ndarray of float64, shape (n_prefixes, beam_width)
    """
    n_digits = check_positive_int(n_digits, "n_digits")
    beam_width = check_positive_int(beam_width, "beam_width")
    secrets, scores = [], []
    for prefix in prefixes:
        codes = _encode_prefix(prefix)
        beams, totals = np.zeros((1, 0), dtype=np.int64), np.zeros(1)
        for _ in range(n_digits):
            candidates = (totals[:, None] + _next_log_probs(model, codes, beams)).ravel()
            keep = np.argsort(-candidates, kind="stable")[:beam_width]
            beams = np.concatenate([beams[keep // 10], (keep % 10)[:, None]], axis=1)
            totals = candidates[keep]
        pad = beam_width - len(beams)  # fewer beams than asked only for tiny spaces
        secrets.append(np.pad(beams, ((0, pad), (0, 0)), constant_values=-1))
        scores.append(np.pad(totals, (0, pad), constant_values=-np.inf))
    return np.stack(secrets), np.stack(scores)


# ---------------------------------------------------------------- one call for the lesson


@dataclass(frozen=True)
class CanaryExposure:
    """Exposure of each canary of a model, three ways (shapes (n_canaries,); see the module docstring).

    Attributes
    ----------
    repetitions : ndarray of int64
    estimated : ndarray of float64
        Skew-normal estimate, bits.
    estimated_normal : ndarray of float64
        Normal estimate, bits.
    sampled : ndarray of float64
        Rank among `n_samples` random candidates, bits (saturates at log2(n_samples + 1)).
    canary_nll : ndarray of float64
        Log-perplexity of each secret, nats.
    sample_nll : ndarray of float64, shape (n_canaries, n_samples)
        Log-perplexity of the random candidates after each canary's prefix, nats.
    """

    repetitions: np.ndarray
    estimated: np.ndarray
    estimated_normal: np.ndarray
    sampled: np.ndarray
    canary_nll: np.ndarray
    sample_nll: np.ndarray

    @property
    def n_samples(self) -> int:
        return self.sample_nll.shape[1]

    def as_dict(self) -> dict:
        """Plain arrays for `utils.cache.cached`."""
        return {name: np.asarray(getattr(self, name)) for name in
                ("repetitions", "estimated", "estimated_normal", "sampled", "canary_nll", "sample_nll")}

    @classmethod
    def from_dict(cls, data: dict) -> CanaryExposure:
        return cls(**{name: np.asarray(value) for name, value in data.items()})

    def by_repetitions(self, values=None) -> dict:
        """``{repetitions: values of those canaries}`` (default: the skew-normal estimates), fewest first."""
        values = self.estimated if values is None else np.asarray(values)
        return {int(r): values[self.repetitions == r] for r in np.unique(self.repetitions)}


def canary_exposures(model, canaries, *, n_samples: int = 1000, seed: int = 0,
                     progress: bool = False) -> CanaryExposure:
    """Score each canary's secret against `n_samples` random candidates of its format (Lesson 09).

    Parameters
    ----------
    model : ByteTransformer
    canaries : utils.lm.records.Canaries
    n_samples : int, default=1000
    seed : int, default=0
        Seeds the candidates (the same draws for every canary).
    progress : bool
        A progress bar counting canaries.

    Returns
    -------
    CanaryExposure
    """
    n_samples = check_positive_int(n_samples, "n_samples", minimum=10)
    rng = np.random.default_rng(check_seed(seed))
    d = canaries.n_digits
    sample = rng.integers(0, 10, size=(n_samples, d))
    canary_nll, sample_nll = [], []
    for prefix, secret in progress_bar(list(zip(canaries.prefixes, canaries.secrets)), desc="canaries scored",
                               disable=not progress, leave=False):
        scores = -secret_log_probs(model, prefix, np.vstack([_digits(secret)[None], sample]))
        canary_nll.append(scores[0])
        sample_nll.append(scores[1:])
    canary_nll, sample_nll = np.array(canary_nll), np.array(sample_nll)
    return CanaryExposure(
        np.asarray(canaries.repetitions), estimate_exposure(canary_nll, sample_nll),
        estimate_exposure(canary_nll, sample_nll, distribution="normal"), sampled_exposure(canary_nll, sample_nll),
        canary_nll, sample_nll)


def extracted(canaries, secrets: np.ndarray) -> np.ndarray:
    """Whether each canary's secret is among its found `secrets` (from `beam_search`): bool (n_canaries,)."""
    truth = np.stack([_digits(s) for s in canaries.secrets])
    return np.any(np.all(secrets == truth[:, None, :], axis=-1), axis=-1)


def extraction_report(canaries, greedy: np.ndarray, beams: np.ndarray):
    """A table: each canary's repetitions, its secret, the greedy guess, and whether the beams hold it.

    Parameters
    ----------
    canaries : Canaries
    greedy : ndarray of int64, shape (n_canaries, 1, n_digits)
        From ``beam_search(..., beam_width=1)``.
    beams : ndarray of int64, shape (n_canaries, beam_width, n_digits)

    Returns
    -------
    pandas.DataFrame
        One row per canary, most repeated first.
    """
    import pandas as pd

    return pd.DataFrame({
        "canary": [p.removesuffix(" is ") for p in canaries.prefixes],
        "repetitions": np.asarray(canaries.repetitions),
        "secret": list(canaries.secrets),
        "greedy guess": ["".join(map(str, g[0])) for g in greedy],
        "greedy right": extracted(canaries, greedy),
        f"in top {beams.shape[1]} beams": extracted(canaries, beams),
    })
