"""The optimiser of both trainers: Adam through PyTorch's fused kernel (Lesson 01's recipe).

`make_optimizer` picks the fused kernel where it exists (CPU, CUDA) and `torch.optim.Adam`
elsewhere; both apply the same update.
"""

from __future__ import annotations

import torch

__all__ = ["FusedAdam", "make_optimizer"]


class FusedAdam:
    """Adam through PyTorch's fused kernel: the update of ``torch.optim.Adam(fused=True)``, step for step.

    Calling the kernel directly skips torch.optim's per-step Python wrapper and, above all, the
    import of ``torch._dynamo`` that torch.optim triggers the first time a process creates an
    optimiser (3-8 s on 2 CPU cores: that is the first training cell of every notebook and of
    every graded kernel). Parameters without a gradient are skipped, as torch.optim does.

    One difference, on the CPU only: every `FLUSH_EVERY` steps, first moments below `FLUSH_BELOW`
    in size are set to 0. Where a gradient stays 0 (a dead hidden unit, a pixel that is blank in
    every record of a batch) the first moment shrinks by 0.9 a step, and after about 70 epochs of
    the course's training it reaches the *denormal* range below 1.2e-38, where CPUs compute many
    times more slowly: Adam's step took 5x longer. A moment needs 175 steps to fall from 1e-30 to
    there, so none ever does; and a moment below 1e-30 moves its weight by at most
    ``lr * 1e-30 / eps`` (3e-25 here) a step. (``torch.set_flush_denormal`` would be the usual cure,
    but it does not reach the worker threads of a thread pool that already exists.) The second
    moment shrinks by 0.999 a step and never gets there in a course-sized run.
    """

    FLUSH_EVERY = 16
    FLUSH_BELOW = 1e-30

    def __init__(self, params, *, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        device = self.params[0].device if self.params else None
        # One step count per parameter, as torch.optim keeps them, as views of one tensor so that
        # the usual step (every parameter has a gradient) counts them all with a single add.
        self._counts = torch.zeros(len(self.params), dtype=torch.float32, device=device)
        self.step_count = list(self._counts.unbind())
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self._n_steps = 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every gradient (always set to None, whatever `set_to_none` says)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        if len(live) == len(self.params):
            self._counts.add_(1)
        else:
            self._counts[live] += 1
        pick = lambda items: [items[i] for i in live]  # noqa: E731
        torch._fused_adam_(
            pick(self.params), [self.params[i].grad for i in live], pick(self.exp_avg), pick(self.exp_avg_sq),
            [], pick(self.step_count), amsgrad=False, lr=self.lr, beta1=self.betas[0], beta2=self.betas[1],
            weight_decay=self.weight_decay, eps=self.eps, maximize=False, grad_scale=None, found_inf=None,
        )
        self._n_steps += 1
        if self._n_steps % self.FLUSH_EVERY == 0:
            self._flush_denormals()

    def _flush_denormals(self) -> None:
        for m in self.exp_avg:
            if m.device.type == "cpu":
                # hardshrink(x, t) keeps x where |x| > t and writes 0 elsewhere.
                torch.ops.aten.hardshrink.out(m, self.FLUSH_BELOW, out=m)


def make_optimizer(params, lr: float, weight_decay: float, device: torch.device):
    """Adam over `params`: the fused kernel on the CPU and CUDA, `torch.optim.Adam` elsewhere."""
    # The fused kernel does the whole Adam update in one pass (about 5x faster on 2 CPU cores
    # for 32 stacked models); it is elementwise, so stacking models does not couple them.
    if device.type in ("cpu", "cuda"):
        return FusedAdam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
