"""Semantic engine unit tests: the adaptive formula, fallback, traverse, caching, auto-gain wiring.

These use a tiny linear test double for the model (latent (x, y) -> low shelf 10x dB, high shelf
10y dB) so every expected value can be written down; the evidence tests with the real bundled
model are in test_adaptive_evidence.py.
"""

import itertools

import numpy as np
import pytest

from semeq_live.analysis.estimate import InputEstimate
from semeq_live.control.engine import (
    MODE_ADAPTIVE, MODE_FALLBACK, MODE_FLAT, MODE_STATIC, SemanticEngine,
)
from semeq_live.control.state import ControlState
from semeq_live.dsp.design import log_frequency_grid
from semeq_live.params import FLAT_PARAMS

FS = 48000.0
GRID = log_frequency_grid(96)


class LinearTestModel:
    """Test double with the SemanticModel surface the engine uses."""

    latent_dim = 2
    axes = np.eye(2)
    axis_scale = np.array([0.2, 0.1])
    centroids = {"warm": np.array([0.5, -0.3]), "bright": np.array([-0.3, 0.5]), "flat": np.zeros(2)}

    def morph_latent(self, a, b=None, alpha=0.0):
        ca = self.centroids[a]
        return ca.copy() if b is None else (1 - alpha) * ca + alpha * self.centroids[b]

    def traverse(self, z, x, y):
        return z + x * self.axis_scale[0] * self.axes[0] + y * self.axis_scale[1] * self.axes[1]

    def encode_curve(self, dev_db, weights=None):
        """Lows' and highs' mean deviation / 10 dB: no deviation reads as the flat latent (0, 0)."""
        dev = np.asarray(dev_db, float)
        return np.array([dev[:14].mean(), dev[14:].mean()]) / 10.0

    def decode(self, z):
        z = np.atleast_2d(z)
        p = np.tile(FLAT_PARAMS, (len(z), 1))
        p[:, 0] = 10 * z[:, 0]
        p[:, 11] = 10 * z[:, 1]
        return p


_clock = itertools.count(1)


def estimate(z_a, confident=True, t=None, band_power=None, evidence=1.0):
    """A new estimate (each at a later audio time unless ``t`` is given; resting on a full window
    unless ``evidence`` says otherwise)."""
    t = next(_clock) * 0.1 if t is None else t
    return InputEstimate(confident=confident, reason="ok" if confident else "too quiet (-80 dBFS, needs -60)",
                         time_s=t, level_db=-20.0 if confident else -80.0,
                         z_a=None if z_a is None else np.asarray(z_a, float),
                         profile=(("warm", 0.9),) if confident else None, band_power=band_power,
                         evidence=evidence)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x))))


@pytest.fixture
def engine():
    return SemanticEngine(LinearTestModel(), FS, input_smoothing_s=0.0)


def test_k0_is_exactly_flat_with_and_without_estimate(engine):
    for est in (estimate([0.4, 0.2]), estimate(None, confident=False), None):
        s = engine.compute(ControlState(term_a="warm", term_b="bright", alpha=0.3, intensity=0.0), est)
        assert s.mode == MODE_FLAT
        assert np.abs(s.applied_db(GRID, FS)).max() < 1e-9
        assert s.autogain_db == 0.0


def test_k1_moves_input_character_to_target(engine):
    z_a = np.array([-0.2, 0.4])  # the input is "bright"
    s = engine.compute(ControlState(term_a="warm", intensity=1.0), estimate(z_a))
    assert s.mode == MODE_ADAPTIVE
    np.testing.assert_allclose(s.forward[[0, 11]], [5.0, -3.0])   # D(z_t): warm
    np.testing.assert_allclose(s.inverse[[0, 11]], [-2.0, 4.0])   # D(z_a) undone
    # Halfway: D(z_a + 0.5 (z_t - z_a)).
    s = engine.compute(ControlState(term_a="warm", intensity=0.5), estimate(z_a))
    np.testing.assert_allclose(s.forward[[0, 11]], [1.5, 0.5])


def test_input_already_at_target_gets_almost_nothing(engine):
    warm = LinearTestModel.centroids["warm"]
    s_same = engine.compute(ControlState(term_a="warm", intensity=1.0), estimate(warm))
    s_other = engine.compute(ControlState(term_a="warm", intensity=1.0), estimate([-0.3, 0.5]))
    assert rms(s_same.applied_db(GRID, FS)) < 1e-9
    assert rms(s_other.applied_db(GRID, FS)) > 3.0


