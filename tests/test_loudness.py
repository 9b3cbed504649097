"""Loudness prediction and auto-gain: K-weighting, agreement with an independent BS.1770 meter,
the energy weighting of the tracked spectrum and the smoothing that keeps it from pumping."""

import math

import numpy as np
import pyloudnorm
import pytest
import scipy.signal

from semeq_live.analysis import AutoGain, LoudnessPredictor
from semeq_live.analysis.bands import BandAnalyzer
from semeq_live.analysis.loudness import k_weighting_sos
from semeq_live.dsp.design import design_sos
from semeq_live.params import FLAT_PARAMS

FS = 48000


def test_k_weighting_matches_bs1770_coefficients_at_48k():
    # ITU-R BS.1770-4, tables 1 and 2 (48 kHz).
    sos = k_weighting_sos(48000)
    np.testing.assert_allclose(sos[0], [1.53512485958697, -2.69169618940638, 1.19839281085285,
                                        1.0, -1.69065929318241, 0.73248077421585], atol=1e-9)
    np.testing.assert_allclose(sos[1], [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621], atol=1e-9)


def test_broadband_gain_predicts_exactly_that_gain():
    pred = LoudnessPredictor(FS)
    p = FLAT_PARAMS.copy()
    p[[0, 11]] = 0.0
    power = np.random.default_rng(0).uniform(0.1, 1.0, 28)
    assert pred.change_db(p, None, power) == pytest.approx(0.0, abs=1e-9)
    # A filter and its own inverse: no change at all.
    q = FLAT_PARAMS.copy()
    q[[0, 2, 11]] = [6.0, -4.0, 3.0]
    assert pred.change_db(q, q, power) == pytest.approx(0.0, abs=1e-9)


def _band_power(x):
    ba = BandAnalyzer(FS, 16384)
    segs = [ba.band_power(x[i:i + 16384])[0] for i in range(0, len(x) - 16384, 4096)]
    return np.mean(segs, axis=0)


@pytest.mark.parametrize("params", [
    [6.0, 200.0, 0.0, 560.0, 0.71, 0.0, 1000.0, 0.71, 0.0, 3300.0, 0.71, -6.0, 6000.0],
    [-8.0, 300.0, 4.0, 800.0, 2.0, -6.0, 2500.0, 1.0, 9.0, 5000.0, 0.7, 10.0, 9000.0],
    [12.0, 90.0, -12.0, 400.0, 4.0, 0.0, 1000.0, 0.71, 0.0, 3300.0, 0.71, -12.0, 2000.0],
])
def test_prediction_agrees_with_an_independent_bs1770_meter(params):
    rng = np.random.default_rng(1)
    n = 8 * FS
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / FS)
    spec[f < 20] = 0
    spec[f >= 20] /= np.sqrt(f[f >= 20])
    x = np.fft.irfft(spec, n)
    x = 0.05 * x / x.std()
    y = scipy.signal.sosfilt(design_sos(np.array(params), FS), x)
    meter = pyloudnorm.Meter(FS)
    measured = meter.integrated_loudness(y) - meter.integrated_loudness(x)
    predicted = LoudnessPredictor(FS).change_db(np.array(params), None, _band_power(x[:, None]))
    assert predicted == pytest.approx(measured, abs=0.3)


def _glide(ag, eq, spectrum, seconds=30.0, dt=0.1):
    path = []
    for _ in range(int(round(seconds / dt))):
        ag.observe(spectrum, dt)
        path.append(ag.compensation_db(eq))
    return np.array(path)


def test_autogain_ignores_level():
    boost_lows = FLAT_PARAMS.copy()
    boost_lows[0] = 9.0
    bassy = np.geomspace(10.0, 0.1, 28)
    ag = AutoGain(FS)
    ag.observe(bassy, 0.1)
    start = ag.compensation_db(boost_lows)
    # The programme gets 30 dB quieter, then 30 dB louder: the compensation does not move (no pumping).
    for gain in (1e-3, 1.0, 1e-3, 1.0):
        for _ in range(10):
            ag.observe(bassy * gain, 0.1)
        assert ag.compensation_db(boost_lows) == pytest.approx(start, abs=1e-9)


def test_autogain_glides_over_a_small_change_of_balance():
    """The programme's balance moves a little (the EQ's loudness effect by about 0.4 dB): the slow
    average decides, over seconds, so the gain does not wobble with the music."""
    boost_lows = FLAT_PARAMS.copy()
    boost_lows[0] = 9.0
    a = np.geomspace(10.0, 0.1, 28)
    b = a * np.geomspace(0.8, 1.25, 28)
    ag, end = AutoGain(FS), AutoGain(FS)
    ag.observe(a, 0.1)
    end.observe(b, 0.1)
    start, target = ag.compensation_db(boost_lows), end.compensation_db(boost_lows)
    assert 0.2 < abs(target - start) < AutoGain.FOLLOW_FROM_DB
    path = _glide(ag, boost_lows, b)
    one_pole = 1.0 - np.exp(-0.5 / ag.shape_tau_s)  # where the slow average is after 0.5 s
    assert abs(path[4] - start) == pytest.approx(one_pole * abs(target - start), rel=0.1)
    assert path[-1] == pytest.approx(target, abs=0.01)


