"""Evidence: adaptive intensity with the real bundled model, on every source of ``evidence.py``.

With target "warm" and k = 1, input that is already warm-shaped gets a smaller correction than
bright-shaped input: the applied EQ's RMS change over the bands with signal (weighted by the
estimate's band weights, median over the live updates once the window is full, no auto-gain).
Goal: >= 3 dB less; where a source does not reach it, ``SHORTFALLS`` says what it reaches and why,
and the test holds it there. k = 0 is flat to 0.01 dB, in the filter design and measured through
the real EQ processor.
"""

from __future__ import annotations

import numpy as np
import pytest

from semeq_live.analysis.bands import BandAnalyzer
from semeq_live.control.engine import MODE_ADAPTIVE, MODE_FLAT, SemanticEngine
from semeq_live.control.state import ControlState
from semeq_live.dsp.design import log_frequency_grid

from . import evidence as E
from .test_analysis_evidence import PINK_FS, bundled_model, make_pink  # noqa: F401

GRID = log_frequency_grid(96, 20.0, 20000.0)

# source -> (the difference it is held to, dB, a little under what it reaches: README table; the
# figures move by a few tenths of a dB from one training run to the next; why it is short of 3 dB).
# The drum loop (3.3 dB) reaches the goal since the deviation is judged over 4 s; the female voice (3.5), the string section (3.5) and the mallet (3.3) since the curve
# encoder is trained unbiased (the mean of 4 noise draws per curve, training/curve_encoder.py);
# the plucked string (3.1) since the encoder's reading is refined (semeq_live/model/refine.py).
SHORTFALLS: dict[str, tuple[float, str]] = {
    "hats": (0.0, "over the hats' range (3.15-16 kHz) the mean warm and bright curves differ by level "
                  "(7.1 dB), not by shape (0.33 dB RMS level-free): the input's level says "
                  "nothing (it is how loud the hats play), so no estimate can tell how much of the "
                  "correction is a gain. Held to: never more correction for the warm-shaped input"),
    "bass line": (1.3, "over the bass line's own range the mean warm and bright curves differ by "
                       "little shape: 1.18 dB RMS level-free over 40-630 Hz, 2.18 dB over 31.5 Hz-1 "
                       "kHz (its top harmonics, 42 dB down); it read 3.6 dB while each note was cut "
                       "off with a click whose broadband floor (42-52 dB down up to 20 kHz) carried "
                       "the curves' large high-shelf difference"),
    "lead line": (2.7, "notes coming and going in the fundamentals' bands (see the profile test); "
                       "2.80 dB with the encoder's reading refined (2.65 before; the encoder "
                       "kept 79 % of the measured warm-bright difference, the refined reading 93 %)"),
    "speech_male_librispeech": (1.2, "this voice's lows lie 7-9 dB above the ANSI speech spectrum, so "
                                     "shaped warm it reads far warmer than warm (a 6 dB low cut); 1.32 "
                                     "dB even without the no-signal rule; 1.25 since the re-fit may cut "
                                     "where the voice has nothing (1.19 before)"),
    "plucked string": (2.8, "its bright-shaped take has a band between its notes (316 Hz, 37 dB under "
                            "its strongest) that carries nothing in the window, so the allowance dips "
                            "to 1.3 dB inside its range; the re-fit that may cut where there is nothing "
                            "also carves that hole into the warm-shaped take's correction at times "
                            "(2.87 dB; 3.11 while it could only turn boosts down; level-free 1.85 -> "
                            "1.66 dB, README)"),
    # Held-out instruments (never tuned on): what they reach, held there.
    "brass line": (0.7, "the line's own tilt moves with each note's dynamic (louder is brighter, by "
                        "construction), more than the shaping does; 0.71 dB with the encoder's "
                        "reading refined (0.92 before: its bright-shaped take now reads less "
                        "bright-corrected, 2.04 -> 1.87 dB); 0.76 with the re-fit that may cut"),
}


def need(name: str) -> float:
    return SHORTFALLS.get(name, (E.GOALS["warm_vs_bright_db"], ""))[0]


def check(model, src: E.Source) -> dict:
    fig = E.warm_vs_bright_db(model, src)
    for shape in ("warm", "bright"):
        _, settings = E.applied_change_db(model, src, shape)
        assert settings and all(s.mode == MODE_ADAPTIVE for s in settings), \
            (src.name, shape, {s.reason for s in settings if s.mode != MODE_ADAPTIVE})
    assert fig["difference"] >= need(src.name), (src.name, fig)
    return fig


@pytest.mark.parametrize("name", [*(n for n in E.synth_sources.SOURCES if n != "sine melody"),
                                  *E.synth_sources.HELD_OUT])
def test_made_sources_already_warm_get_less_warming(bundled_model, name):
    check(bundled_model, E.made_source(name))


def test_music_already_warm_gets_less_warming(bundled_model, music_files):
    for path in music_files:
        check(bundled_model, E.music_source(path))


def test_speech_already_warm_gets_less_warming(bundled_model, speech_files):
    for path in speech_files:
        check(bundled_model, E.speech_source(path))


