"""Evidence: with auto-gain on, a full warm -> bright morph stays within +-1 LU of the input.

Rendered through the real EQProcessor with the live analyzer and semantic engine (real bundled
model) updating every 0.1 s of audio, exactly as live; loudness measured with an independent
ITU-R BS.1770 meter (pyloudnorm): integrated over the whole morph and over every 3 s stretch of it
(the EBU R128 short-term window).
Inputs: pink noise and the music excerpts of ../shared/audio, analysed against the built-in
references (pink for the noise, the default music reference for the music) with nothing learned.
"""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from semeq_live.analysis import Analyzer, ReferenceSpectrum
from semeq_live.control.engine import SemanticEngine
from semeq_live.control.state import ControlState

from .test_analysis_evidence import PINK_FS, UPDATE_S, bundled_model, load_excerpt, make_pink  # noqa: F401

SEGMENT_S = 3.0


def render_morph(model, x, fs, reference, adaptive=True, autogain=True, intensity=1.0):
    """Morph alpha 0 -> 1 (warm -> bright) over the whole input; returns the float32 output."""
    from semeq_live.dsp import EQProcessor

    ch = x.shape[1]
    an = Analyzer(fs, ch, model=model, reference=reference)
    engine = SemanticEngine(model, fs, reference_band_db=reference.band_db)
    proc = EQProcessor(fs, ch)
    state = ControlState(term_a="warm", term_b="bright", alpha=0.0, intensity=intensity,
                         adaptive=adaptive, autogain=autogain)
    x32 = x.astype(np.float32)
    out = np.empty_like(x32)
    step = int(UPDATE_S * fs)
    for i in range(0, len(x32), step):
        blk = x32[i:i + step]
        an.push(blk)
        state.update(alpha=i / len(x32))
        engine.compute(state, an.update()).apply_to(proc)
        out[i:i + step] = proc.process(blk)
    return out


def loudness_errors(fs, x, y):
    meter = pyloudnorm.Meter(fs)
    whole = meter.integrated_loudness(y) - meter.integrated_loudness(x)
    seg = int(SEGMENT_S * fs)
    parts = [meter.integrated_loudness(y[i:i + seg]) - meter.integrated_loudness(x[i:i + seg])
             for i in range(0, len(x) - seg + 1, seg)]
    return whole, np.array(parts)


def _inputs(music_files):
    yield "pink noise", make_pink(10.0, rms=0.05), PINK_FS, ReferenceSpectrum.builtin("pink")
    for path in music_files:
        x, fs = load_excerpt(path)
        # Live input has headroom: peaks at -6 dBFS, so the output limiter never colours the result.
        yield path.stem, 0.5 * x / np.abs(x).max(), fs, ReferenceSpectrum.default()


@pytest.mark.parametrize("adaptive", [True, False], ids=["adaptive", "static"])
def test_autogain_keeps_a_full_morph_within_one_lu(bundled_model, music_files, adaptive):
    for name, x, fs, ref in _inputs(music_files):
        y = render_morph(bundled_model, x, fs, ref, adaptive=adaptive)
        whole, parts = loudness_errors(fs, x, y)
        assert abs(whole) <= 1.0, (name, whole)
        assert np.max(np.abs(parts)) <= 1.0, (name, np.round(parts, 2))


def test_without_autogain_the_morph_changes_loudness(bundled_model):
    """The same render with auto-gain off moves further from the input (so the test above has teeth)."""
    x = make_pink(10.0, rms=0.05)
    ref = ReferenceSpectrum.builtin("pink")
    on = loudness_errors(PINK_FS, x, render_morph(bundled_model, x, PINK_FS, ref, adaptive=False))[1]
    off = loudness_errors(PINK_FS, x, render_morph(bundled_model, x, PINK_FS, ref, adaptive=False,
                                                   autogain=False, intensity=1.5))[1]
    assert np.max(np.abs(off)) > 1.0
    assert np.max(np.abs(on)) < np.max(np.abs(off))


def test_autogain_does_not_pump_on_music(bundled_model, music_files):
    """Fixed EQ (static warm at full intensity) on real music: the compensation glides, it never
    follows the music's dynamics (steps per 0.1 s update stay tiny, the whole range small)."""
    for path in music_files:
        x, fs = load_excerpt(path)
        x = 0.5 * x / np.abs(x).max()
        ref = ReferenceSpectrum.default()
        an = Analyzer(fs, 2, model=bundled_model, reference=ref)
        engine = SemanticEngine(bundled_model, fs, reference_band_db=ref.band_db)
        state = ControlState(term_a="warm", term_b="warm", intensity=1.0, adaptive=False)
        x32 = x.astype(np.float32)
        step = int(UPDATE_S * fs)
        gains = []
        for i in range(0, len(x32), step):
            an.push(x32[i:i + step])
            gains.append(engine.compute(state, an.update()).autogain_db)
        g = np.array(gains[int(2.0 / UPDATE_S):])  # once the analysis window is full
        assert np.max(np.abs(np.diff(g))) <= 0.1, (path.stem, np.round(np.diff(g), 3))
        assert np.ptp(g) <= 1.0, (path.stem, np.round(g, 2))
