"""Evidence: with auto-gain on, a full warm -> bright morph stays within +-1 LU of the input.

Rendered through the real EQProcessor with the live analyzer and semantic engine (real bundled
model) updating every 0.1 s of audio, exactly as live; loudness measured with an independent
ITU-R BS.1770 meter (pyloudnorm): integrated over the whole morph and over every 3 s stretch of it
(the EBU R128 short-term window; a silent stretch of speech has no loudness and is skipped).
Inputs: every source of ``evidence.py`` (music, 16 kHz speech, the made sources including the sine
melody, which has no estimate and so runs on the static target) and pink noise, each with its
reference; and, beyond the tables, ``loudness_sources``: sung lines at three pitches, held
vowels, a choir, an organ pad, a flute line and a celesta-like line jumping register, four takes
each, with their reference and on the default path.
"""

from __future__ import annotations

import numpy as np
import pytest

from semeq_live.analysis import Analyzer, ReferenceSpectrum
from semeq_live.control.engine import SemanticEngine
from semeq_live.control.state import ControlState

from . import evidence as E
from . import loudness_sources as LS
from .test_analysis_evidence import PINK_FS, bundled_model, make_pink  # noqa: F401


def check_morph(model, src: E.Source, adaptive: bool = True) -> np.ndarray:
    x, y = E.render_morph(model, src, adaptive=adaptive)
    whole, parts = E.loudness_errors(src.fs, x, y)
    assert parts.size >= 2, src.name
    assert abs(whole) <= E.GOALS["lu"], (src.name, whole)
    assert np.max(np.abs(parts)) <= E.GOALS["lu"], (src.name, np.round(parts, 2))
    return parts


@pytest.mark.parametrize("name", [*E.synth_sources.SOURCES, *E.synth_sources.HELD_OUT])
def test_made_sources_morph_within_one_lu(bundled_model, name):
    check_morph(bundled_model, E.made_source(name))


@pytest.mark.parametrize("name", list(E.synth_voices.VOICES))
def test_made_voices_morph_within_one_lu(bundled_model, name):
    """The made voices, the sung one included, against ``voice`` and on the default path (the sung
    line was 1.68 / 1.31 LU off while its resonators clicked at each note: docs/adaptive.md)."""
    src = E.made_voice_source(name)
    check_morph(bundled_model, src)
    check_morph(bundled_model, E.default_path(src))


@pytest.mark.parametrize("adaptive", [True, False], ids=["adaptive", "static"])
def test_music_morph_within_one_lu(bundled_model, music_files, adaptive):
    for path in music_files:
        check_morph(bundled_model, E.music_source(path), adaptive)


def test_speech_morph_within_one_lu(bundled_model, speech_files):
    for path in speech_files:
        check_morph(bundled_model, E.speech_source(path))


@pytest.mark.parametrize("adaptive", [True, False], ids=["adaptive", "static"])
def test_pink_noise_morph_within_one_lu(bundled_model, adaptive):
    check_morph(bundled_model, E.Source("pink noise", make_pink(10.0, rms=0.05), PINK_FS, "pink"), adaptive)


def test_without_autogain_the_morph_changes_loudness(bundled_model):
    """The same render with auto-gain off moves further from the input (so the tests above have teeth)."""
    src = E.Source("pink noise", make_pink(10.0, rms=0.05), PINK_FS, "pink")
    on = E.loudness_errors(PINK_FS, *E.render_morph(bundled_model, src, adaptive=False))[1]
    off = E.loudness_errors(PINK_FS, *E.render_morph(bundled_model, src, adaptive=False,
                                                     autogain=False, intensity=1.5))[1]
    assert np.max(np.abs(off)) > 1.0
    assert np.max(np.abs(on)) < np.max(np.abs(off))


