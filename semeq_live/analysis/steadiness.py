"""How steady each band of the live window is: the term profile's say per band.

A sparse source (a mallet, a brass or lead line) plays a handful of notes in the judged 4 s, and
which ones moves the bands holding their fundamentals by 10-20 dB from one stretch to the next,
far more than a warm or bright EQ differs there. Judged with full weight, those bands decided the
profile's warm-vs-bright ranking (issue 11: mallet warm-shaped 64 %, brass bright-shaped 68 %,
lead warm-shaped 89 %). The window's own segments say how sure each band's mean level is (the
same measure as a learned reference's ``band_reliability``), and the deviation is a difference
of two such means, so its uncertainty is the sum of both: ``combined_reliability``.

A band whose level is as unsure as all the others keeps its say: the profile's weights are
relative, so only bands steadier or less steady than the rest change the ranking.
"""

from __future__ import annotations

import numpy as np

from .reference import band_reliability


def window_reliability(segment_power: np.ndarray) -> np.ndarray:
    """``[28]`` ``band_reliability`` of the mean of ``segment_power`` (``[n, 28]`` linear)."""
    seg = np.asarray(segment_power, dtype=np.float64)
    return band_reliability(seg.mean(axis=0), (seg * seg).mean(axis=0), seg.shape[0])


def combined_reliability(*reliabilities) -> np.ndarray:
    """The reliability of a difference of independent band levels, each with its own
    ``band_reliability`` (None = known exactly): their squared standard errors add, and
    ``1 / r - 1`` is that squared error in ``RELIABLE_SE_DB`` units."""
    inverse = 1.0
    for r in reliabilities:
        if r is not None:
            inverse = inverse + (1.0 / np.asarray(r, dtype=np.float64) - 1.0)
    return 1.0 / inverse
