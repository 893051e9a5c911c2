"""Seeding: one call at the top of each notebook, and independent seeds for many models (Lesson 01)."""

from __future__ import annotations

import random

import numpy as np
import torch

from .validation import check_positive_int, check_seed

__all__ = ["seed_everything", "spawn_seeds"]


def seed_everything(seed: int) -> None:
    """Seed Python's `random`, NumPy's legacy global RNG and torch (CPU and CUDA).

    Call it once at the top of a notebook. Library functions do not rely on it: every
    function that draws random numbers takes its own ``seed=`` so results do not depend on
    the order in which cells are run.
    """
    seed = check_seed(seed)
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))


def spawn_seeds(seed: int, n: int) -> list[int]:
    """`n` statistically independent integer seeds derived from one `seed`.

    Model ``k`` of a batch is trained with ``spawn_seeds(seed, K)[k]``, so training it alone
    with that seed reproduces it (see `utils.train.train_batched`).
    """
    seed = check_seed(seed)
    n = check_positive_int(n, "n", minimum=0)
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]
