"""Evidence: the term profile recognises warm- and bright-shaped input, for any source with
musical signal over a few octaves (real bundled model).

Sources, references and shaping: ``tests/evidence.py`` (the two music excerpts, the two 16 kHz
speech clips against the built-in voice reference, and sparse sources made here: a bass line, a
lead line, hats, a plucked string, a sine melody). For every source: an estimate in >= 90 % of the
live 2 s updates after the first second, and the right word (warm vs bright) ranked above the
other in >= 90 % of them, with the exceptions listed in ``SHORTFALLS`` (measured, explained, and
held to what they do reach so they cannot get worse unnoticed). The sine melody must give "no
estimate" (a near-pure tone).
"""

from __future__ import annotations

import numpy as np
import pytest

from semeq_live.analysis import Analyzer, ReferenceSpectrum
from semeq_live.analysis.presence import tilt_db_per_octave
from semeq_live.params import ANALYSIS_FREQS

from . import evidence as E
from .evidence import shape_with_term  # noqa: F401  (used by other test modules)

PINK_FS = 48000

# Where a source does not reach a goal: (figure, source, shape) -> the share it is held to (a little
# under what it reaches, README table) and why.
SHORTFALLS: dict[tuple[str, str, str], tuple[float, str]] = {
    ("right_word", "speech_female_librispeech", "warm"): (
        0.1, "this recording is about 6 dB brighter above 2.5 kHz than the ANSI speech spectrum: "
             "shaped warm it is still neutral-to-bright against the built-in voice reference "
             "(learned from the voice itself, it is right: that is what 'learn reference' is for). "
             "Judged over 4 s the misfit reads steadier than over 2 s (12 %, 28 % before)"),
    ("right_word", "speech_male_librispeech", "bright"): (
        0.8, "this voice has 7-9 dB more at 125-160 Hz than the ANSI spectrum (a low voice close to "
             "the microphone): shaped bright it keeps warm lows (85 % judged over 4 s, 73 % over 2 s)"),
    # Held-out instruments (never tuned on): what they reach, held there.
    ("right_word", "brass line", "bright"): (
        0.6, "by construction each note has its own dynamic and louder notes are brighter; the "
             "wrong updates are the first 2-3 s, whose few sustained low notes weigh down "
             "199-251 Hz steadily (so the window's steadiness cannot see it); right from then on "
             "(68 %)"),
    ("right_word", "mallet", "warm"): (
        0.82, "fundamentals from 262 Hz, high-passed at 200 Hz: the notes played move 250-630 Hz "
              "by 10-20 dB; weighed by the window's steadiness 87 % (64 % without)"),
}


@pytest.fixture(scope="session")
def bundled_model():
    from semeq_live.model import load_model

    return load_model()  # the shipped default: evidence must come from the real thing


def make_pink(seconds: float, fs: int = PINK_FS, seed: int = 0, rms: float = 0.1) -> np.ndarray:
    """Stereo pink noise (independent channels) from 20 Hz up, float64 ``[n, 2]``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    spec = np.fft.rfft(rng.standard_normal((n, 2)), axis=0)
    f = np.fft.rfftfreq(n, 1.0 / fs)
    spec[1:] /= np.sqrt(f[1:, None])
    spec[f < 20.0] = 0.0
    x = np.fft.irfft(spec, n, axis=0)
    return rms * x / x.std()


def goal(figure: str, source: str, shape: str) -> float:
    return SHORTFALLS.get((figure, source, shape), (E.GOALS[figure], ""))[0]


def _bright_margin(fig) -> float:
    """Mean of similarity(bright) - similarity(warm) over the settled confident estimates."""
    ests = [e for e in E.settled(fig["estimates"]) if e.confident]
    return float(np.mean([e.similarity("bright") - e.similarity("warm") for e in ests]))


def check_source(model, src: E.Source) -> None:
    if src.expect_estimate:  # whatever the ranking: bright-shaped input reads brighter than warm-shaped
        warm, bright = (E.profile_figures(model, src, t, o) for t, o in (("warm", "bright"), ("bright", "warm")))
        assert _bright_margin(bright) > _bright_margin(warm), src.name
    for term, other in (("warm", "bright"), ("bright", "warm")):
        fig = E.profile_figures(model, src, term, other)
        if not src.expect_estimate:
            assert fig["estimate"] == 0.0, (src.name, fig["estimate"])
            assert fig["reasons"] == ["near-pure tone: no timbre to judge (a sine or whistle)"]
            assert not fig["overall"].confident
            continue
        assert fig["estimate"] >= goal("estimate", src.name, term), (src.name, term, fig["reasons"])
        assert fig["right_word"] >= goal("right_word", src.name, term), \
            (src.name, term, f"{term} above {other} in {fig['right_word']:.0%} of the estimates")
        # Every confident estimate says which bands it judged, and never one above Nyquist.
        from semeq_live.analysis.bands import band_edges

        above = band_edges()[1] > src.fs / 2
        for e in E.settled(fig["estimates"]):
            assert e.band_weight is not None and not np.any(e.band_weight[above])


@pytest.mark.parametrize("name", [*E.synth_sources.SOURCES, *E.synth_sources.HELD_OUT])
def test_made_sources(bundled_model, name):
    src = E.made_source(name)
    check_source(bundled_model, src)


def test_music_excerpts(bundled_model, music_files):
    for path in music_files:
        check_source(bundled_model, E.music_source(path))


def test_speech_clips_at_16k_against_the_voice_reference(bundled_model, speech_files):
    for path in speech_files:
        src = E.speech_source(path)
        assert src.fs == 16000 and src.audio.shape[1] == 1
        check_source(bundled_model, src)


@pytest.mark.parametrize("term, other", [("warm", "bright"), ("bright", "warm")])
def test_pink_noise_shaped_like_a_term_is_recognised(bundled_model, term, other):
    """Steady full-range noise against the pink reference: every estimate right, the shaped term on
    top of the whole profile."""
    src = E.Source("pink noise", make_pink(8.0), PINK_FS, "pink", kind="made")
    fig = E.profile_figures(bundled_model, src, term, other)
    assert fig["estimate"] == 1.0 and fig["right_word"] == 1.0
    assert fig["overall"].profile[0][0] == term


def _feed(an, x):
    return E.live_estimates(an, x)


def test_silence_a_lone_tone_and_quiet_input_give_no_estimate_with_their_reasons(bundled_model):
    an = Analyzer(PINK_FS, 2, model=bundled_model)
    ests = _feed(an, np.zeros((3 * PINK_FS, 2)))
    assert not any(e.confident for e in ests) and "too quiet" in ests[-1].reason
    t = np.arange(3 * PINK_FS) / PINK_FS
    tone = np.repeat((0.3 * np.sin(2 * np.pi * 1000 * t))[:, None], 2, axis=1)
    an = Analyzer(PINK_FS, 2, model=bundled_model)
    ests = _feed(an, tone)
    assert not any(e.confident for e in ests)
    assert all(e.profile is None and e.z_a is None for e in ests)
    assert ests[-1].reason.startswith("near-pure tone")
    an = Analyzer(PINK_FS, 2, model=bundled_model)
    early = _feed(an, make_pink(0.3))
    assert early[-1].reason.startswith("listening")
    # Very quiet programme (-75 dBFS) is "too quiet", not a guess.
    an = Analyzer(PINK_FS, 2, model=bundled_model)
    quiet = _feed(an, make_pink(3.0, rms=10 ** (-75 / 20)))
    assert not any(e.confident for e in quiet) and "too quiet" in quiet[-1].reason


def test_a_one_octave_source_is_too_narrow(bundled_model):
    """Noise in one octave (700-1400 Hz): not a tone, but too narrow a range to judge."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(3 * PINK_FS)
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / PINK_FS)
    spec[(f < 700) | (f > 1400)] = 0.0
    x = np.fft.irfft(spec, len(x))
    an = Analyzer(PINK_FS, 1, model=bundled_model)
    e = _feed(an, (0.1 * x / x.std())[:, None])[-1]
    assert not e.confident and e.reason.startswith("too narrow a range")