def test_autogain_does_not_pump_on_music(bundled_model, music_files):
    """Fixed EQ (static warm at full intensity) on real music: the compensation glides, it never
    follows the music's dynamics (at most 1 dB per second, the whole range within 1 dB)."""
    for path in music_files:
        x, fs = E.read(path, (10.0, 20.0))  # one section of each song (a new section may glide 1 dB)
        x = 0.5 * x / np.abs(x).max()
        ref = ReferenceSpectrum.default()
        an = Analyzer(fs, 2, model=bundled_model, reference=ref)
        engine = SemanticEngine(bundled_model, fs, reference_band_db=ref.band_db)
        state = ControlState(term_a="warm", term_b="warm", intensity=1.0, adaptive=False)
        x32 = x.astype(np.float32)
        step = int(E.UPDATE_S * fs)
        gains = []
        for i in range(0, len(x32), step):
            an.push(x32[i:i + step])
            gains.append(engine.compute(state, an.update()).autogain_db)
        g = np.array(gains[int(2.0 / E.UPDATE_S):])  # once the analysis window is full
        # New estimates come about three times a second (not at every 0.1 s update): judge the
        # slew over 0.4 s, at most 1 dB per second, and the whole range.
        slew = np.abs(g[4:] - g[:-4])
        assert np.max(slew) <= 0.4, (path.stem, np.round(slew, 3))
        assert np.ptp(g) <= 1.0, (path.stem, np.round(g, 2))


# The sung lines' measured shortfall (docs/adaptive.md, "Auto-gain beyond the tables"), held so it cannot
# grow: under a big adaptive EQ the loudness change of one held note differs from the next by up
# to 8 dB. Auto-gain sees a new note in the newest 0.13-0.19 s frame at each analyzer update
# (about 0.1 s after it begins) and follows it with a 0.3 s average; 32 takes (4 lines x 4 seeds x
# reference / default path): 1 over 1 LU (the male line's fourth take, 1.11), mean 0.50. With the
# analyzer's 0.34 s segments (a note seen 0.2-0.3 s late) and a 0.5 s average, same voices, same
# run: 8, worst 2.06, mean 0.76.
SUNG_OVER_ONE_LU, SUNG_WORST_LU, SUNG_MEAN_LU = 1, 1.2, 0.55


def _takes(model, make, names):
    return {(path.name, path.reference): LS.worst_window_lu(model, path)
            for name in names for seed in LS.SEEDS for src in [make(name, seed)]
            for path in (src, E.default_path(src))}


def test_sung_lines_morph_near_the_input_loudness(bundled_model):
    lines = [name for name in LS.synth_voices.SUNG_LINES if name != "choir"]
    worst = _takes(bundled_model, LS.sung_source, lines)
    v = np.abs(list(worst.values()))
    assert v.size == 32
    assert (v > E.GOALS["lu"]).sum() <= SUNG_OVER_ONE_LU, {k: round(x, 2) for k, x in worst.items() if abs(x) > 1}
    assert v.max() <= SUNG_WORST_LU and v.mean() <= SUNG_MEAN_LU, (v.max(), v.mean())


@pytest.mark.parametrize("name", ["choir", *LS.synth_sources.LOUDNESS_EXTRA, *LS.INSTRUMENTS])
def test_choir_organ_flute_and_celesta_morph_within_one_lu(bundled_model, name):
    make = LS.sung_source if name == "choir" else LS.instrument_source
    for key, worst in _takes(bundled_model, make, [name]).items():
        assert abs(worst) <= E.GOALS["lu"], (key, round(worst, 2))


@pytest.mark.parametrize("seed", LS.SEEDS)
def test_a_fixed_eq_on_notes_jumping_register_stays_within_one_lu(bundled_model, seed):
    """The lead's held-out celesta piece (notes jumping register every second) was off by up to
    2 LU under a fixed warm EQ: the EQ's effect moves with the register. The made line that jumps
    every 0.4-1 s, fixed warm, with its reference and on the default path."""
    src = LS.instrument_source("register-jumping mallet", seed)
    for path in (src, E.default_path(src)):
        worst = LS.worst_window_lu(bundled_model, path, alpha=0.0)
        assert abs(worst) <= E.GOALS["lu"], (path.name, path.reference, round(worst, 2))
