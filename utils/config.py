"""Course-wide switches: the `COURSE_FAST` size switch and the compute device (Lesson 01).

`COURSE_FAST=1` (set by the tests and CI) shrinks *sizes* only -- epochs, numbers of
models, grid points -- never the code path, so the fast run exercises exactly the code
a student runs.
"""

from __future__ import annotations

import os

import torch

__all__ = ["is_fast", "pick", "default_device"]


def is_fast() -> bool:
    """True when the environment variable ``COURSE_FAST`` is set to ``1`` (read at call time)."""
    return os.environ.get("COURSE_FAST", "0").strip() == "1"


def pick(default, fast):
    """Return `fast` when `COURSE_FAST=1`, else `default`.

    Use it for sizes only, e.g. ``epochs = pick(default=40, fast=10)``.
    """
    return fast if is_fast() else default


def default_device() -> torch.device:
    """The GPU when one is present (``cuda``), else the CPU. The course never requires a GPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
