"""Power gain of the applied EQ cascade on a frequency grid, compiled with numba.

Auto-gain evaluates the applied EQ (forward cascade over the undone inverse) on ~170 frequencies
at every control update. The generic numpy design (``semeq_live.dsp.design``) spends most of its
time in per-call overhead for two settings; this compiles the *same* coefficient formulas (the
design module's functions, written for both numpy and numba) into one loop: tens of microseconds
instead of hundreds. ``tests/test_loudness.py`` checks it against ``response_db``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..dsp.design import MIN_FREQ_HZ, high_shelf_coeffs, low_shelf_coeffs, peaking_coeffs
from ..params import BAND_INDEX, BAND_KINDS, HIGH_SHELF, LOW_SHELF, MAX_FREQ_FRACTION, Q_RANGE

_peak = njit(cache=True, nogil=True)(peaking_coeffs)
_low = njit(cache=True, nogil=True)(low_shelf_coeffs)
_high = njit(cache=True, nogil=True)(high_shelf_coeffs)

_KINDS = np.array(BAND_KINDS, dtype=np.int64)
_INDEX = np.array(BAND_INDEX, dtype=np.int64)  # (gain, freq, q) per band, q = -1 for shelves


@njit(cache=True, nogil=True)
def _cascade_power(params, kinds, index, fs, cos1, sin1, cos2, sin2, out, invert):
    """Multiply (or divide, ``invert``) ``out`` by the cascade's power gain at each grid point."""
    for b in range(kinds.shape[0]):
        gain = params[index[b, 0]]
        f = min(max(params[index[b, 1]], MIN_FREQ_HZ), MAX_FREQ_FRACTION * fs)
        w0 = 2.0 * math.pi * f / fs
        kind = kinds[b]
        if kind == LOW_SHELF:
            b0, b1, b2, a0, a1, a2 = _low(gain, w0)
        elif kind == HIGH_SHELF:
            b0, b1, b2, a0, a1, a2 = _high(gain, w0)
        else:
            q = min(max(params[index[b, 2]], Q_RANGE[0]), Q_RANGE[1])
            b0, b1, b2, a0, a1, a2 = _peak(gain, w0, q)
        for i in range(out.shape[0]):
            nr = b0 + b1 * cos1[i] + b2 * cos2[i]
            ni = b1 * sin1[i] + b2 * sin2[i]
            dr = a0 + a1 * cos1[i] + a2 * cos2[i]
            di = a1 * sin1[i] + a2 * sin2[i]
            num = nr * nr + ni * ni
            den = dr * dr + di * di
            if invert:
                out[i] *= den / max(num, 1e-300)
            else:
                out[i] *= num / max(den, 1e-300)


class AppliedPowerGain:
    """``|H_forward(f)|^2 / |H_inverse(f)|^2`` on a fixed grid (linear power gains)."""

    def __init__(self, freqs, sample_rate: float):
        self.sample_rate = float(sample_rate)
        w = 2.0 * np.pi * np.asarray(freqs, dtype=np.float64) / self.sample_rate
        self._trig = (np.cos(w), np.sin(w), np.cos(2 * w), np.sin(2 * w))
        self._out = np.empty(w.size)
        self(np.zeros(13) + np.array([0, 100, 0, 500, 1, 0, 1000, 1, 0, 3000, 1, 0, 8000.0]))  # compile

    def __call__(self, forward, inverse=None) -> np.ndarray:
        """Power gains (a new array) of the applied cascade."""
        out = self._out
        out.fill(1.0)
        fwd = np.ascontiguousarray(forward, dtype=np.float64)
        _cascade_power(fwd, _KINDS, _INDEX, self.sample_rate, *self._trig, out, False)
        if inverse is not None:
            inv = np.ascontiguousarray(inverse, dtype=np.float64)
            _cascade_power(inv, _KINDS, _INDEX, self.sample_rate, *self._trig, out, True)
        return out.copy()
