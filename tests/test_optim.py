"""utils.optim: the fused Adam kernel both trainers use."""

import torch
from torch import nn

from utils.optim import FusedAdam


def test_fused_adam_matches_torch_optim_adam_step_for_step():

    torch.manual_seed(0)
    ours, theirs = nn.Linear(5, 3), nn.Linear(5, 3)
    theirs.load_state_dict(ours.state_dict())
    frozen_ours, frozen_theirs = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))  # never gets a gradient
    # A parameter with a gradient on every third step only: its step count (Adam's bias
    # correction) must lag behind the others', as in torch.optim.
    sometimes_ours, sometimes_theirs = nn.Parameter(torch.ones(3)), nn.Parameter(torch.ones(3))
    opt_ours = FusedAdam([*ours.parameters(), frozen_ours, sometimes_ours], lr=1e-2, weight_decay=1e-3)
    opt_theirs = torch.optim.Adam(
        [*theirs.parameters(), frozen_theirs, sometimes_theirs], lr=1e-2, weight_decay=1e-3, fused=True
    )
    for step in range(25):
        x = torch.randn(8, 5)
        for model, sometimes, opt in ((ours, sometimes_ours, opt_ours), (theirs, sometimes_theirs, opt_theirs)):
            opt.zero_grad()
            loss = model(x).pow(2).sum()
            if step % 3 == 0:
                loss = loss + (sometimes * x[0, :3]).pow(2).sum()
            loss.backward()
            opt.step()
    for p, q in zip([*ours.parameters(), sometimes_ours], [*theirs.parameters(), sometimes_theirs]):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert torch.equal(frozen_ours, torch.ones(2))


def test_fused_adam_keeps_first_moments_out_of_the_denormal_range():
    # One gradient, then 850 steps without: torch's first moment decays to 0.1 * 0.9**849, about
    # 1e-40, a denormal (CPU arithmetic on those is many times slower). Ours flushes it to 0 long
    # before, and the weights still agree: the flushed moments could move them by < 1e-20.

    ours, theirs = nn.Parameter(torch.ones(4)), nn.Parameter(torch.ones(4))
    opt_ours = FusedAdam([ours], lr=1e-3, weight_decay=0.0)
    opt_theirs = torch.optim.Adam([theirs], lr=1e-3, fused=True)
    for step in range(850):
        for p, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            p.grad = torch.full((4,), 1.0 if step == 0 else 0.0)
            opt.step()
    tiny = torch.finfo(torch.float32).tiny
    theirs_m = opt_theirs.state[theirs]["exp_avg"].abs()
    assert ((theirs_m > 0) & (theirs_m < tiny)).all()  # the scenario does reach the denormals
    assert torch.equal(opt_ours.exp_avg[0], torch.zeros(4))
    torch.testing.assert_close(ours.detach(), theirs.detach(), rtol=0, atol=1e-12)