def _band_noise(lo_hz, hi_hz, seconds=3.0, seed=0):
    rng = np.random.default_rng(seed)
    n = int(seconds * PINK_FS)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / PINK_FS)
    spec[(f < lo_hz) | (f > hi_hz)] = 0.0
    x = np.fft.irfft(spec, n)
    return (0.1 * x / x.std())[:, None]


def test_a_reference_that_does_not_fit_says_so(bundled_model):
    """A reference learned from a bass (40-300 Hz), then a singer's range (300 Hz-8 kHz) plays:
    the reference has nothing where the input has signal. Issue 11 allows no "no estimate" for
    that: the input is judged against its own smooth shape on the bands it plays in, and the
    estimate says the reference does not fit (reference_fit.py)."""
    an = Analyzer(PINK_FS, 1, model=bundled_model)
    _feed(an, _band_noise(40, 300))
    an.learn_reference()
    e = _feed(an, _band_noise(300, 8000, seed=1))[-1]
    assert e.confident and "has little where this input plays" in e.reference_note
    assert "choose or learn a reference" in e.reference_note
    # The bands it plays in are the ones judged (and the ones the boost ceiling allows).
    assert e.band_weight[(ANALYSIS_FREQS > 500) & (ANALYSIS_FREQS < 6000)].min() == 1.0
    assert e.band_weight[ANALYSIS_FREQS < 150].max() == 0.0
    an.learn_reference(seconds=2.0)  # learnt from this input, it fits
    fitted = _feed(an, _band_noise(300, 8000, seed=2))[-1]
    assert fitted.confident and fitted.reference_note is None


def test_white_noise_against_the_music_reference_is_judged_against_its_own_slope(bundled_model):
    """White noise rises 5-6 dB per octave against a mix: no EQ does that. The reference is fitted
    to it (its own slope taken as its neutral) and says so, instead of a confident "very bright"
    whose correction would cut its highs by 12 dB (reference_fit.py)."""
    x = np.random.default_rng(5).standard_normal((3 * PINK_FS, 1)) * 0.05
    e = _feed(Analyzer(PINK_FS, 1, model=bundled_model), x)[-1]
    assert e.confident and 4.5 < e.reference_tilt_db_per_oct < 8.0
    assert e.reference_note.startswith("music, tilted +") and "learn a reference" in e.reference_note
    # What is left is no tilt: white noise is its own neutral.
    assert abs(tilt_db_per_octave(e.deviation_db, e.band_weight)) < 0.5


def test_level_gate_has_hysteresis_so_a_fade_does_not_flicker(bundled_model):
    ref = ReferenceSpectrum.builtin("pink")
    an = Analyzer(PINK_FS, 2, model=bundled_model, reference=ref)  # gate at -60 dBFS, 6 dB hysteresis

    def settle(level_db):
        return _feed(an, make_pink(2.5, rms=10 ** (level_db / 20), seed=int(-level_db)))[-1]

    assert not settle(-63.0).confident  # below the gate from the start
    assert settle(-57.0).confident
    assert settle(-63.0).confident  # within the hysteresis once confident
    e = settle(-68.0)
    assert not e.confident and "too quiet" in e.reason
    assert not settle(-63.0).confident  # and must climb back above -60 again