def test_autogain_follows_a_large_change_of_the_eqs_effect_within_a_second():
    """The EQ's loudness effect on the programme changes by several dB (a held note moves out of
    a deep cut): the fast average takes over, the gain is most of the way there after 1 s and
    moves at most 45 % of the way in one 0.1 s step, which the processor ramps (following a new
    held note within about 0.3 s, as the sung lines need, takes steps that size: 27 % with the
    0.5 s fast average before)."""
    boost_lows = FLAT_PARAMS.copy()
    boost_lows[0] = 9.0
    bassy, bright = np.geomspace(10.0, 0.1, 28), np.geomspace(0.1, 10.0, 28)
    ag, end = AutoGain(FS), AutoGain(FS)
    ag.observe(bassy, 0.1)
    end.observe(bright, 0.1)
    start, target = ag.compensation_db(boost_lows), end.compensation_db(boost_lows)
    assert abs(target - start) > 5.0
    path = _glide(ag, boost_lows, bright)
    assert abs(path[9] - target) < 0.25 * abs(target - start)  # after 1 s
    assert np.max(np.abs(np.diff(np.concatenate([[start], path])))) < 0.45 * abs(target - start)
    assert path[-1] == pytest.approx(target, abs=0.01)
    slow_only = AutoGain(FS, fast_tau_s=AutoGain(FS).shape_tau_s)  # the slow average alone
    slow_only.observe(bassy, 0.1)
    assert abs(_glide(slow_only, boost_lows, bright, 1.0)[-1] - target) > 2.0 * abs(path[9] - target)


def test_autogain_weighs_the_recent_audio_by_its_energy_like_the_meter():
    """Alternating loud bassy and quiet bright stretches: the tracked spectrum is their mean
    *power* (what BS.1770 integrates), so the compensation is that of the mix the meter hears, not
    of the two shapes weighed alike (a quiet stretch says little about the loudness)."""
    boost_lows = FLAT_PARAMS.copy()
    boost_lows[0] = 9.0
    loud_bassy = np.geomspace(10.0, 0.1, 28)
    quiet_bright = 0.01 * np.geomspace(0.1, 10.0, 28)
    ag = AutoGain(FS, shape_tau_s=0.5)
    for _ in range(100):
        ag.observe(loud_bassy, 0.1)
        ag.observe(quiet_bright, 0.1)
    heard = -LoudnessPredictor(FS).change_db(boost_lows, None, loud_bassy + quiet_bright)
    shapes_alike = -LoudnessPredictor(FS).change_db(
        boost_lows, None, loud_bassy / loud_bassy.sum() + quiet_bright / quiet_bright.sum())
    assert abs(heard - shapes_alike) > 1.0  # the two readings differ: the test can tell them apart
    assert ag.compensation_db(boost_lows) == pytest.approx(heard, abs=0.15)


def test_autogain_limits_and_bad_spectra():
    ag = AutoGain(FS, max_boost_db=12.0, max_cut_db=24.0)
    cut = FLAT_PARAMS.copy()
    cut[[0, 2, 5, 8, 11]] = -12.0
    cut[[4, 7, 10]] = 0.1
    assert ag.compensation_db(cut) <= 12.0
    before = ag.shape.copy()
    ag.observe(np.full(28, np.nan), 0.1)
    ag.observe(np.zeros(28), 0.1)
    np.testing.assert_array_equal(ag.shape, before)


class NumpyAutoGain:
    """``AutoGain``'s tracking and prediction as numpy did them before ``autogain_kernel``."""

    def __init__(self, ag: AutoGain):
        self.ag, self.slow, self.shape, self.fast_shape = ag, None, ag.shape, ag.fast_shape

    def observe(self, band_power, dt):
        valid = self.ag.predictor.valid
        p = np.where(valid, np.asarray(band_power, dtype=np.float64), 0.0)
        if not np.all(np.isfinite(p)) or not p.sum() > 0.0:
            return
        if self.slow is None:
            self.slow, self.fast = p, p
        else:
            self.slow = self.slow + (1.0 - math.exp(-dt / self.ag.shape_tau_s)) * (p - self.slow)
            self.fast = self.fast + (1.0 - math.exp(-dt / self.ag.fast_tau_s)) * (p - self.fast)
        norm = lambda x: np.where(valid, x, 0.0) / max(float(np.where(valid, x, 0.0).sum()), 1e-30)  # noqa: E731
        self.shape, self.fast_shape = norm(self.slow), norm(self.fast)

    def change_db(self, forward, inverse):
        pr = self.ag.predictor
        kg = (pr._k_power * pr._power_gain(forward, inverse).reshape(pr.grid.shape)).mean(axis=1)
        out = []
        for shape in (self.shape, self.fast_shape):
            p = np.where(pr.valid, shape, 0.0) * pr._width
            before, after = float(np.dot(p, pr._k_band)), float(np.dot(p, kg))
            out.append(10.0 * math.log10(max(after, 1e-30) / before) if before > 0.0 else 0.0)
        slow, fast = out
        w = (abs(fast - slow) - ag_follow[0]) / (ag_follow[1] - ag_follow[0])
        return slow + min(max(w, 0.0), 1.0) * (fast - slow)