def test_no_estimate_falls_back_to_static_target_scaled_by_k_and_says_so(engine):
    s = engine.compute(ControlState(term_a="warm", intensity=0.5), estimate(None, confident=False))
    assert s.mode == MODE_FALLBACK and "too quiet" in s.reason
    assert s.inverse is None
    np.testing.assert_allclose(s.forward[[0, 11]], [2.5, -1.5])
    s = engine.compute(ControlState(term_a="warm", intensity=1.0, adaptive=False), estimate([0.1, 0.1]))
    assert s.mode == MODE_STATIC and s.inverse is None
    np.testing.assert_allclose(s.forward[[0, 11]], [5.0, -3.0])


def test_traverse_moves_along_the_principal_axes(engine):
    s = engine.compute(ControlState(term_a="flat", intensity=1.0, traverse_x=1.0, traverse_y=-1.0))
    np.testing.assert_allclose(s.z_target, [0.2, -0.1])
    np.testing.assert_allclose(s.forward[[0, 11]], [2.0, -1.0])


def test_extrapolation_stays_inside_the_latent_range(engine):
    s = engine.compute(ControlState(term_a="warm", intensity=1.5), estimate([-1.0, 1.0]))
    # z_f clipped at 1.0, not 1.25: forward +10 dB on top of the undone -10 dB is +20 dB uncapped
    # (not 22.5), which the EQ's +12 dB range then holds back by 8 dB.
    assert s.held_back_db == pytest.approx(8.0, abs=0.05) and s.cap_acting
    assert s.applied_db(GRID, FS).max() <= 12.0 + 1e-6
    assert np.all(np.isfinite(s.forward))


def test_decoder_is_called_only_when_inputs_change(engine):
    st = ControlState(term_a="warm", term_b="bright", alpha=0.4, intensity=0.8)
    est = estimate([0.1, 0.2])
    engine.compute(st, est)
    calls = engine.decode_calls
    for _ in range(5):
        engine.compute(st, est)
    assert engine.decode_calls == calls
    st.update(alpha=0.5)
    engine.compute(st, est)
    assert engine.decode_calls == calls + 1


def test_autogain_compensates_predicted_change_and_can_be_switched_off(engine):
    pink = np.ones(28)  # equal power per band
    st = ControlState(term_a="warm", intensity=1.0, output_gain_db=-3.0)
    s = engine.compute(st, estimate(None, confident=False, band_power=pink))
    assert s.predicted_change_db != 0.0
    assert s.autogain_db == pytest.approx(-s.predicted_change_db)
    assert s.gain_db == pytest.approx(s.autogain_db - 3.0)
    st.update(autogain=False)
    s = engine.compute(st, estimate(None, confident=False, band_power=pink))
    assert s.autogain_db == 0.0 and s.output_gain_db == -3.0


def test_input_latent_is_smoothed_on_audio_time_and_dropped_without_estimate():
    eng = SemanticEngine(LinearTestModel(), FS, input_smoothing_s=2.0)
    st = ControlState(term_a="warm", intensity=1.0)
    assert eng.compute(st, estimate([0.0, 0.0], t=10.0)).z_input.tolist() == [0.0, 0.0]
    s = eng.compute(st, estimate([0.4, 0.0], t=12.0))  # one time constant later
    assert s.z_input[0] == pytest.approx(0.4 * (1 - np.exp(-1.0)))
    # The same estimate again (no new audio) does not move it.
    assert eng.compute(st, estimate([0.4, 0.0], t=12.0)).z_input[0] == pytest.approx(s.z_input[0])
    s = eng.compute(st, estimate(None, confident=False, t=12.1))
    assert s.mode == MODE_FALLBACK and s.z_input is None
    s = eng.compute(st, estimate([0.4, 0.0], t=12.2))  # starts afresh, no glide from stale state
    assert s.z_input.tolist() == [0.4, 0.0]


def test_readings_held_at_evidence_zero_are_not_smoothed_into_the_correction():
    """Auto's provisional decision holds the estimates' evidence at 0 (nothing of them applied):
    the latent follows each reading as it is, and the one-pole starts with the ease-in, from the
    reading it eases in, as at a source's first estimate."""
    eng = SemanticEngine(LinearTestModel(), FS, input_smoothing_s=2.0)
    st = ControlState(term_a="warm", intensity=1.0)
    eng.compute(st, estimate([0.4, 0.0], t=1.5, evidence=0.0))
    s = eng.compute(st, estimate([0.0, 0.2], t=2.0, evidence=0.0))
    assert s.z_input.tolist() == eng._neutral_latent(None).tolist()  # nothing applied yet
    assert eng._z_input.tolist() == [0.0, 0.2]
    s = eng.compute(st, estimate([0.2, 0.2], t=4.0, evidence=1.0))  # one time constant later
    np.testing.assert_allclose(s.z_input, [0.2 * (1 - np.exp(-1.0)), 0.2])


