"""Differential privacy: DP-SGD with Opacus and its privacy accounting (Lesson 06).

DP-SGD (Abadi et al. 2016) changes three things in an ordinary training loop:

1. **Poisson sampling**: each step takes every record independently with probability
   ``sample_rate = batch_size / n_records`` (batches vary in size);
2. **per-record clipping**: each record's gradient is scaled down to an L2 norm of at most
   ``max_grad_norm``, so no single record can move the weights far;
3. **Gaussian noise** of standard deviation ``noise_multiplier * max_grad_norm`` is added to the
   summed clipped gradients before the optimiser (Adam here) steps.

An *accountant* turns (noise_multiplier, sample_rate, steps) into the (epsilon, delta) that the
whole run satisfies. `train_dp` asks Opacus's `PrivacyEngine.make_private_with_epsilon` for the
noise that spends exactly a target epsilon, with the PRV accountant (Opacus's default, the
tightest) and reports what the RDP accountant says about the same run, for comparison.

Per-sample gradient mode (``python -m utils.bench dp --modes``: one epsilon-8 run of `DP_RECIPE` on the
course MLP 196-128-10 and 1,250 digits, best of 3 alternated samples, ``OMP_NUM_THREADS=1``, 2-core CPU
shared with other jobs at load ~10): ``ghost`` 0.80 s, ``hooks`` 8.7 s, ``ew`` 9.6 s, ``functorch``
10.3 s; the same loop without privacy 0.57 s. (An earlier run at batch 128: ghost 0.69 s, ew 3.3 s,
hooks 3.8 s, functorch 5.0 s, non-private 0.26 s.) Ghost clipping (Li et al. 2022; Bu et al. 2023) never
stores a per-record gradient: for a linear layer the per-record gradient norm is
``||activation|| * ||output gradient||``, so it is the default here.

Recipe (`DP_RECIPE`): found by a *non-private* search on a validation split of the attacker's pool
(`utils.defenses.dp_experiment.search_recipe`; never on the target's members, so the search costs the
members no privacy; rerun with ``python -m utils.bench dp --search``). Grid: epochs {15, 30, 60} x
expected batch {256, 512} x Adam lr {3e-3, 1e-2} x max_grad_norm {1, 3}, at epsilon = 8, delta = 1e-5,
1,250 training and 1,250 validation digits (24 runs, 200 s). The search's result is recorded next to
`DP_RECIPE`.

Related modules: `utils.defenses.dp_batched` trains K DP shadow models at once with the same
mechanism (`train_dp_batched`); `utils.defenses.dp_experiment` is Lesson 06's experiment (one target
per epsilon, attacked and audited: `run_epsilon`) and the recipe search.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from dataclasses import dataclass, field

import torch
from torch import nn

from ..models import model_n_classes
from ..recipe import Recipe, as_recipe
from ..validation import check_features_labels, check_fraction, check_positive_int, check_real, check_seed

__all__ = [
    "DP_RECIPE",
    "DP_MAX_GRAD_NORM",
    "KNOWN_NOISE",
    "GRAD_SAMPLE_MODES",
    "DPTraining",
    "check_privacy_target",
    "poisson_schedule",
    "noise_multiplier_for",
    "epsilon_for",
    "train_dp",
]

# Found by `dp_experiment.search_recipe` (module docstring): validation accuracy at epsilon = 8
# (one seed, so +-0.01 is noise):
#   30 epochs, batch 256, lr 1e-2, C 3: 0.882 (best; 150 steps)   60 x 512 x 1e-2 x C 1: 0.878 (180 steps)
#   30 x 256 x 1e-2 x C 1: 0.873                                  15 x 512 x 1e-2 x C 3: 0.847 (45 steps)
#   15 x 256 x 1e-2 x C 1: 0.842     every lr 3e-3 recipe: 0.76-0.85
# Lesson 06 trains five targets and their shadows live, so the recipe is the best one at 45 steps
# (3x cheaper to train, account and shadow than the best, for 0.035 less validation accuracy).
DP_RECIPE = Recipe(epochs=15, batch_size=512, lr=1e-2)
DP_MAX_GRAD_NORM = 3.0
GRAD_SAMPLE_MODES = ("ghost", "hooks", "functorch", "ew")

# Noise multipliers already found by `noise_multiplier_for` for Lesson 06's runs (1,250 members + 118
# canaries, DP_RECIPE: 45 Poisson steps at sample rate 1/3), keyed by (epsilon, delta, sample_rate,
# steps, accountant). A PRV accountant call costs 1-4 s on a busy 2-core CPU and the search makes
# 3-4 of them per run; the lesson's assert cell (and tests/test_dp.py) check with the accountant itself
# that each entry spends its epsilon to within 0.01. Any other configuration is searched live.
KNOWN_NOISE = {
    (1.0, 1e-5, 1 / 3, 45, "prv"): 8.678574858786927,
    (2.0, 1e-5, 1 / 3, 45, "prv"): 4.691306899776803,  # Lesson 06b's sweep (1, 2, 4, 8)
    (4.0, 1e-5, 1 / 3, 45, "prv"): 2.6439767347396606,
    (8.0, 1e-5, 1 / 3, 45, "prv"): 1.574920577190328,
    (16.0, 1e-5, 1 / 3, 45, "prv"): 0.9996022867025521,
    # Lesson 06b's census game (utils.property.dp: 1,000 records, DP_CENSUS_RECIPE: 30 steps at rate 1/2)
    (0.05, 1e-5, 1 / 2, 30, "prv"): 211.3864322992386,
    (1.0, 1e-5, 1 / 2, 30, "prv"): 10.55679972691039,
    (4.0, 1e-5, 1 / 2, 30, "prv"): 3.152525943660317,
    (8.0, 1e-5, 1 / 2, 30, "prv"): 1.8306860149352113,
}


@dataclass
class DPTraining:
    """What one (DP-)SGD run returns.

    Attributes
    ----------
    model : nn.Module
        The trained model (a plain module again, in eval mode, on the CPU).
    epsilon : float
        The epsilon spent, by `accountant` (``inf`` for a non-private run).
    delta : float
    epsilon_rdp : float
        The RDP accountant's epsilon for the same run (looser than PRV's; ``inf`` if non-private).
    noise_multiplier : float
        Noise standard deviation / max_grad_norm (0 for a non-private run).
    sample_rate : float
        Poisson sampling probability of each record at each step.
    steps : int
        Optimiser steps taken.
    max_grad_norm : float
    history : list of (noise_multiplier, sample_rate, steps)
        The accountant's history (what it composed).
    accountant : str
    grad_sample_mode : str
    train_s : float
        Wall-clock seconds of the training loop (setup excluded).
    """

    model: nn.Module
    epsilon: float
    delta: float
    epsilon_rdp: float
    noise_multiplier: float
    sample_rate: float
    steps: int
    max_grad_norm: float
    history: list = field(default_factory=list)
    accountant: str = "prv"
    grad_sample_mode: str = "ghost"
    train_s: float = 0.0

    @property
    def private(self) -> bool:
        return math.isfinite(self.epsilon)


def check_privacy_target(epsilon, delta, n_records: int) -> tuple[float, float]:
    """Validate a target (epsilon, delta) for `n_records` training records; ``epsilon=inf`` means non-private."""
    n_records = check_positive_int(n_records, "n_records")
    epsilon = check_real(epsilon, "epsilon", positive=True) if not (
        isinstance(epsilon, float) and math.isinf(epsilon) and epsilon > 0) else math.inf
    delta = check_real(delta, "delta", positive=True)
    if delta >= 1.0 / n_records:
        raise ValueError(
            f"delta must be below 1 / n_records = {1.0 / n_records:.3g} (a delta of 1/n lets a mechanism publish one "
            f"record outright), got {delta!r}. Use e.g. delta=1e-5."
        )
    return epsilon, delta


def _check_accounting(sample_rate, steps, delta, accountant) -> tuple[float, int, float]:
    """Validate what an accountant composes: a sampling rate in (0, 1], steps >= 1, delta in (0, 1), its name."""
    sample_rate = check_fraction(sample_rate, "sample_rate", high_open=False)
    steps = check_positive_int(steps, "steps")
    delta = check_fraction(delta, "delta")
    if accountant not in ("prv", "rdp", "gdp"):  # Opacus's accountants
        raise ValueError(f"accountant must be 'prv', 'rdp' or 'gdp', got {accountant!r}.")
    return sample_rate, steps, delta


def poisson_schedule(n_records: int, recipe: Recipe) -> tuple[float, int]:
    """Opacus's schedule: ``ceil(n / batch_size)`` Poisson steps per epoch, each record taken with 1 / that."""
    per_epoch = math.ceil(n_records / min(recipe.batch_size, n_records))
    return 1.0 / per_epoch, recipe.epochs * per_epoch


