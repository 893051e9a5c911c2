"""Benchmarks that print their figures (never timed tests).

    python -m utils.bench              # batched vs looped shadow training, and the matmul ceiling
    python -m utils.bench notebooks    # wall time of every lesson and solution notebook
    python -m utils.bench attacks      # one row per attack on the default target

Each sub-benchmark lives in its own module (`training`, `notebooks`, `attacks`) with a `main(argv)`.
"""

__all__ = []  # modules only: each is a command (`python -m utils.bench NAME`)
