"""Supervised contrastive loss (Khosla et al. 2020, the "NT-Xent" of the seed reports)."""

from __future__ import annotations

import torch


def supervised_contrastive(proj: torch.Tensor, labels: torch.Tensor, tau: float = 0.1) -> torch.Tensor:
    """Mean SupCon loss over anchors that have at least one positive.

    ``proj``: ``[n, d]`` unit vectors; ``labels``: ``[n]`` ints, ``-1`` = unlabelled (used as
    neither anchor nor positive, only as a negative would bias rare terms, so it is left out).
    """
    keep = labels >= 0
    proj, labels = proj[keep], labels[keep]
    n = proj.shape[0]
    if n < 2:
        return proj.sum() * 0.0
    sim = proj @ proj.T / tau
    self_mask = torch.eye(n, dtype=torch.bool, device=proj.device)
    sim = sim.masked_fill(self_mask, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    pos = (labels[:, None] == labels[None, :]) & ~self_mask
    n_pos = pos.sum(1)
    has_pos = n_pos > 0
    if not has_pos.any():
        return proj.sum() * 0.0
    mean_log_prob = log_prob.masked_fill(~pos, 0.0).sum(1)[has_pos] / n_pos[has_pos]
    return -mean_log_prob.mean()