@functools.lru_cache(maxsize=256)
def noise_multiplier_for(epsilon: float, delta: float, sample_rate: float, steps: int, accountant: str = "prv",
                         *, tolerance: float = 0.01) -> float:
    """The noise multiplier whose `steps` Poisson steps spend `epsilon` (to within `tolerance`, never above).

    Opacus's `get_noise_multiplier` (inside `make_private_with_epsilon`) bisects from sigma = 20 and
    asks the PRV accountant ~15 times (10-15 s on a busy 2-core CPU). Same answer, fewer questions: start
    from the Gaussian-DP approximation (a closed form, microseconds), then secant steps on
    log(epsilon) against log(sigma), each checked by the accountant itself (typically 3-4 calls).
    Configurations in `KNOWN_NOISE` (Lesson 06's) are looked up instead.
    """
    epsilon = check_real(epsilon, "epsilon", positive=True)
    sample_rate, steps, delta = _check_accounting(sample_rate, steps, delta, accountant)
    tolerance = check_real(tolerance, "tolerance", positive=True)
    known = KNOWN_NOISE.get((float(epsilon), float(delta), float(sample_rate), int(steps), accountant))
    if known is not None and tolerance >= 0.01:
        return known
    from opacus.accountants.analysis.gdp import delta_eps_mu
    from opacus.accountants.utils import get_noise_multiplier
    from scipy.optimize import brentq

    # Gaussian-DP start: the mu whose (epsilon, delta) curve passes through the target, then the sigma whose
    # Poisson CLT gives that mu, mu = sample_rate * sqrt(steps * (exp(sigma^-2) - 1)) (Bu et al. 2020).
    try:
        mu = brentq(lambda m: delta_eps_mu(eps=epsilon, mu=m) - delta, 1e-6, 50.0)
        log_sigma = -0.5 * math.log(math.log1p((mu / (sample_rate * math.sqrt(steps))) ** 2))
    except (ValueError, ZeroDivisionError, OverflowError):
        log_sigma = 0.0
    points = []  # (log sigma, log epsilon) checked by the accountant
    for _ in range(12):
        eps = epsilon_for(math.exp(log_sigma), sample_rate, steps, delta, accountant)
        if epsilon - tolerance <= eps <= epsilon:
            return math.exp(log_sigma)
        points.append((log_sigma, math.log(eps)))
        if len(points) == 1:
            slope = -1.0  # epsilon ~ 1 / sigma for moderate noise
        else:
            (s0, e0), (s1, e1) = points[-2], points[-1]
            slope = (e1 - e0) / (s1 - s0) if s1 != s0 else -1.0
            slope = min(slope, -0.1)  # epsilon falls as sigma grows
        # aim a little below the target so that the accepted value never exceeds it
        log_sigma = log_sigma + (math.log(epsilon - tolerance / 2) - math.log(eps)) / slope
    return float(get_noise_multiplier(target_epsilon=epsilon, target_delta=delta, sample_rate=sample_rate,
                                      steps=int(steps), accountant=accountant, epsilon_tolerance=tolerance))


