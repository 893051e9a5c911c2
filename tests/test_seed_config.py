"""Tests for utils.seed and utils.config."""

import random

import numpy as np
import pytest
import torch

from utils.config import default_device, is_fast, pick
from utils.seed import seed_everything, spawn_seeds


def draws():
    """One draw from each random number generator that seed_everything seeds."""
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


# ----------------------------------------------------------------------------- seed_everything


def test_seed_everything_makes_python_numpy_and_torch_draws_repeat():
    seed_everything(123)
    first = draws()
    seed_everything(123)
    assert draws() == first


def test_different_seeds_give_different_draws():
    seed_everything(0)
    zero = draws()
    seed_everything(1)
    one = draws()
    assert all(a != b for a, b in zip(zero, one))


def test_seed_everything_accepts_numpy_integers_and_large_seeds():
    seed_everything(np.int64(5))
    first = draws()
    seed_everything(5)
    assert draws() == first
    seed_everything(2**40 + 3)  # larger than NumPy's legacy 32-bit seed range


@pytest.mark.parametrize("seed", [1.5, "0", None, True, -1])
def test_seed_everything_rejects_non_integers(seed):
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer"):
        seed_everything(seed)


# ----------------------------------------------------------------------------- spawn_seeds


def test_spawn_seeds_are_reproducible_distinct_and_32_bit():
    seeds = spawn_seeds(0, 64)
    assert seeds == spawn_seeds(0, 64)
    assert len(seeds) == 64 and len(set(seeds)) == 64
    assert all(type(s) is int and 0 <= s < 2**32 for s in seeds)


def test_spawn_seeds_depend_on_the_parent_seed():
    assert set(spawn_seeds(0, 16)).isdisjoint(spawn_seeds(1, 16))


def test_spawn_seeds_keep_earlier_models_when_more_are_added():
    # Model k keeps its seed when a lesson trains more shadow models.
    assert spawn_seeds(7, 8)[:3] == spawn_seeds(7, 3)


def test_spawn_seeds_are_not_the_parent_seed_or_a_counter():
    seeds = spawn_seeds(0, 4)
    assert seeds != [0, 1, 2, 3] and seeds != [1, 2, 3, 4]


def test_spawn_zero_seeds_is_empty_and_negative_count_is_rejected():
    assert spawn_seeds(3, 0) == []
    with pytest.raises(ValueError, match=r"n must be an integer >= 0, got -1"):
        spawn_seeds(3, -1)
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer"):
        spawn_seeds(-1, 2)


# ----------------------------------------------------------------------------- config


def test_pick_follows_course_fast(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert is_fast() and pick(default=40, fast=10) == 10
    monkeypatch.setenv("COURSE_FAST", "0")
    assert not is_fast() and pick(default=40, fast=10) == 40
    monkeypatch.delenv("COURSE_FAST")
    assert not is_fast() and pick(default=40, fast=10) == 40


def test_pick_reads_the_environment_at_call_time(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", " 1 ")
    assert pick(default="full", fast="fast") == "fast"
    monkeypatch.setenv("COURSE_FAST", "true")  # only "1" switches it on
    assert pick(default="full", fast="fast") == "full"


def test_the_test_suite_runs_in_fast_mode():
    assert is_fast()  # set by tests/conftest.py; lessons shrink under test


def test_default_device_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert default_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device() == torch.device("cuda")
