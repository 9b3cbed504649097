"""Loudness compensation: predict how much louder the applied EQ makes the current input.

ITU-R BS.1770 loudness is the mean square of the K-weighted signal. Given the input's long-term
band powers ``P_b``, the K-weighting ``K(f)`` and the applied EQ ``H(f)`` (forward cascade minus
the undone inverse), the loudness change is::

    dL = 10 log10( sum_b P_b <K H>_b / sum_b P_b <K>_b )

where ``<.>_b`` averages power gains over a few points inside band ``b`` (so a narrow peak between
band centres is not missed). The compensation gain is ``-dL``.

``AutoGain`` keeps its own smoothed copy of the input's spectral *shape* (level removed; the
analyzer's 2 s window followed by a one-pole of ``shape_tau_s``, about 3 s of memory in all). The
compensation therefore follows an EQ change at once (the EQ ramp and the gain ramp move together
in the processor), while the programme itself cannot make it pump: the prediction does not depend
on level at all (a kick drum or a quiet verse changes nothing), and its spectral shape glides.
Slower shape tracking would lag real changes of balance, and with a big EQ (an adaptive bass cut
of 6 dB) the lag shows up as loudness error; 1 s keeps short-term loudness within a fraction of
a LU on music (tests/test_loudness_evidence.py).
"""

from __future__ import annotations

import math

import numpy as np

from ..dsp.design import response_db
from ..params import ANALYSIS_FREQS
from .bands import band_edges
from .eq_power import AppliedPowerGain

# BS.1770 K-weighting as analog prototypes (the form used by libebur128), exact at 48 kHz and
# consistent at other rates: a +4 dB high shelf (head effects) and a 38 Hz high-pass (RLB).
_SHELF_F0, _SHELF_G_DB, _SHELF_Q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
_HP_F0, _HP_Q = 38.13547087602444, 0.5003270373238773
AUDIBLE_RANGE_HZ = (20.0, 20000.0)


def k_weighting_sos(sample_rate: float) -> np.ndarray:
    """The two K-weighting biquads ``[2, 6]`` (scipy sos layout) at ``sample_rate``."""
    k = math.tan(math.pi * _SHELF_F0 / sample_rate)
    vh = 10.0 ** (_SHELF_G_DB / 20.0)
    vb = vh ** 0.4996667741545416
    a0 = 1.0 + k / _SHELF_Q + k * k
    shelf = [(vh + vb * k / _SHELF_Q + k * k) / a0, 2.0 * (k * k - vh) / a0,
             (vh - vb * k / _SHELF_Q + k * k) / a0,
             1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / _SHELF_Q + k * k) / a0]
    k = math.tan(math.pi * _HP_F0 / sample_rate)
    a0 = 1.0 + k / _HP_Q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / _HP_Q + k * k) / a0]
    return np.array([shelf, highpass])


def k_weighting_db(freqs, sample_rate: float = 48000.0) -> np.ndarray:
    """Magnitude of the K-weighting filter in dB at ``freqs`` (Hz)."""
    from ..dsp.design import sos_response_db

    return sos_response_db(k_weighting_sos(sample_rate), freqs, sample_rate)