def test_pink_noise_already_warm_gets_clearly_less_warming(bundled_model):
    src = E.Source("pink noise", make_pink(8.0), PINK_FS, "pink", kind="made")
    assert check(bundled_model, src)["difference"] >= 3.0


def test_the_sine_melody_falls_back_to_the_static_target(bundled_model):
    """No estimate: the static target scaled by intensity, and the reason says why."""
    src = E.made_source("sine melody")
    _, settings = E.applied_change_db(bundled_model, src, "warm")
    assert all(s.mode.startswith("static fallback") and "near-pure tone" in s.reason for s in settings)


def test_k0_is_flat_in_design_and_through_the_processor(bundled_model, music_files):
    from semeq_live.dsp import EQProcessor

    src = E.music_source(music_files[0])
    fs = src.fs
    _, settings = E.applied_change_db(bundled_model, src, "bright", intensity=0.0)
    assert all(s.mode == MODE_FLAT for s in settings)
    assert max(np.abs(s.applied_db(GRID, fs)).max() for s in settings) <= 0.01

    # Through the real kernel, with the estimate (and so both cascades) moving all the time.
    x = E.shape_with_term(src.audio, fs, bundled_model, "bright")
    an = E.analyzer_for(bundled_model, src)
    engine = SemanticEngine(bundled_model, fs)
    state = ControlState(term_a="warm", intensity=0.0)
    proc = EQProcessor(fs, x.shape[1], subsonic_hz=0)  # the EQ alone (protection: test_protection)
    x32 = (0.5 * x / np.abs(x).max()).astype(np.float32)
    out = np.empty_like(x32)
    per_update = int(E.UPDATE_S * fs)
    for i in range(0, len(x32), per_update):
        blk = x32[i:i + per_update]
        an.push(blk)
        engine.compute(state, an.update()).apply_to(proc)
        out[i:i + per_update] = proc.process(blk)
    assert np.max(np.abs(out - x32)) < 1e-4
    bands = BandAnalyzer(fs, 16384)
    p_in, _ = bands.band_power(x32[fs:fs + 16384])
    p_out, _ = bands.band_power(out[fs:fs + 16384])
    assert np.max(np.abs(10 * np.log10(p_out / p_in))) <= 0.01



def test_the_analyzer_s_evidence_grows_from_the_first_estimate_to_a_full_window(bundled_model):
    src = E.made_source("bass line")
    ests = [e for e in E.shaped_estimates(bundled_model, src, "bright") if e.confident]
    ev = np.array([e.evidence for e in ests])
    assert ev[0] < 0.1 and np.all(np.diff(ev) >= 0.0)
    full = np.flatnonzero(ev >= 1.0)
    assert full.size and ests[full[0]].time_s <= E.WINDOW_S + 0.3  # full once the window is


# The first adaptive update's move away from the static fallback before it (RMS dB over the bands
# with signal), eased in: measured 0.83 / 1.24 / 1.36 dB (4.01 / 3.12 / 2.98 dB when the first
# estimate acts in full, as before the ease-in; with the shrunk encoder before: 0.75 / 1.21 / 1.59
# against 3.80 / 3.15 / 2.36 dB).
FIRST_MOVE_DB = 1.5


@pytest.mark.parametrize("name, shape", [("bass line", "bright"), ("brass line", "warm"),
                                         ("string section", "warm")])
def test_the_correction_eases_in_on_a_new_source_then_is_the_full_one(bundled_model, name, shape):
    """Live order (every estimate from the first): the first estimate does not lurch the EQ away
    from the static fallback it replaces; once the analyzer's window is full, the settings are
    exactly those of an engine that takes every estimate in full (steady state unchanged)."""
    from dataclasses import replace

    from semeq_live.params import ANALYSIS_FREQS

    src = E.made_source(name)
    ref = E.reference_for(bundled_model, src).band_db
    eased = SemanticEngine(bundled_model, src.fs, reference_band_db=ref)
    direct = SemanticEngine(bundled_model, src.fs, reference_band_db=ref)
    state = ControlState(term_a="warm", term_b="warm", intensity=1.0, autogain=False)
    moves, prev, settled = {}, {}, 0
    for est in E.shaped_estimates(bundled_model, src, shape):
        s, d = eased.compute(state, est), direct.compute(state, replace(est, evidence=1.0))
        for key, settings in (("eased", s), ("direct", d)):
            h = settings.applied_db(ANALYSIS_FREQS, src.fs)
            if settings.mode == MODE_ADAPTIVE and key not in moves:
                moves[key] = E.weighted_rms(h - prev[key], est.band_weight)
            prev[key] = h
        if est.confident and est.evidence >= 1.0:
            settled += 1
            # The same EQ up to float rounding (the decoder batches differ between the engines).
            assert np.abs(prev["eased"] - prev["direct"]).max() <= 1e-4
    assert settled > 50
    assert moves["eased"] <= FIRST_MOVE_DB, moves
    assert moves["eased"] < moves["direct"], moves
