"""Loudness compensation: predict how much louder the applied EQ makes the current input.

ITU-R BS.1770 loudness is the mean square of the K-weighted signal. Given the input's long-term
band powers ``P_b``, the K-weighting ``K(f)`` and the applied EQ ``H(f)`` (forward cascade minus
the undone inverse), the loudness change is::

    dL = 10 log10( sum_b P_b <K H>_b / sum_b P_b <K>_b )

where ``<.>_b`` averages power gains over a few points inside band ``b`` (so a narrow peak between
band centres is not missed). The compensation gain is ``-dL``.

``AutoGain`` tracks the input's spectrum from the band powers of the newest audio
(``InputEstimate.recent_band_power``: a ``RecentSpectrum`` frame of the newest 0.13-0.19 s, which
the analyzer hands on at each of its updates, between its estimates too; the first estimate's
2 s window to start from) with one-pole averages of the powers
themselves, so louder moments weigh more, as they do in the meter (BS.1770 averages mean squares);
overall level changes nothing, the prediction being a ratio. It keeps two: a slow one (1.5 s) that
decides while both predict about the same change, so the gain does not wobble with the
programme's balance (``tests/test_loudness_evidence.py``: at most 1 dB a second on real music under
a fixed EQ), and a fast one (0.3 s) that takes over where they part by more than 0.75 dB (fully
from 1.75 dB): the EQ's effect has really changed. The compensation follows an EQ change at once
(the EQ ramp and the gain ramp move together in the processor).

Why (docs/adaptive.md, "morph, auto-gain"): a big adaptive EQ changes the loudness of one held note of a
sung line by 1 dB and of the next by 6 (a harmonic in or out of a cut). Before, the analyzer's
2 s window, its shape normalised at each estimate (level removed), then a 1 s one-pole, held a
note's spectrum for 2-3 s after it ended: 15 of 32 made sung-line takes had a 3 s window more
than 1 LU off the input (worst 2.4). Weighing by energy and following each segment halved that;
the slow/fast pair keeps the music from pumping. What was left was late: the analyzer's 0.34 s
segments (one every 0.17-0.19 s) showed a new note 0.2-0.3 s after it began, so the loudest part
of a note just begun played with the last note's gain, and the fast average (then 0.5 s) took
another half second. The newest frame at each update shows it about 0.1 s after it began and the
fast average is 0.3 s; its wider dead band (0.75 dB, was 0.5) keeps music as steady as before. A transient far louder than
the programme (a click) still decides a 3 s window alone: no gain that glides can know it is
coming.
"""

from __future__ import annotations

import math

import numpy as np

from ..dsp.design import response_db
from ..params import ANALYSIS_FREQS
from . import autogain_kernel
from .bands import BandAnalyzer, band_edges
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
        self._kg_memo = None  # (forward, inverse, <K H>_b) of the last read-only EQ

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
        return self.changes_db(forward, inverse, (band_power,))[0]

    def changes_db(self, forward, inverse, band_powers) -> list[float]:
        """``change_db`` on several spectra, the EQ's response computed once."""
        return self.weighted_changes_db(forward, inverse, [self.weighted(p) for p in band_powers])

    def weighted(self, band_power) -> np.ndarray:
        """Band powers as the prediction weighs them: valid bands only, times their width."""
        return np.where(self.valid, np.asarray(band_power, dtype=np.float64), 0.0) * self._width

    def weighted_changes_db(self, forward, inverse, weighted) -> list[float]:
        """``changes_db`` on spectra already ``weighted``."""
        kg = self._k_weighted_gain(forward, inverse)
        out = []
        for p in weighted:
            before = float(np.dot(p, self._k_band))
            after = float(np.dot(p, kg))
            out.append(10.0 * math.log10(max(after, 1e-30) / before) if before > 0.0 else 0.0)
        return out


    def _k_weighted_gain(self, forward, inverse) -> np.ndarray:
        """Per band, the applied EQ's power gain weighted by K (``<K H>_b``). Kept for the last
        EQ while it is the same read-only arrays: auto-gain predicts at every analyzer update
        (10 a second), the EQ changes far less often, and its response was most of the cost."""
        memo = self._kg_memo
        if memo is not None and memo[0] is forward and memo[1] is inverse:
            return memo[2]
        gain = self._power_gain(forward, inverse).reshape(self.grid.shape)
        kg = (self._k_power * gain).mean(axis=1)
        if _read_only(forward) and (inverse is None or _read_only(inverse)):
            self._kg_memo = (forward, inverse, kg)
        return kg


def _read_only(a) -> bool:
    """An array nobody can change under the cache (the engine freezes the EQs it hands on)."""
    return isinstance(a, np.ndarray) and not a.flags.writeable


