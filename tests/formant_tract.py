"""A vocal tract whose formants move: five resonators whose frequencies glide from one vowel's
targets to the next, filtered sample by sample in a structure that stays stable while it moves.

Why the structure: a direct- or transposed-form resonator whose coefficients are switched while
it rings is no longer the filter whose state it holds (lfilter's transposed-form state is scaled
for the old poles), and a sung line switching vowels that way at each note clicks 20-28 dB above
the voice. The coupled (Gold-Rader) form keeps its state as a point that each sample rotates by
the pole angle and shrinks by the pole radius r < 1: whatever the angle does, the state's energy
only decays between inputs, and a moving formant carries its ringing along, as a throat does.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Vowel to vowel in connected singing takes a few tens of milliseconds (the tongue and jaw move).
FORMANT_GLIDE_S = 0.04


def formant_tracks(segments, n: int, fs: float, glide_s: float = FORMANT_GLIDE_S) -> np.ndarray:
    """Per-sample formant frequencies ``[formants, n]`` (Hz) from ``segments`` (``[(start, stop,
    (f1, ..., f5))]``, covering ``0..n``): each segment's targets, moving to the next one's over
    ``glide_s`` centred on the boundary (a Hann-smoothed step in log frequency)."""
    targets = np.empty((len(segments[0][2]), n))
    for start, stop, fmts in segments:
        targets[:, start:stop] = np.log(np.asarray(fmts, dtype=np.float64))[:, None]
    half = max(1, int(0.5 * glide_s * fs))
    kernel = np.hanning(2 * half + 1)
    kernel /= kernel.sum()
    padded = np.pad(targets, ((0, 0), (half, half)), mode="edge")
    return np.exp(np.array([np.convolve(row, kernel, mode="valid") for row in padded]))


@njit(cache=True)
def _coupled_cascade(x, fc, bw, fs):
    y = x.copy()
    for k in range(fc.shape[0]):
        r = math.exp(-math.pi * bw[k] / fs)
        s1 = 0.0
        s2 = 0.0
        for i in range(y.size):
            theta = 2.0 * math.pi * fc[k, i] / fs
            c, s = math.cos(theta), math.sin(theta)
            # Input gain for unit gain at DC, as Klatt's resonator: |H(1)| = g r sin / (1 - 2 r c + r^2).
            g = (1.0 - 2.0 * r * c + r * r) / (r * s)
            s1, s2 = r * (c * s1 - s * s2) + g * y[i], r * (s * s1 + c * s2)
            y[i] = s2
    return y


def moving_formants(x: np.ndarray, fs: float, tracks: np.ndarray, bandwidths) -> np.ndarray:
    """``x`` through a cascade of resonators, one per row of ``tracks`` (Hz per sample, kept
    under 0.45 fs), with the given bandwidths (Hz)."""
    fc = np.minimum(np.asarray(tracks, dtype=np.float64), 0.45 * fs)
    return _coupled_cascade(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(fc),
                            np.asarray(bandwidths, dtype=np.float64), float(fs))
