"""The numba part of ``SourceCues``' per-hop work: decimation and the pitch frames' NCCF.

Each analysis hop (5-8 a second) the source cues made about thirty small numpy calls on a few
kB of data (boxcar decimation through a reshaped mean; per 40 ms frame a power spectrum, a
cumulative energy, two gathers of it, the normalised cross-correlation and its best lag, then a
Python loop over the voiced frames): a quarter of a millisecond a hop, most of it call overhead.
The FFTs, the sums over bins, the band matrix product and the logarithms stay in numpy (their
summation order and ``log10`` are numpy's own); everything moved here is computed in exactly
numpy's order (the boxcar mean is numpy's pairwise sum, the cumulative energy a running sum, no
fast-math), so the cues are bit for bit what they were (``tests/test_auto_reference.py``).

``cache=True`` and ``warm_up`` as in ``band_kernel``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .pairwise_sum import pairwise_sum


@njit(cache=True)
def boxcar_decimate(mono, factor, out):
    """``out[j]`` = mean of ``mono[j * factor:(j + 1) * factor]`` (float64), for as many whole
    groups as ``out`` holds: ``mono.reshape(-1, factor).mean(axis=1)``, same rounding."""
    for j in range(out.size):
        out[j] = pairwise_sum(mono, j * factor, factor) / factor  # factor: 2-12


@njit(cache=True)
def pitch_frames(frames, ac, min_lag, max_lag, voiced_nccf, rate, f0, energy):
    """Per 40 ms frame: its F0 (``f0``, 0 = unvoiced) and its energy (``energy``, sum of squares).

    ``ac`` is the frames' autocorrelation (lags ``0..max_lag``, from their power spectra); the
    normalised cross-correlation at lag L divides it by the energies of the frame's first
    ``w - L`` and last ``w - L`` samples. A frame is voiced when its best NCCF over
    ``min_lag..max_lag`` reaches ``voiced_nccf``; its F0 is the shortest lag within 90 % of the
    best (no octave-down errors).
    """
    n_fr, w = frames.shape
    cum = np.empty(w + 1)
    nccf = np.empty(max_lag + 1 - min_lag)
    for i in range(n_fr):
        cum[0] = 0.0
        total = 0.0
        for j in range(w):
            v = frames[i, j]
            total += v * v
            cum[j + 1] = total
        energy[i] = total
        best = -np.inf
        for lag in range(min_lag, max_lag + 1):
            head = cum[w - lag]           # sum of x[j]^2, j < w - lag
            tail = cum[w] - cum[lag]      # sum of x[j]^2, j >= lag
            v = ac[i, lag] / math.sqrt(max(head * tail, 1e-30))
            nccf[lag - min_lag] = v
            if v > best:
                best = v
        f0[i] = 0.0
        if best >= voiced_nccf:
            threshold = 0.9 * best
            for lag in range(min_lag, max_lag + 1):
                if nccf[lag - min_lag] >= threshold:
                    f0[i] = rate / lag
                    break


def warm_up() -> None:
    """Load both kernels (from numba's cache when warm) for the types ``SourceCues`` uses."""
    out = np.empty(2)
    for dtype in (np.float32, np.float64):
        boxcar_decimate(np.zeros(12, dtype), 6, out)  # contiguous
        boxcar_decimate(np.zeros((12, 2), dtype)[:, 0], 6, out)  # one channel of a segment
    pitch_frames(np.zeros((1, 16)), np.zeros((1, 8)), 2, 7, 0.65, 8000.0, np.empty(1), np.empty(1))
