"""The deviation curve the curve encoder reads: level removal on the analysis bands.

The analyzer measures the input's long-term spectrum on ``ANALYSIS_FREQS`` (28 third-octave bands,
31.5 Hz-16 kHz) and subtracts a reference spectrum. The absolute level of that difference is
meaningless (it depends on how loud the band plays, not on its tone), so the curve encoder only
sees the curve *minus its mean over the mid bands* (100 Hz-5 kHz): the bands where music reliably
has energy, and so where the level estimate is least noisy. The removal is idempotent, so callers
may pass a raw or an already level-free deviation.
"""

from __future__ import annotations

import numpy as np

from ..params import ANALYSIS_FREQS

LEVEL_BAND_RANGE_HZ = (100.0, 5000.0)


def level_mask(freqs=ANALYSIS_FREQS) -> np.ndarray:
    f = np.asarray(freqs, dtype=np.float64)
    return (f >= LEVEL_BAND_RANGE_HZ[0]) & (f <= LEVEL_BAND_RANGE_HZ[1])


_MASK = level_mask()


def remove_level(dev_db) -> np.ndarray:
    """``dev_db [..., 28]`` minus its mean over the mid bands (a new float64 array)."""
    dev = np.asarray(dev_db, dtype=np.float64)
    if dev.shape[-1:] != ANALYSIS_FREQS.shape:
        raise ValueError(f"expected a deviation curve on the {ANALYSIS_FREQS.size} analysis bands "
                         f"(semeq_live.params.ANALYSIS_FREQS), got shape {dev.shape}")
    return dev - dev[..., _MASK].mean(axis=-1, keepdims=True)
