"""The numba part of ``BandAnalyzer.band_power``: everything around its FFTs, one pass each.

Per analysis segment (5-8 a second) numpy spent about as long on the work around the two FFTs
as on one of them: a strided window multiply, squared magnitudes through temporaries, a cumulative
sum, the band-edge interpolation and the partial count, each a pass of its own over 8193 bins
with its own allocation. Here they are two loops. The arithmetic is the numpy version's, operation
for operation and in the same order (no fast-math: no reassociation, no fused multiply-add), so
the band powers are bit for bit what they were (``tests/test_analysis_spectrum.py`` checks it
against the plain numpy formulation).

``cache=True`` like the other kernels; ``warm_up`` loads them before the analysis thread's first
segment (``AnalyzerThread``), so no update waits for a compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit


# The largest finite float64: a sample is finite when its magnitude is at most this (NaN never is).
_FINITE = 1.7976931348623157e308


@njit(cache=True)
def windowed_rows(segment, window, rows):
    """``rows[c, i] = segment[i, c] * window[i]`` (float64) from an ``[n, channels]`` segment;
    returns whether every sample was finite (the same pass: a separate ``np.isfinite`` scan of
    the segment cost the analyzer as much as this whole kernel, on cold caches)."""
    n, channels = segment.shape
    bad = 0
    # Each output row as a 1-D array of its own, and stereo (the usual input) spelt out: indexing
    # ``rows[c, i]`` in a loop over the channels kept LLVM from vectorising, 2.5-7x slower.
    if channels == 2:
        left = rows[0]
        right = rows[1]
        for i in range(n):
            w = window[i]
            a = np.float64(segment[i, 0])
            b = np.float64(segment[i, 1])
            left[i] = a * w
            right[i] = b * w
            bad |= np.int64(not abs(a) <= _FINITE) | np.int64(not abs(b) <= _FINITE)
    else:
        for c in range(channels):
            row = rows[c]
            for i in range(n):
                a = np.float64(segment[i, c])
                row[i] = a * window[i]
                bad |= np.int64(not abs(a) <= _FINITE)
    return bad == 0


@njit(cache=True)
def _bin_power(spectra, k, channels):
    """The channels' summed power at bin ``k``, in numpy's order (real^2, then imag^2, per channel)."""
    p = 0.0
    for c in range(channels):
        s = spectra[c, k]
        p += s.real * s.real
        p += s.imag * s.imag
    return p


@njit(cache=True, inline="always")
def _keep(p, k, scale, power, cum, top, total):
    """Bin ``k``'s power scaled to a mean square, kept with the running maximum and sum."""
    p *= scale[k]
    power[k] = p
    if k == 0 or p > top:
        top = p
    total += p
    cum[k + 1] = total
    return top, total


@njit(cache=True)
def band_powers(spectra, scale, power, cum, edge_i, edge_f, power_floor, partial_range, bands,
                count_partials=True):
    """Band powers of the channels' mean power spectrum into ``bands``; returns
    ``(mean square, partials)``.

    ``spectra`` ``[channels, n_bins]`` complex; ``scale`` the Parseval factor per bin; ``power``
    ``[n_bins]`` and ``cum`` ``[n_bins + 1]`` scratch (``cum[0]`` stays 0); ``edge_i``/``edge_f``
    the band edges (all lower edges, then all upper ones) as index and fraction into ``cum``.
    Partials: local maxima of the bin powers within ``partial_range`` (a power ratio) of the
    strongest bin (0 without ``count_partials``: auto-gain's frame does not need them).
    """
    channels, n_bins = spectra.shape
    inv = 1.0 / channels
    top = 0.0
    total = 0.0
    if channels == 2:  # the usual input, spelt out (as in windowed_rows: about twice as fast)
        left = spectra[0]
        right = spectra[1]
        for k in range(n_bins):
            a = left[k]
            b = right[k]
            p = 0.0
            p += a.real * a.real
            p += a.imag * a.imag
            p += b.real * b.real
            p += b.imag * b.imag
            top, total = _keep(p * inv, k, scale, power, cum, top, total)
    else:
        for k in range(n_bins):
            p = _bin_power(spectra, k, channels)
            if channels > 1:  # numpy's version only scaled the channels' sum when there were several
                p *= inv
            top, total = _keep(p, k, scale, power, cum, top, total)
    n_bands = bands.size
    for j in range(n_bands):
        i0 = edge_i[j]
        i1 = edge_i[n_bands + j]
        lo = cum[i0] + edge_f[j] * (cum[i0 + 1] - cum[i0])
        hi = cum[i1] + edge_f[n_bands + j] * (cum[i1 + 1] - cum[i1])
        bands[j] = max(hi - lo, power_floor)
    partials = 0
    if count_partials and top > power_floor:
        threshold = top * partial_range
        for k in range(1, n_bins - 1):
            p = power[k]
            if p > power[k - 1] and p >= power[k + 1] and p > threshold:
                partials += 1
    return total, partials


def warm_up() -> None:
    """Load both kernels (from numba's cache when warm) for the types the analyzer uses."""
    n, n_bins = 8, 5
    for dtype in (np.float32, np.float64):
        for channels in (1, 2):
            rows = np.empty((channels, n))
            windowed_rows(np.zeros((n, channels), dtype), np.ones(n), rows)
    for channels in (1, 2):
        for count_partials in (True, False):
            band_powers(np.zeros((channels, n_bins), np.complex128), np.ones(n_bins), np.empty(n_bins),
                        np.zeros(n_bins + 1), np.zeros(4, np.int64), np.zeros(4), 1e-20, 1e-3, np.empty(2),
                        count_partials)
