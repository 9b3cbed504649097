"""Least-squares SAFE-layout (5-band) fits of target EQ curves, all at once in torch.

Each setting is optimised in the parameter coding of ``training.nets`` (a sigmoid inside each
band's SAFE range, gains +-12 dB, frequency and Q on a log scale), so every fit is a setting the
SAFE plugin, the decoder heads and the live kernel can all express. Adam on the dB error, from a
flat start plus seeded random starts; the best start per target wins (the problem has local
minima: a peak can settle on the wrong bump). Deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np
import torch

from .nets import param_coding
from .response import response_db_torch

FIT_RESTARTS = 8
FIT_STEPS = 600
FIT_LR = 0.08


def fit_settings(targets_db: np.ndarray, freqs: np.ndarray, sample_rate: float, seed: int = 0,
                 restarts: int = FIT_RESTARTS, steps: int = FIT_STEPS) -> np.ndarray:
    """SAFE settings ``[n, 13]`` whose responses best match ``targets_db [n, len(freqs)]`` (RMS dB)."""
    targets = torch.tensor(np.asarray(targets_db, dtype=np.float64))
    n = targets.shape[0]
    is_log, lo, hi = (torch.tensor(a) for a in param_coding())
    gen = torch.Generator().manual_seed(seed)
    raw = torch.randn(restarts, n, lo.shape[0], generator=gen, dtype=torch.float64)
    raw[0] = 0.0  # the flat, mid-range setting
    raw.requires_grad_(True)
    opt = torch.optim.Adam([raw], lr=FIT_LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)

    def settings(r):
        t = lo + (hi - lo) * torch.sigmoid(r)
        return torch.where(is_log, torch.exp(t), t)

    for _ in range(steps):
        err = torch.mean((response_db_torch(settings(raw), freqs, sample_rate) - targets) ** 2, -1)
        opt.zero_grad()
        err.sum().backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        p = settings(raw)
        err = torch.mean((response_db_torch(p, freqs, sample_rate) - targets) ** 2, -1)
        best = torch.argmin(err, dim=0)
        return p[best, torch.arange(n)].numpy()
