"""Class-balanced sampling: the data is dominated by two terms (warm, bright)."""

from __future__ import annotations

from collections import Counter

import numpy as np

BALANCE_POWER = 0.5  # sampling weight count**-0.5: rare terms seen far more often, not 100x more


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """Sampling probabilities ~ count(label)**-BALANCE_POWER (unlabelled rows are one class)."""
    counts = Counter(labels.tolist())
    w = np.array([counts[l] ** -BALANCE_POWER for l in labels])
    return w / w.sum()



def batch_sampler(safe_labels: np.ndarray, crowd_labels: np.ndarray, safe_batch: int,
                  crowd_batch: int, seed: int = 0):
    """``draw(rng) -> indices``: ``safe_batch`` SAFE rows, then ``crowd_batch`` crowd rows.

    Rows are indexed SAFE first, crowd after. Each source is class-balanced on its own, and SAFE's
    part of a batch is what it was before the crowd words came (the crowd rows are added on top and
    drawn from their own generator, so the SAFE draws are the very same): warm and bright, SAFE's
    real, varied settings, are learnt as before.
    """
    n_safe = len(safe_labels)
    w_safe = balanced_weights(safe_labels)
    w_crowd = balanced_weights(crowd_labels) if len(crowd_labels) and crowd_batch > 0 else None
    crowd_rng = np.random.default_rng([seed, 1])

    def draw(rng: np.random.Generator) -> np.ndarray:
        idx = rng.choice(n_safe, size=safe_batch, p=w_safe)
        if w_crowd is None:
            return idx
        return np.concatenate([idx, n_safe + crowd_rng.choice(len(crowd_labels), size=crowd_batch,
                                                              p=w_crowd)])

    return draw