def test_settings_drive_a_real_processor(engine):
    """The settings object wires straight into the lead's EQProcessor (real numba kernel)."""
    from semeq_live.dsp import EQProcessor

    # The EQ alone: the subsonic protection in front of it is tested in test_protection.py.
    proc = EQProcessor(FS, 1, smoothing_ms=5.0, subsonic_hz=0)
    s = engine.compute(ControlState(term_a="warm", intensity=0.0), estimate([-0.2, 0.4]))
    s.apply_to(proc)
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal((int(FS), 1))).astype(np.float32)
    y = proc.process(x)
    # k = 0: filter and its exact inverse -> the output is the input.
    assert np.max(np.abs(y[4800:] - x[4800:])) < 1e-5


def test_the_correction_eases_in_with_the_estimates_evidence(engine):
    """A source's first estimate (evidence 0) does not lurch in: the undone input latent is the
    neutral one (no deviation: the linear double reads it as (0, 0)), so the EQ is the target as
    for a neutral input; it reaches the estimate as the evidence grows, and with a full window
    (evidence 1) the settings are exactly those of an estimate that never eased in."""
    st = ControlState(term_a="warm", intensity=1.0)
    z_a = np.array([-0.2, 0.4])  # a bright input
    s = engine.compute(st, estimate(z_a, evidence=0.0))
    assert s.mode == MODE_ADAPTIVE
    np.testing.assert_allclose(s.z_input, [0.0, 0.0])
    np.testing.assert_allclose(s.forward[[0, 11]], [5.0, -3.0])  # the target, as for a neutral input
    np.testing.assert_allclose(s.inverse[[0, 11]], [0.0, 0.0])
    full = SemanticEngine(LinearTestModel(), FS, input_smoothing_s=0.0).compute(st, estimate(z_a))
    assert rms(s.applied_db(GRID, FS)) < rms(full.applied_db(GRID, FS)) - 1.0
    s = engine.compute(st, estimate(z_a, evidence=0.5))
    np.testing.assert_allclose(s.z_input, 0.5 * z_a)
    np.testing.assert_allclose(s.inverse[[0, 11]], [-1.0, 2.0])
    s = engine.compute(st, estimate(z_a, evidence=1.0))
    np.testing.assert_array_equal(s.forward, full.forward)
    np.testing.assert_array_equal(s.inverse, full.inverse)


def test_a_restarted_ease_in_glides_from_what_is_applied(engine):
    """When the analyzer restarts the ease-in without a gap (auto corrected its reference), the
    correction leaves from the latent applied just before, not from neutral: no step back to the
    neutral target, then the new reading eased in as the evidence grows again."""
    st = ControlState(term_a="warm", intensity=1.0)
    z_old, z_new = np.array([0.3, -0.1]), np.array([-0.2, 0.4])
    engine.compute(st, estimate(z_old, evidence=0.0))
    before = engine.compute(st, estimate(z_old, evidence=0.8)).z_input
    np.testing.assert_allclose(before, 0.8 * z_old)
    np.testing.assert_allclose(engine.compute(st, estimate(z_new, evidence=0.0)).z_input, before)
    np.testing.assert_allclose(engine.compute(st, estimate(z_new, evidence=0.5)).z_input,
                               before + 0.5 * (z_new - before))
    np.testing.assert_allclose(engine.compute(st, estimate(z_new, evidence=1.0)).z_input, z_new)


def test_each_new_start_eases_in_from_its_own_neutral_and_k0_stays_flat(engine):
    st = ControlState(term_a="warm", intensity=1.0)
    z_a = np.array([0.3, -0.1])
    engine.compute(st, estimate(z_a, evidence=0.0))
    assert engine.compute(st, estimate(z_a)).z_input.tolist() == pytest.approx(z_a.tolist())
    assert engine.compute(st, estimate(None, confident=False)).mode == MODE_FALLBACK
    s = engine.compute(st, estimate(z_a, evidence=0.0))  # a new source's first estimate
    np.testing.assert_allclose(s.z_input, [0.0, 0.0])
    s = engine.compute(ControlState(term_a="warm", intensity=0.0), estimate(z_a, evidence=0.2))
    assert s.mode == MODE_FLAT and np.abs(s.applied_db(GRID, FS)).max() < 1e-9
    np.testing.assert_allclose(engine.compute(st, estimate(z_a, evidence=0.5)).z_input, 0.5 * z_a)
    engine.reset()
    np.testing.assert_allclose(engine.compute(st, estimate(z_a, evidence=0.0)).z_input, [0.0, 0.0])