class LoudnessPredictor:
    """Predicted K-weighted loudness change (dB) of an EQ on a band spectrum."""

    def __init__(self, sample_rate: float, freqs=ANALYSIS_FREQS, points_per_band: int = 6):
        self.sample_rate = float(sample_rate)
        freqs = np.asarray(freqs, dtype=np.float64)
        lo, hi = band_edges(freqs)
        self.valid = hi <= 0.5 * self.sample_rate
        # The outermost bands stand for everything audible beyond them (20 Hz and up to 20 kHz):
        # a low-shelf boost acts on 20-28 Hz too, and that can be worth dBs when the rest is cut.
        # Their power density is assumed to continue, so they weigh by their extended width.
        lo_ext, hi_ext = lo.copy(), hi.copy()
        lo_ext[0] = min(AUDIBLE_RANGE_HZ[0], lo[0])
        top = int(np.flatnonzero(self.valid)[-1]) if self.valid.any() else len(hi) - 1
        hi_ext[top] = max(hi[top], min(AUDIBLE_RANGE_HZ[1], 0.49 * self.sample_rate))
        self._width = np.log(hi_ext / lo_ext) / np.log(hi / lo)
        # Log-spaced points at the centres of `points_per_band` equal slices of each band.
        frac = (np.arange(points_per_band) + 0.5) / points_per_band
        self.grid = lo_ext[:, None] * (hi_ext / lo_ext)[:, None] ** frac[None, :]  # [bands, points]
        self._k_power = 10.0 ** (k_weighting_db(self.grid.ravel(), self.sample_rate) / 10.0)
        self._k_power = self._k_power.reshape(self.grid.shape)
        self._k_band = self._k_power.mean(axis=1)
        self._flat_grid = self.grid.ravel()
        self._power_gain = AppliedPowerGain(self._flat_grid, self.sample_rate)

    def applied_db(self, forward, inverse=None) -> np.ndarray:
        """Applied EQ (forward minus the undone inverse) in dB on the sub-band grid."""
        if inverse is None:
            h = response_db(forward, self._flat_grid, self.sample_rate)
        else:  # one batched design + response for both cascades
            both = response_db(np.stack([forward, inverse]), self._flat_grid, self.sample_rate)
            h = both[0] - both[1]
        return h.reshape(self.grid.shape)

    def change_db(self, forward, inverse, band_power) -> float:
        """K-weighted loudness change (dB) of the applied EQ on linear band powers."""
        p = np.where(self.valid, np.asarray(band_power, dtype=np.float64), 0.0) * self._width
        gain = self._power_gain(forward, inverse).reshape(self.grid.shape)
        before = float(np.dot(p, self._k_band))
        if not before > 0.0:
            return 0.0
        after = float(np.dot(p, (self._k_power * gain).mean(axis=1)))
        return 10.0 * math.log10(max(after, 1e-30) / before)


class AutoGain:
    """Automatic gain compensation from the predicted loudness change, smoothed against pumping.

    ``observe`` feeds the analyzer's long-term band powers (call it at the analysis rate with the
    audio time elapsed); ``compensation_db`` returns the gain that cancels the applied EQ's
    loudness change on the slowly tracked spectral shape, limited to ``[-max_cut_db, max_boost_db]``.
    Before any signal has been observed the shape of ``initial_band_db`` (the reference) is used.
    """

    def __init__(self, sample_rate: float, initial_band_db=None, shape_tau_s: float = 1.0,
                 max_boost_db: float = 12.0, max_cut_db: float = 24.0):
        self.predictor = LoudnessPredictor(sample_rate)
        self.shape_tau_s = float(shape_tau_s)
        self.max_boost_db = float(max_boost_db)
        self.max_cut_db = float(max_cut_db)
        if initial_band_db is None:
            initial_band_db = np.zeros(ANALYSIS_FREQS.size)
        self.initial_shape = self._normalised(10.0 ** (np.asarray(initial_band_db, float) / 10.0))
        self.shape = self.initial_shape.copy()
        self._observed = False

    def _normalised(self, power: np.ndarray) -> np.ndarray:
        power = np.where(self.predictor.valid, power, 0.0)
        return power / max(float(power.sum()), 1e-30)

    def observe(self, band_power, dt: float) -> None:
        """Move the tracked shape towards ``band_power`` (one-pole, time constant ``shape_tau_s``)."""
        if band_power is None:
            return
        p = np.asarray(band_power, dtype=np.float64)
        if not np.all(np.isfinite(p)) or not p.sum() > 0.0:
            return
        target = self._normalised(p)
        if not self._observed:  # the first real spectrum replaces the reference outright
            self.shape = target
            self._observed = True
            return
        a = 1.0 - math.exp(-max(float(dt), 0.0) / self.shape_tau_s) if self.shape_tau_s > 0 else 1.0
        self.shape += a * (target - self.shape)

    def reset(self) -> None:
        self.shape = self.initial_shape.copy()
        self._observed = False

    def limit(self, compensation_db: float) -> float:
        return float(min(max(compensation_db, -self.max_cut_db), self.max_boost_db))

    def compensation_db(self, forward, inverse=None) -> float:
        return self.limit(-self.predictor.change_db(forward, inverse, self.shape))
