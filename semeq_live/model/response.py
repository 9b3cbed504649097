"""The response (dB) of one SAFE setting on a fixed set of frequencies, fast enough for every call.

``semeq_live.dsp.response_db`` is the reference (vectorised over many settings); this is the same
RBJ cookbook design (shelves with S = 1, peaking EQ; ``semeq_live.dsp.design``) for a single
setting, with the coefficients in plain float arithmetic and the evaluation as two small matrix
products: about 20 us instead of 200, for the term profile of a latent
(``SemanticModel.character_curve``). Tested against ``response_db``.
"""

from __future__ import annotations

import math

import numpy as np

from ..params import BAND_INDEX, BAND_KINDS, HIGH_SHELF, LOW_SHELF, MAX_FREQ_FRACTION

_MIN_FREQ_HZ = 1.0  # as semeq_live.dsp.design
_Q_RANGE = (0.1, 10.0)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


class BandResponse:
    """``BandResponse(freqs, fs)(params)`` -> the magnitude response (dB) of ``params [13]``."""

    def __init__(self, freqs, sample_rate: float):
        w = 2.0 * math.pi * np.asarray(freqs, dtype=np.float64) / sample_rate
        n = w.size
        # [1, e^-jw, e^-2jw] split into real and imaginary rows: coefficients [10, 3] @ this
        # gives the real parts (first n columns) and imaginary parts of every numerator and
        # denominator at once.
        self._basis = np.concatenate([np.stack([np.ones(n), np.cos(w), np.cos(2 * w)]),
                                      np.stack([np.zeros(n), -np.sin(w), -np.sin(2 * w)])], axis=1)
        self._n = n
        self._signs = np.tile([10.0, -10.0], 5)  # dB of numerator minus dB of denominator
        self._sample_rate = float(sample_rate)
        self._max_freq = MAX_FREQ_FRACTION * sample_rate
        self._bands = [(kind, gi, fi, qi) for kind, (gi, fi, qi) in zip(BAND_KINDS, BAND_INDEX)]

    def coefficients(self, params) -> list[tuple[float, ...]]:
        """``(b0, b1, b2, a0, a1, a2)`` per band, unnormalised."""
        p = params.tolist() if isinstance(params, np.ndarray) else list(params)
        out = []
        for kind, gi, fi, qi in self._bands:
            a = 10.0 ** (p[gi] / 40.0)
            w0 = 2.0 * math.pi * min(max(p[fi], _MIN_FREQ_HZ), self._max_freq) / self._sample_rate
            cosw, sinw = math.cos(w0), math.sin(w0)
            if kind == LOW_SHELF or kind == HIGH_SHELF:
                k = 2.0 * math.sqrt(a) * sinw * _INV_SQRT2
                s = 1.0 if kind == LOW_SHELF else -1.0  # the high shelf negates cos(w0)
                out.append((a * ((a + 1.0) - s * (a - 1.0) * cosw + k),
                            s * 2.0 * a * ((a - 1.0) - s * (a + 1.0) * cosw),
                            a * ((a + 1.0) - s * (a - 1.0) * cosw - k),
                            (a + 1.0) + s * (a - 1.0) * cosw + k,
                            -s * 2.0 * ((a - 1.0) + s * (a + 1.0) * cosw),
                            (a + 1.0) + s * (a - 1.0) * cosw - k))
            else:
                alpha = sinw / (2.0 * min(max(p[qi], _Q_RANGE[0]), _Q_RANGE[1]))
                out.append((1.0 + alpha * a, -2.0 * cosw, 1.0 - alpha * a,
                            1.0 + alpha / a, -2.0 * cosw, 1.0 - alpha / a))
        return out

    def __call__(self, params) -> np.ndarray:
        c = np.array(self.coefficients(params)).reshape(-1, 3)  # rows: b of band 0, a of band 0, ...
        h = c @ self._basis
        h *= h
        return self._signs @ np.log10(h[:, :self._n] + h[:, self._n:])