class AutoGain:
    """Automatic gain compensation from the predicted loudness change of the recent input.

    ``observe`` feeds band powers of new audio (call it for each one with the audio time elapsed);
    ``change_db`` predicts the applied EQ's loudness change on the tracked spectrum and
    ``compensation_db`` cancels it, limited to ``[-max_cut_db, max_boost_db]``. Two averages of
    the powers are kept: a slow one (``shape_tau_s``) and a fast one (``fast_tau_s``). The slow
    one decides while both predict about the same change (within ``FOLLOW_FROM_DB``): the gain
    does not wobble with the programme's balance. Where they part by more, the EQ's effect has
    really changed (a new held note under a big EQ), and the prediction moves over to the fast
    one (all of it from ``FOLLOW_FULLY_DB``), so the gain catches up in half a second, not in
    seconds. Before any signal has been observed the shape of ``initial_band_db`` (the
    reference) is used.
    """

    FOLLOW_FROM_DB = 0.75
    FOLLOW_FULLY_DB = 1.75

    def __init__(self, sample_rate: float, initial_band_db=None, shape_tau_s: float = 1.5,
                 fast_tau_s: float = 0.3, max_boost_db: float = 12.0, max_cut_db: float = 24.0):
        self.predictor = LoudnessPredictor(sample_rate)
        self.shape_tau_s = float(shape_tau_s)
        self.fast_tau_s = float(fast_tau_s)
        self.max_boost_db = float(max_boost_db)
        self.max_cut_db = float(max_cut_db)
        if initial_band_db is None:
            initial_band_db = np.zeros(ANALYSIS_FREQS.size)
        self.initial_shape = self._normalised(10.0 ** (np.asarray(initial_band_db, float) / 10.0))
        self.reset()

    def _normalised(self, power: np.ndarray) -> np.ndarray:
        power = np.where(self.predictor.valid, power, 0.0)
        return power / max(float(power.sum()), 1e-30)

    def observe(self, band_power, dt: float) -> None:
        """Average ``band_power`` (linear) into both tracked spectra (one-poles on the powers)."""
        if band_power is None:
            return
        # One numba pass (autogain_kernel.py): the one-poles, the shapes and their weighted forms
        # in numpy's own arithmetic. A new block each time: the shapes handed out never change.
        out = np.empty((6, self.predictor.valid.size))
        started = self._slow is not None  # if not, the first real spectrum replaces the reference
        a_slow = _one_pole(dt, self.shape_tau_s) if started else 1.0
        a_fast = _one_pole(dt, self.fast_tau_s) if started else 1.0
        if not autogain_kernel.observe(np.asarray(band_power, dtype=np.float64), self.predictor.valid,
                                       self.predictor._width, self._slow if started else out[0],
                                       self._fast if started else out[0], a_slow, a_fast, started, out):
            return
        k = autogain_kernel
        self._slow, self._fast = out[k.SLOW], out[k.FAST]
        self.shape, self.fast_shape = out[k.SHAPE], out[k.FAST_SHAPE]
        self._weighted = (self.shape, self.fast_shape, out[k.WEIGHTED], out[k.FAST_WEIGHTED])

    @property
    def started(self) -> bool:
        """Whether any real spectrum has been observed since the reset."""
        return self._slow is not None

    def reset(self) -> None:
        self.shape = self.initial_shape.copy()
        self.fast_shape = self.shape
        self._slow = self._fast = None  # tracked band powers (None: nothing observed)
        self._weighted = None  # (shape, fast_shape, and both as the predictor weighs them)

    def change_db(self, forward, inverse=None) -> float:
        """Predicted loudness change (dB) of the applied EQ on the tracked input."""
        w = self._weighted
        if w is None or w[0] is not self.shape or w[1] is not self.fast_shape:  # the reference's
            w = self._weighted = (self.shape, self.fast_shape, self.predictor.weighted(self.shape),
                                  self.predictor.weighted(self.fast_shape))
        slow, fast = self.predictor.weighted_changes_db(forward, inverse, w[2:])
        w = (abs(fast - slow) - self.FOLLOW_FROM_DB) / (self.FOLLOW_FULLY_DB - self.FOLLOW_FROM_DB)
        return slow + min(max(w, 0.0), 1.0) * (fast - slow)

    def limit(self, compensation_db: float) -> float:
        return float(min(max(compensation_db, -self.max_cut_db), self.max_boost_db))

    def compensation_db(self, forward, inverse=None) -> float:
        return self.limit(-self.change_db(forward, inverse))


class RecentSpectrum:
    """Auto-gain's feed: band powers of the newest input, read from the analyzer's ring at each
    of its updates (``take``).

    One frame of about 0.18 s (a power of two of samples, 0.13-0.19 s; Hann) ending at the newest
    sample: a new held note is seen about 0.1 s after it begins. The analyzer's own 0.34 s
    segments, one every 0.17-0.19 s, showed it 0.2-0.3 s late, with the previous note's gain on
    the loudest part of the new one (docs/adaptive.md, "Auto-gain beyond the tables"). One frame per update
    (at 10 a second the frames overlap by about half, so no audio goes unweighed), not every
    frame since the last update: auto-gain wants what plays now. Frames of 0.09 s weighed only
    part of the audio between updates (0.064 s of each 0.1 s at 16 kHz), and the 16 kHz speech
    clips' morph moved 0.4-0.8 LU off by which syllables they caught.
    """

    FRAME_S = 0.18

    def __init__(self, sample_rate: float, channels: int):
        self.sample_rate = float(sample_rate)
        self.frame = int(2 ** round(math.log2(self.FRAME_S * self.sample_rate)))
        self.min_new = self.frame // 4  # less new audio than this: the last frame still stands
        self.bands = BandAnalyzer(self.sample_rate, self.frame, count_partials=False)
        self._buf = np.zeros((self.frame, int(channels)), dtype=np.float32)
        self._taken = 0

    def reset(self, written: int) -> None:
        """Count new audio from ``written`` frames on."""
        self._taken = int(written)

    def take(self, ring) -> tuple[np.ndarray, float] | None:
        """``(band powers of the newest frame, seconds of audio new since the last call)``, or None
        when too little is new (or the ring could not give the frame)."""
        written = ring.written
        new = written - self._taken
        if new < self.min_new or written < self.frame:
            return None
        self._taken = written
        if not ring.read_into(written, self._buf):
            return None
        # A new array each call; a NaN burst is zeroed first (band_power), so it cannot poison
        # auto-gain's spectrum.
        return self.bands.band_power(self._buf)[0], new / self.sample_rate


def _one_pole(dt: float, tau: float) -> float:
    return 1.0 - math.exp(-max(float(dt), 0.0) / tau) if tau > 0 else 1.0
