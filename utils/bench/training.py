"""Benchmark: K shadow models with `train_batched` against a loop of `train_model` (Lesson 03's workload).

    python -m utils.bench [training] [--models K] [--epochs E] [--repeats R] [--threads T] [--quick]

Trains K default-shaped MLPs (``MLP()``: 196-128-10), each on its own 1,250 of the 5,000 digits,
once as a batch and once one by one, and times a dense ``torch.matmul`` as the machine's practical
ceiling. Prints one ``name = value`` line per figure; nothing here is asserted (timings on shared
machines are noisy). Each figure is the best of `repeats` samples (5 by default: on a shared
2-core host the same run can take 1.5 s or 2.1 s minutes apart), the usual defence against noise
from other processes, and the three are measured alike so that none gets more chances than the
others: the runs of the two trainers and the matmul samples (each about as long as one batched
run at the default size) are interleaved, one of each per round.

Useful FLOPs are counted per training record and epoch, over the weight matrices only (biases,
activations, the loss and the optimiser are overhead, not useful work):
forward ``2 * weights``; backward ``2 * weights`` for the weight gradients plus ``2 * weights``
for the input gradients of every layer except the first (nothing needs the gradient of the data).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..config import pick
from ..data import load_digits
from ..inference import predict_logits
from ..models import MLP
from ..seed import spawn_seeds
from ..train import init_model, train_batched, train_model

__all__ = ["TrainingBench", "useful_flops_per_record", "time_matmul", "run", "headline", "main"]


@dataclass(frozen=True)
class TrainingBench:
    """The figures `main` prints (times in seconds, rates in GFLOP/s)."""

    n_models: int
    epochs: int
    n_train: int
    threads: int
    loop_s: float
    batched_s: float
    useful_gflop: float
    matmul_shape: tuple
    matmul_gflops: float
    max_logit_diff: float
    samples: dict  # every sample behind loop_s, batched_s and matmul_gflops, in the order taken

    @property
    def speedup(self) -> float:
        """How many times faster the batched trainer is than the loop (loop_s / batched_s)."""
        return self.loop_s / self.batched_s

    @property
    def achieved_gflops(self) -> float:
        """Useful training FLOPs per second of the batched trainer."""
        return self.useful_gflop / self.batched_s

    @property
    def roofline_fraction(self) -> float:
        """Achieved GFLOP/s over the dense-matmul GFLOP/s of the same machine."""
        return self.achieved_gflops / self.matmul_gflops


def useful_flops_per_record(model: nn.Module) -> int:
    """Useful FLOPs to train `model` on one record for one epoch (see the module docstring).

    Counts the ``nn.Linear`` weight matrices in the order they are applied; an MLP of layer
    widths 196-128-10 gives ``4 * (196*128 + 128*10) + 2 * 128*10``.
    """
    weights = [m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear)]
    if not weights:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to count FLOPs for.")
    return 4 * sum(weights) + 2 * sum(weights[1:])


def time_matmul(rows: int, inner: int, cols: int, *, min_s: float = 0.3, rounds: int = 1) -> float:
    """GFLOP/s of ``(rows, inner) @ (inner, cols)`` in float32: best of `rounds`, each at least `min_s` long."""
    a, b = torch.randn(rows, inner), torch.randn(inner, cols)
    out = torch.empty(rows, cols)
    for _ in range(3):  # warm-up: thread pool and allocator
        torch.matmul(a, b, out=out)
    start, reps = time.perf_counter(), 0
    while time.perf_counter() - start < min_s / 4:
        torch.matmul(a, b, out=out)
        reps += 1
    reps = max(4 * reps, 1)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(reps):
            torch.matmul(a, b, out=out)
        best = min(best, (time.perf_counter() - start) / reps)
    return 2.0 * rows * inner * cols / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run(
    n_models: int = 32,
    epochs: int = 50,
    n_train: int = 1250,
    *,
    repeats: int = 5,
    batch_size: int = 128,
    seed: int = 0,
    matmul_min_s: float = 1.0,
) -> TrainingBench:
    """Time both trainers on the same K subsets (CPU); returns the figures without printing them."""
    digits = load_digits()
    X, y = digits.X, digits.y
    rng = np.random.default_rng(seed)
    subsets = np.stack([rng.choice(len(y), n_train, replace=False) for _ in range(n_models)])
    seeds = spawn_seeds(seed, n_models)
    kwargs = dict(epochs=epochs, batch_size=batch_size, seed=seed, device="cpu")

    def loop():
        return [
            train_model(init_model(MLP, s), X[idx], y[idx], epochs=epochs, batch_size=batch_size, seed=s, device="cpu")
            for s, idx in zip(seeds, subsets)
        ]

    # Warm-up (first calls pay for lazy initialisation in torch and the BLAS library).
    train_batched(MLP, X, y, subsets[:2, : min(n_train, 256)], **{**kwargs, "epochs": 1})
    train_model(init_model(MLP, 0), X[:256], y[:256], epochs=1, device="cpu")
    first = MLP().net[1]
    shape = (n_models * batch_size, first.in_features, first.out_features)
    samples = {"loop_s": [], "batched_s": [], "matmul_gflops": []}
    # Interleaved, so that a burst of load from other processes hits all three alike; the best
    # of each (shortest time, highest rate) is the machine's figure.
    for _ in range(repeats):
        t_loop, looped = _timed(loop)
        t_batched, batch = _timed(lambda: train_batched(MLP, X, y, subsets, **kwargs))
        samples["loop_s"].append(t_loop)
        samples["batched_s"].append(t_batched)
        samples["matmul_gflops"].append(time_matmul(*shape, min_s=matmul_min_s))
    probe = X[:500]
    batched_logits = predict_logits(batch, probe)
    diff = max(float(np.abs(batched_logits[k] - predict_logits(m, probe)).max()) for k, m in enumerate(looped))

    flops = useful_flops_per_record(MLP()) * n_train * n_models * epochs
    return TrainingBench(
        n_models=n_models,
        epochs=epochs,
        n_train=n_train,
        threads=torch.get_num_threads(),
        loop_s=min(samples["loop_s"]),
        batched_s=min(samples["batched_s"]),
        useful_gflop=flops / 1e9,
        matmul_shape=shape,
        matmul_gflops=max(samples["matmul_gflops"]),
        max_logit_diff=diff,
        samples=samples,
    )


def main(argv=None) -> int:
    """Command line: print one ``name = value`` line per figure."""
    parser = argparse.ArgumentParser(prog="python -m utils.bench training", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=None,
                        help="K, the number of models (default 32; 8 with COURSE_FAST=1)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per model (default 50; 5 with COURSE_FAST=1)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed samples of each figure; the best counts (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 4 models, 2 epochs, 256 records each, 1 repeat")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    given = lambda value, default: default if value is None else value  # noqa: E731
    if args.quick:
        n_models, epochs, n_train, repeats = given(args.models, 4), given(args.epochs, 2), 256, 1
    else:
        n_models = given(args.models, pick(default=32, fast=8))
        epochs = given(args.epochs, pick(default=50, fast=5))
        n_train, repeats = 1250, args.repeats
    if n_models < 1 or epochs < 1 or repeats < 1:
        parser.error("--models, --epochs and --repeats must be >= 1")
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    result = run(n_models, epochs, n_train, repeats=repeats, matmul_min_s=0.05 if args.quick else 1.0)
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows, inner, cols = result.matmul_shape
    print(
        f"# {result.n_models} x MLP() 196-128-10, {result.n_train} records each, {result.epochs} epochs, "
        f"batch 128, CPU, {result.threads} torch threads, best of {repeats}"
    )
    print(f"# 1-minute load average {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} CPUs "
          "(other processes skew timings)")
    print(f"# ceiling: float32 matmul ({rows} x {inner}) @ ({inner} x {cols}), the batched first layer's product")
    for name, values in result.samples.items():
        print(f"# {name} samples: " + ", ".join(f"{v:.3f}" if name.endswith("_s") else f"{v:.1f}" for v in values))
    print(f"loop_s = {result.loop_s:.3f}")
    print(f"batched_s = {result.batched_s:.3f}")
    print(f"speedup = {result.speedup:.2f}")
    print(f"useful_gflop = {result.useful_gflop:.1f}")
    print(f"achieved_gflops = {result.achieved_gflops:.1f}")
    print(f"matmul_gflops = {result.matmul_gflops:.1f}")
    print(f"roofline_fraction = {result.roofline_fraction:.2f}")
    print(f"max_logit_diff = {result.max_logit_diff:.2e}  (batched vs looped model k, on 500 digits)")
    return 0


def headline() -> list[tuple[str, float]]:
    """The figures `python -m utils.bench all` lists (protocol: utils/bench/all.py): speedup and batched time.

    Lesson 03's workload at the course's sizes (32 models x 50 epochs; 8 x 5 with COURSE_FAST=1),
    one sample (the loop of 32 models dominates): about a minute on a busy 2-core machine.
    """
    result = run(pick(default=32, fast=8), pick(default=50, fast=5), 1250, repeats=1, matmul_min_s=0.3)
    return [(f"batched vs looped training of {result.n_models} shadow models, speedup (x)", result.speedup),
            (f"batched training of {result.n_models} models x {result.epochs} epochs (s)", result.batched_s)]
