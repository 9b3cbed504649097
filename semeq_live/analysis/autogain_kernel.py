"""The numba part of ``AutoGain.observe``: the two tracked spectra, their shapes and their
K-weighting-ready forms in one pass.

Auto-gain observes the newest audio at every analyzer update (10 a second) and predicts at every
engine call. In numpy that was some twenty calls on 28-band arrays, each with its own temporary:
most of the engine's time at a refresh. Here the arithmetic is numpy's, operation for operation
(elementwise in the same order, every sum numpy's pairwise sum, no fast-math), so the tracked
spectra and the predictions are bit for bit what they were (``tests/test_loudness.py``). The
dot products with the K-weighted band gains stay numpy's (BLAS adds in its own order).

``cache=True``; the control path's warm-up (``control/warm_up.py``) loads it before a show needs it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .pairwise_sum import pairwise_sum

# Rows of ``observe``'s output block.
SLOW, FAST, SHAPE, FAST_SHAPE, WEIGHTED, FAST_WEIGHTED = range(6)


@njit(cache=True)
def observe(band_power, valid, width, slow, fast, a_slow, a_fast, started, out):
    """Average ``band_power`` into the tracked powers; False (``out`` unused) when it is no
    spectrum to follow (nothing positive, or a NaN or infinity in a valid band).

    ``out`` ``[6, n]`` receives: the slow and fast tracked powers (``slow + a * (p - slow)``, or
    ``p`` itself when nothing was tracked yet: ``started`` False), their shapes (normalised to sum
    1) and those shapes times ``width`` (what ``LoudnessPredictor`` weighs by K).
    """
    n = band_power.size
    p = out[SLOW]  # the masked spectrum first; the slow average is written over it below
    for i in range(n):
        p[i] = band_power[i] if valid[i] else 0.0
    total = pairwise_sum(p, 0, n)
    if not total > 0.0:
        return False
    if not math.isfinite(total):  # a NaN or infinity, or finite powers summing past the range
        for i in range(n):
            if not math.isfinite(p[i]):
                return False
    s = out[SLOW]
    f = out[FAST]
    if started:
        for i in range(n):
            f[i] = fast[i] + a_fast * (p[i] - fast[i])
            s[i] = slow[i] + a_slow * (p[i] - slow[i])  # p is s: read before it is written
    else:
        for i in range(n):
            f[i] = p[i]
    # Both are zero outside the valid bands (so is every p): the shape is the power over its sum.
    _shape(s, width, out[SHAPE], out[WEIGHTED])
    _shape(f, width, out[FAST_SHAPE], out[FAST_WEIGHTED])
    return True


@njit(cache=True)
def _shape(power, width, shape, weighted):
    total = max(pairwise_sum(power, 0, power.size), 1e-30)
    for i in range(power.size):
        shape[i] = power[i] / total
        weighted[i] = shape[i] * width[i]
