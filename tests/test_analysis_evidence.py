"""Evidence: the term profile recognises warm- and bright-shaped input (real bundled model).

Inputs: synthetic pink noise and 10 s excerpts of the music in ../shared/audio, each pre-shaped
with the dataset's mean "warm" and mean "bright" response curves (``model.term_curve``). Shaping
is zero-phase FFT-domain filtering with exactly that magnitude curve (interpolated to every FFT
bin), so the input carries the mean curve itself rather than a 5-band approximation of it.

References: pink noise is judged against the built-in pink reference; music against a reference
learned from the same excerpt unshaped (the soundcheck workflow: "learn reference" on the dry
source, then the show sounds warmer or brighter). The live estimates see 2 s windows of the music,
whose own balance moves by several dB from phrase to phrase, so they are a real test of robustness.
"""

from __future__ import annotations

import numpy as np
import pytest

from semeq_live.analysis import Analyzer, ReferenceSpectrum

PINK_FS = 48000
EXCERPT = (10.0, 20.0)  # seconds of each music file
UPDATE_S = 0.1


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


def shape_with_curve(x: np.ndarray, fs: float, curve_db_at) -> np.ndarray:
    """Zero-phase FFT-domain filter of ``x [n, ch]`` by the magnitude curve ``curve_db_at(freqs)``."""
    n = len(x)
    spec = np.fft.rfft(x, axis=0)
    f = np.fft.rfftfreq(n, 1.0 / fs)
    gain = 10.0 ** (curve_db_at(np.maximum(f, 1.0)) / 20.0)
    return np.fft.irfft(spec * gain[:, None], n, axis=0)


def shape_with_term(x, fs, model, term):
    return shape_with_curve(x, fs, lambda f: model.term_curve(term, f))


def load_excerpt(path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    info = sf.info(str(path))
    start, stop = (int(t * info.samplerate) for t in EXCERPT)
    x, fs = sf.read(str(path), start=start, stop=stop, dtype="float64", always_2d=True)
    return x, fs


def live_estimates(analyzer: Analyzer, x: np.ndarray, block: int = 512):
    """Push like the audio callback, update every 0.1 s like the analysis thread."""
    x = x.astype(np.float32)
    per_update = int(UPDATE_S * analyzer.sample_rate)
    ests, pending = [], 0
    for i in range(0, len(x), block):
        analyzer.push(x[i:i + block])
        pending += len(x[i:i + block])
        if pending >= per_update:
            pending = 0
            ests.append(analyzer.update())
    return ests


def analyzer_for(model, fs, channels, reference=None, learn_from=None) -> Analyzer:
    an = Analyzer(fs, channels, model=model, reference=reference)
    if learn_from is not None:
        live_estimates(an, learn_from)
        an.learn_reference()
        an.reset()
    return an


def _ranks_first(est, first, second) -> bool:
    return est.similarity(first) > est.similarity(second)


def check_profile(model, an: Analyzer, shaped: np.ndarray, term: str, other: str, min_fraction: float):
    ests = live_estimates(an, shaped)
    steady = ests[int(round(an.window_s / UPDATE_S)):]  # once the first window is full
    assert steady and all(e.confident for e in steady), {e.reason for e in steady if not e.confident}
    fraction = np.mean([_ranks_first(e, term, other) for e in steady])
    power, level_db = an.average_since_reset()
    overall = an.estimate_from_power(power, level_db=level_db)
    assert overall.confident
    assert _ranks_first(overall, term, other), overall.profile
    assert fraction >= min_fraction, f"{term} above {other} in only {fraction:.0%} of live estimates"
    return overall, fraction


@pytest.mark.parametrize("term, other", [("warm", "bright"), ("bright", "warm")])
def test_pink_noise_shaped_like_a_term_is_recognised(bundled_model, term, other):
    x = shape_with_term(make_pink(8.0), PINK_FS, bundled_model, term)
    an = analyzer_for(bundled_model, PINK_FS, 2, reference=ReferenceSpectrum.builtin("pink"))
    overall, fraction = check_profile(bundled_model, an, x, term, other, min_fraction=1.0)
    assert overall.profile[0][0] == term  # steady noise: the shaped term is the top match


@pytest.mark.parametrize("term, other", [("warm", "bright"), ("bright", "warm")])
def test_music_shaped_like_a_term_is_recognised(bundled_model, music_files, term, other):
    for path in music_files:
        dry, fs = load_excerpt(path)
        an = analyzer_for(bundled_model, fs, dry.shape[1], learn_from=dry)
        check_profile(bundled_model, an, shape_with_term(dry, fs, bundled_model, term), term, other,
                      min_fraction=0.75)


def test_silence_and_a_lone_tone_give_no_estimate(bundled_model):
    an = analyzer_for(bundled_model, PINK_FS, 2)
    assert not any(e.confident for e in live_estimates(an, np.zeros((3 * PINK_FS, 2))))
    t = np.arange(3 * PINK_FS) / PINK_FS
    tone = np.repeat((0.3 * np.sin(2 * np.pi * 1000 * t))[:, None], 2, axis=1)
    an = analyzer_for(bundled_model, PINK_FS, 2)
    ests = live_estimates(an, tone)
    assert not any(e.confident for e in ests)
    assert all(e.profile is None and e.z_a is None for e in ests)
    # Very quiet programme (-75 dBFS) is "too quiet", not a guess.
    an = analyzer_for(bundled_model, PINK_FS, 2)
    quiet = live_estimates(an, make_pink(3.0, rms=10 ** (-75 / 20)))
    assert not any(e.confident for e in quiet) and "too quiet" in quiet[-1].reason


def test_level_gate_has_hysteresis_so_a_fade_does_not_flicker(bundled_model):
    ref = ReferenceSpectrum.builtin("pink")
    an = analyzer_for(bundled_model, PINK_FS, 2, reference=ref)  # gate at -60 dBFS, 6 dB hysteresis

    def settle(level_db):
        return live_estimates(an, make_pink(2.5, rms=10 ** (level_db / 20), seed=int(-level_db)))[-1]

    assert not settle(-63.0).confident  # below the gate from the start
    assert settle(-57.0).confident
    assert settle(-63.0).confident  # within the hysteresis once confident
    e = settle(-68.0)
    assert not e.confident and "too quiet" in e.reason
    assert not settle(-63.0).confident  # and must climb back above -60 again