@functools.lru_cache(maxsize=256)
def epsilon_for(noise_multiplier: float, sample_rate: float, steps: int, delta: float,
                accountant: str = "prv") -> float:
    """Epsilon of `steps` Poisson-subsampled Gaussian steps, by the PRV or RDP accountant.

    Remembered per process (an accountant call takes 0.5-2 s on a busy CPU; the answer depends on the
    arguments only).
    """
    noise_multiplier = check_real(noise_multiplier, "noise_multiplier", positive=True)
    sample_rate, steps, delta = _check_accounting(sample_rate, steps, delta, accountant)
    from opacus.accountants import create_accountant

    acc = create_accountant(mechanism=accountant)
    acc.history = [(float(noise_multiplier), float(sample_rate), int(steps))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RDP's "optimal order is the largest alpha": its bound is still valid
        return float(acc.get_epsilon(delta=delta))


def train_dp(
    model: nn.Module,
    X,
    y,
    recipe: Recipe | None = None,
    *,
    epsilon: float,
    delta: float = 1e-5,
    max_grad_norm: float = DP_MAX_GRAD_NORM,
    accountant: str = "prv",
    grad_sample_mode: str = "ghost",
    noise_search: str = "fast",
    seed: int = 0,
) -> DPTraining:
    """Train `model` with DP-SGD (Opacus) so that it is (epsilon, delta)-DP towards its training records.

    Parameters
    ----------
    model : nn.Module
        E.g. ``utils.models.MLP()`` (no BatchNorm: Opacus's `ModuleValidator` checks). Trained in place.
    X : array-like of float, shape (n_records, ...)
    y : array-like of int, shape (n_records,)
    recipe : Recipe, default `DP_RECIPE`
        ``batch_size`` is the *expected* Poisson batch; Adam with ``lr``.
    epsilon : float > 0, or ``math.inf``
        Target epsilon. ``inf`` runs the *same* loop (same batches' expected size, optimiser and
        epochs, uniform shuffled batches) with no clipping and no noise: the non-private twin used
        to time DP's cost side by side.
    delta : float, default=1e-5
        Must be below ``1 / n_records``.
    max_grad_norm : float, default=1.0
        Per-record clipping norm.
    accountant : {"prv", "rdp"}, default="prv"
        Picks the noise; the other accountant's epsilon is reported too.
    grad_sample_mode : {"ghost", "hooks", "functorch", "ew"}, default="ghost"
        Opacus's per-sample gradient engine (ghost is fastest on a CPU for the course MLP).
    noise_search : {"fast", "opacus"}, default="fast"
        "opacus" calls ``PrivacyEngine.make_private_with_epsilon`` (its own bisection, ~15 accountant
        calls); "fast" finds the same noise with `noise_multiplier_for` (~4 calls) and hands it to
        ``make_private``. Both spend at most `epsilon` (tests check they agree).
    seed : int
        Seeds the Poisson batches and the noise.

    Returns
    -------
    DPTraining
    """
    from opacus import PrivacyEngine
    from opacus.validators import ModuleValidator

    recipe = as_recipe(DP_RECIPE if recipe is None else recipe)
    seed = check_seed(seed)
    X, y = check_features_labels(X, y, n_classes=model_n_classes(model))
    epsilon, delta = check_privacy_target(epsilon, delta, len(y))
    max_grad_norm = check_real(max_grad_norm, "max_grad_norm", positive=True)
    if accountant not in ("prv", "rdp"):
        raise ValueError(f"accountant must be 'prv' or 'rdp', got {accountant!r}.")
    if grad_sample_mode not in GRAD_SAMPLE_MODES:
        raise ValueError(f"grad_sample_mode must be one of {GRAD_SAMPLE_MODES}, got {grad_sample_mode!r}.")
    if noise_search not in ("fast", "opacus"):
        raise ValueError(f"noise_search must be 'fast' or 'opacus', got {noise_search!r}.")
    errors = ModuleValidator.validate(model, strict=False)
    if errors:
        raise ValueError(
            "Opacus cannot train this model privately: " + "; ".join(str(e) for e in errors)
            + ". Fix it with opacus.validators.ModuleValidator.fix(model) (e.g. BatchNorm -> GroupNorm)."
        )
    model = model.cpu().train()
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    batch_size = min(recipe.batch_size, len(y))
    sample_rate, steps = poisson_schedule(len(y), recipe.replace(batch_size=batch_size))
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    criterion = nn.CrossEntropyLoss()
    noise, history = 0.0, []
    if math.isfinite(epsilon):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "secure RNG turned off": fine for teaching, said in the lesson
            engine = PrivacyEngine(accountant=accountant)
        common = dict(module=model, optimizer=optimizer, data_loader=loader, criterion=criterion,
                      max_grad_norm=max_grad_norm, poisson_sampling=True, grad_sample_mode=grad_sample_mode,
                      noise_generator=torch.Generator().manual_seed(seed + 1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "secure RNG turned off": fine for teaching, said in the lesson
            if noise_search == "opacus":
                out = engine.make_private_with_epsilon(target_epsilon=epsilon, target_delta=delta,
                                                       epochs=recipe.epochs, **common)
            else:
                sigma = noise_multiplier_for(epsilon, delta, 1.0 / len(loader), recipe.epochs * len(loader), accountant)
                out = engine.make_private(noise_multiplier=sigma, **common)
        if grad_sample_mode == "ghost":
            dp_model, optimizer, criterion, loader = out
        else:
            dp_model, optimizer, loader = out
        noise = float(optimizer.noise_multiplier)
    else:
        dp_model = model
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(recipe.epochs):
            for xb, yb in loader:
                if len(yb) == 0:  # a Poisson batch can be empty; the step still counts (and adds noise)
                    optimizer.zero_grad(set_to_none=True)
                    optimizer.step() if math.isfinite(epsilon) else None
                    continue
                optimizer.zero_grad(set_to_none=True)
                loss = criterion(dp_model(xb), yb)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # ghost clipping's "full backward hook" notice
                    loss.backward()
                optimizer.step()
    train_s = time.perf_counter() - start
    spent = spent_rdp = math.inf
    if math.isfinite(epsilon):
        history = list(engine.accountant.history)
        steps = sum(h[2] for h in history)
        if len({(h[0], h[1]) for h in history}) != 1:
            raise RuntimeError(f"expected one noise level and sample rate in the accountant's history, got {history}.")
        # The accountant composes `steps` identical Poisson-Gaussian steps: ask it once per mechanism.
        spent = epsilon_for(history[0][0], history[0][1], steps, delta, accountant)
        spent_rdp = epsilon_for(history[0][0], history[0][1], steps, delta, "rdp")
        model = dp_model._module if hasattr(dp_model, "_module") else model
        if hasattr(dp_model, "_close"):
            dp_model._close()
    return DPTraining(model=model.eval(), epsilon=spent, delta=delta, epsilon_rdp=spent_rdp, noise_multiplier=noise,
                      sample_rate=sample_rate, steps=int(steps), max_grad_norm=max_grad_norm, history=history,
                      accountant=accountant, grad_sample_mode=grad_sample_mode, train_s=train_s)
