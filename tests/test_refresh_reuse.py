"""What the analysis and auto-gain reuse between updates changes nothing they hand on.

At 10 analyzer updates a second, most updates are *refreshes* (only auto-gain's newest-audio
spectrum is new). The engine then reuses the EQ it decoded and limited (``_applied_eq``), the
loudness predictor the EQ's K-weighted band gains, and an estimate's ``replace`` its frozen
arrays. Each is held here to the path without the reuse, bit for bit, on a live-like run with
the bundled model and moving controls; and each reuse must really happen (or it saves nothing).
"""

import numpy as np
import pytest

from semeq_live.analysis import Analyzer
from semeq_live.analysis.estimate import InputEstimate
from semeq_live.analysis.loudness import LoudnessPredictor
from semeq_live.control.engine import SemanticEngine
from semeq_live.control.state import ControlState
from semeq_live.model import load_model
from semeq_live.params import ANALYSIS_FREQS, FLAT_PARAMS

from . import synth_sources

FS = 48000
FIELDS = ("forward", "inverse", "autogain_db", "output_gain_db", "bypass", "mode", "reason", "intensity",
          "z_target", "z_input", "predicted_change_db", "boost_cap_db", "cap_acting", "held_back_db",
          "cap_reason")


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is not None and b is not None and np.array_equal(a, b)
    return a == b


def _state(u: int) -> ControlState:
    """A performance: a morph that moves, then holds; k = 0 and adaptation off for a moment each."""
    s = ControlState(term_a="warm", term_b="bright", alpha=min(u, 40) / 40.0, intensity=1.0)
    if u % 23 in (3, 4):
        s.intensity = 0.0
    if u % 31 == 7:
        s.adaptive = False
    if u % 17 == 5:
        s.autogain = False
    return s


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_engine_refreshes_give_exactly_what_a_full_computation_gives(model):
    x = np.stack([synth_sources.lead_line(FS, 8.0, seed=3),
                  synth_sources.bass_line(FS, 8.0, seed=4)], axis=1).astype(np.float32)
    analyzer = Analyzer(FS, 2, model=model)
    reusing = SemanticEngine(model, FS, reference_band_db=analyzer.reference.band_db, max_boost_db=6.0)
    fresh = SemanticEngine(model, FS, reference_band_db=analyzer.reference.band_db, max_boost_db=6.0)
    step = FS // 10
    reused = refreshes = 0
    previous = None
    for u in range(len(x) // step):
        analyzer.push(x[u * step:(u + 1) * step])
        est = analyzer.update()
        # The path without the reuse: nothing remembered from the last call.
        fresh._eq_memo = None
        fresh.autogain.predictor._kg_memo = None
        want = fresh.compute(_state(u), est)
        got = reusing.compute(_state(u), est)
        for f in FIELDS:
            assert _same(getattr(got, f), getattr(want, f)), (u, f)
        refreshes += est.refresh
        reused += previous is not None and got.forward is previous.forward and got.mode != "flat"
        previous = got
    assert refreshes > 40
    assert reused > 20  # the held morph's refreshes reused the EQ (the same arrays)


def test_a_control_move_between_refreshes_is_not_served_from_the_reuse(model):
    analyzer = Analyzer(FS, 1, model=model)
    engine = SemanticEngine(model, FS, reference_band_db=analyzer.reference.band_db)
    x = synth_sources.lead_line(FS, 4.0, seed=1)[:, None].astype(np.float32)
    for i in range(0, len(x), FS // 10):
        analyzer.push(x[i:i + FS // 10])
        est = analyzer.update()
    st = ControlState(term_a="warm", term_b="bright", alpha=0.2)
    a = engine.compute(st, est)
    for change in ({"alpha": 0.7}, {"intensity": 0.5}, {"traverse_x": 0.5}, {"adaptive": False}):
        st2 = ControlState(term_a="warm", term_b="bright", alpha=0.2)
        st2.update(**change)
        b = engine.compute(st2, est)
        assert not np.array_equal(b.forward, a.forward), change
        assert engine.compute(st, est).forward is not b.forward
    # Gains after the EQ are not part of it: they act at once, on the reused EQ.
    c = engine.compute(ControlState(term_a="warm", term_b="bright", alpha=0.2, output_gain_db=-6.0), est)
    assert c.output_gain_db == -6.0 and np.array_equal(c.forward, a.forward)


def test_the_predictor_reuses_only_an_eq_nobody_can_change():
    rng = np.random.default_rng(0)
    power = rng.uniform(0.1, 1.0, ANALYSIS_FREQS.size)
    p = LoudnessPredictor(FS)
    eq = FLAT_PARAMS.copy()
    eq[[0, 11]] = [6.0, -4.0]
    frozen = eq.copy()
    frozen.setflags(write=False)
    first = p.change_db(frozen, None, power)
    assert p.change_db(frozen, None, power) == first
    assert p._kg_memo is not None and p._kg_memo[0] is frozen
    assert first == LoudnessPredictor(FS).change_db(frozen, None, power)
    # A writable EQ changed in place between calls: predicted afresh each time.
    before = p.change_db(eq, None, power)
    eq[0] = -6.0
    after = p.change_db(eq, None, power)
    assert after == LoudnessPredictor(FS).change_db(eq.copy(), None, power) and after < before - 1.0


def test_replace_shares_an_estimates_frozen_arrays_and_copies_new_ones():
    from dataclasses import replace

    band = np.linspace(1.0, 2.0, ANALYSIS_FREQS.size)
    est = InputEstimate(confident=False, reason="x", time_s=1.0, level_db=-20.0, band_power=band)
    assert est.band_power is not band and not est.band_power.flags.writeable
    band[0] = 99.0  # the caller's array is not the estimate's
    assert est.band_power[0] == 1.0
    recent = np.ones(ANALYSIS_FREQS.size)
    later = replace(est, recent_band_power=recent, refresh=True)
    assert later.band_power is est.band_power  # frozen and its own: shared, not copied
    assert later.recent_band_power is not recent and not later.recent_band_power.flags.writeable
    view = np.ones(2 * ANALYSIS_FREQS.size)[::2]
    view.setflags(write=False)  # read-only, but a view of writable memory: copied
    assert InputEstimate(confident=False, reason="x", time_s=1.0, level_db=-20.0,
                         band_power=view).band_power is not view


def test_with_recent_and_with_evidence_are_replace_without_the_field_walk():
    from dataclasses import fields, replace

    rng = np.random.default_rng(1)
    est = InputEstimate(confident=True, reason="ok", time_s=2.0, level_db=-20.0, z_a=rng.normal(size=4),
                        profile=(("warm", 0.8),), band_power=rng.uniform(size=28),
                        spectrum_db=rng.normal(size=28), deviation_db=rng.normal(size=28),
                        band_weight=rng.uniform(size=28), reference="music", evidence=0.5)
    recent = rng.uniform(size=28)
    for kwargs in ({}, {"time_s": 2.1, "refresh": True}):
        got = est.with_recent(recent, 0.1, **kwargs)
        want = replace(est, recent_band_power=recent, recent_seconds=0.1, **kwargs)
        for f in fields(InputEstimate):
            assert _same(getattr(got, f.name), getattr(want, f.name)), f.name
        assert got.recent_band_power is not recent and not got.recent_band_power.flags.writeable
        assert got.band_power is est.band_power and est.recent_band_power is None
    got, want = est.with_evidence(0.75), replace(est, evidence=0.75)
    assert all(_same(getattr(got, f.name), getattr(want, f.name)) for f in fields(InputEstimate))
    assert est.evidence == 0.5