ag_follow = (AutoGain.FOLLOW_FROM_DB, AutoGain.FOLLOW_FULLY_DB)


@pytest.mark.parametrize("fs", [16000, 48000])
def test_autogain_tracking_and_prediction_are_numpys_bit_for_bit(fs):
    """The numba tracking (``autogain_kernel``) against the numpy it replaced: every shape and
    every prediction the same to the last bit, over spectra that move, jump, go bad and recover,
    with the EQ frozen (reused) and writable (predicted afresh)."""
    rng = np.random.default_rng(fs)
    ag = AutoGain(fs)
    ref = NumpyAutoGain(ag)
    eq = inverse = FLAT_PARAMS.copy()
    for i in range(300):
        if i % 25 == 0:
            eq, inverse = FLAT_PARAMS.copy(), FLAT_PARAMS.copy()
            eq[[0, 2, 5, 8, 11]] = rng.uniform(-12, 12, 5)
            inverse[[0, 2, 5, 8, 11]] = rng.uniform(-12, 12, 5)
            if i % 50 == 0:
                eq.setflags(write=False)
                inverse.setflags(write=False)
        spectrum = 10.0 ** rng.uniform(-9, -1, 28) * (1e3 if i % 40 == 39 else 1.0)
        if i % 31 == 30:
            spectrum[rng.integers(28)] = np.nan if i % 2 else np.inf
        if i % 37 == 36:
            spectrum[:] = 0.0
        dt = rng.uniform(0.02, 0.2)
        ag.observe(spectrum, dt)
        ref.observe(spectrum, dt)
        assert np.array_equal(ag.shape, ref.shape) and np.array_equal(ag.fast_shape, ref.fast_shape), i
        assert ag.change_db(eq) == ref.change_db(eq, None), i
        assert ag.change_db(eq, inverse) == ref.change_db(eq, inverse), i


def test_compiled_power_gain_matches_the_reference_design():
    from semeq_live.analysis.eq_power import AppliedPowerGain
    from semeq_live.dsp.design import log_frequency_grid, response_db

    rng = np.random.default_rng(3)
    for fs in (44100.0, 48000.0, 96000.0):
        grid = log_frequency_grid(200, 20.0, 0.49 * fs)
        gain = AppliedPowerGain(grid, fs)
        for _ in range(20):
            fwd = FLAT_PARAMS + rng.uniform(-1, 1, 13) * [12, 50, 12, 300, 0.5, 12, 500, 0.5, 12, 2000, 0.5, 12, 4000]
            inv = FLAT_PARAMS + rng.uniform(-1, 1, 13) * [12, 50, 12, 300, 0.5, 12, 500, 0.5, 12, 2000, 0.5, 12, 4000]
            expected = response_db(fwd, grid, fs) - response_db(inv, grid, fs)
            np.testing.assert_allclose(10 * np.log10(gain(fwd, inv)), expected, atol=1e-9)
            np.testing.assert_allclose(10 * np.log10(gain(fwd)), response_db(fwd, grid, fs), atol=1e-9)


def test_estimates_carry_the_band_powers_of_the_new_audio_for_autogain():
    """The analyzer's 2 s window still holds a loud low note for a while after a quiet high one
    starts; ``recent_band_power`` is only the audio analysed since the previous estimate, which is
    what auto-gain follows (``tests/test_loudness_evidence.py`` has the sung lines it is for)."""
    from semeq_live.analysis import Analyzer
    from semeq_live.params import ANALYSIS_FREQS

    fs = 44100
    t = np.arange(int(3.0 * fs)) / fs
    low, high = 0.3 * np.sin(2 * np.pi * 200.0 * t), 0.03 * np.sin(2 * np.pi * 2000.0 * t)
    an = Analyzer(fs, 1)
    step = int(0.1 * fs)
    seen = []
    for x in (low, high[:int(0.8 * fs)]):
        for i in range(0, len(x), step):
            an.push(x[i:i + step, None].astype(np.float32))
            est = an.update()
            if not seen or est is not seen[-1]:
                seen.append(est)
    est = seen[-1]
    band = lambda hz: int(np.argmin(np.abs(ANALYSIS_FREQS - hz)))  # noqa: E731
    window, recent = est.band_power, est.recent_band_power
    assert window[band(200)] > 10 * window[band(2000)]  # the window: still mostly the low note
    assert recent[band(2000)] > 10 * recent[band(200)]  # the new audio: only the high one
    assert recent.sum() == pytest.approx(0.03 ** 2 / 2, rel=0.1)  # its level, not the window's
    # Between estimates (the analyzer renews them every ~0.3 s) each one covers new audio only.
    assert all(e.recent_band_power is not None for e in seen[1:] if e.band_power is not None)
