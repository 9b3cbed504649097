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
