"""Reference spectra: built-ins, learn on demand, save/load round trip, clear errors on bad files."""

import json

import numpy as np
import pytest

from semeq_live.analysis import Analyzer, ReferenceCaptureError, ReferenceFileError, ReferenceSpectrum
from semeq_live.errors import SemeqError
from semeq_live.params import ANALYSIS_FREQS

from .test_analysis_spectrum import feed, pink_noise

FS = 48000


def test_builtins():
    music = ReferenceSpectrum.default()
    assert music.name == "music"
    assert music.band_db[np.argmin(np.abs(ANALYSIS_FREQS - 200.0))] == 0.0
    assert music.band_db[-1] < -12.0  # full mixes fall faster than pink at the top
    assert np.all(ReferenceSpectrum.builtin("pink").band_db == 0.0)
    for name in ("music", "pink"):
        np.testing.assert_array_equal(ReferenceSpectrum.builtin(name).band_weight, 1.0)
    with pytest.raises(ReferenceFileError, match="choose music, voice, pink"):
        ReferenceSpectrum.builtin("purple")


def test_voice_reference_is_the_ansi_speech_spectrum():
    """ANSI S3.5-1997 Table 3 (normal effort) as third-octave band levels: its peak at 500 Hz,
    about 21 dB down at 8 kHz (the table: 34.27 dB/Hz at 500 Hz, 1.13 dB/Hz at 8 kHz, plus 12 dB
    more bandwidth), and judged only where speech has energy."""
    voice = ReferenceSpectrum.builtin("voice")
    f = ANALYSIS_FREQS
    at = lambda hz: int(np.argmin(np.abs(f - hz)))  # noqa: E731
    assert voice.band_db[at(500)] == 0.0
    assert voice.band_db[at(8000)] == pytest.approx(1.13 - 34.27 + 10 * np.log10(8000 / 500), abs=0.05)
    assert voice.band_db[at(1000)] == pytest.approx(25.01 - 34.27 + 10 * np.log10(2.0), abs=0.05)
    assert np.all(voice.band_weight[(f > 150) & (f < 8500)] == 1.0)
    assert np.all(voice.band_weight[(f < 90) | (f > 14000)] == 0.0)
    assert ReferenceSpectrum.resolve("voice").name == "voice"


def test_learned_reference_makes_the_same_input_read_neutral(tmp_path):
    rng = np.random.default_rng(0)
    an = Analyzer(FS, 2)
    # Strongly tilted noise: far from any built-in reference.
    x = pink_noise(3 * FS, FS, rng)
    spec = np.fft.rfft(x)
    spec *= np.fft.rfftfreq(len(x), 1 / FS) ** 0.6 + 1.0
    tilted = np.fft.irfft(spec, len(x))
    tilted *= 0.1 / tilted.std()
    feed(an, tilted)
    before = an.update()
    # Learnt from the stretch the deviation is judged over (judge_window_s), it is that stretch.
    ref = an.learn_reference(seconds=an.judge_window_s)
    after = an.update()
    # Far from the music reference: judged against it tilted to fit (reference_fit.py), and said.
    assert before.reference_tilt_db_per_oct > 4.5 and "to fit this source" in before.reference_note
    assert after.reference_note is None and after.reference_tilt_db_per_oct is None
    assert np.abs(after.deviation_db).max() < 1e-9  # same stretch, now the reference itself
    # It survives a save/load round trip into a fresh analyzer.
    path = an.save_reference(tmp_path / "refs" / "soundcheck.json")
    an2 = Analyzer(FS, 2)
    loaded = an2.load_reference(path)
    np.testing.assert_allclose(loaded.band_db, ref.band_db, atol=1e-4)
    assert loaded.meta["sample_rate"] == FS
    feed(an2, tilted)
    assert np.sqrt(np.mean(an2.update().deviation_db ** 2)) < 1.0


def test_learning_averages_a_longer_stretch_than_the_window():
    rng = np.random.default_rng(6)
    an = Analyzer(FS, 1, learn_seconds=30.0)
    feed(an, pink_noise(6 * FS, FS, rng, rms=0.1))
    feed(an, 0.01 * rng.standard_normal(2 * FS))
    # The last 2 s are quieter white noise; the learned reference still reflects all 8 s.
    ref = an.learn_reference()
    assert ref.meta["seconds"] == pytest.approx(8.0, abs=an.hop / FS)  # to one hop
    white_tilt = an.learn_reference(seconds=1.0).band_db
    assert white_tilt[-1] - white_tilt[5] > 18.0  # white noise: +1 dB per third-octave band upwards
    assert abs(ref.band_db[-1] - ref.band_db[5]) < 6.0


@pytest.mark.parametrize("fs", [16000, 22050])
def test_learning_at_a_low_sample_rate_leaves_the_top_bands_unjudged(fs, tmp_path):
    rng = np.random.default_rng(10)
    an = Analyzer(fs, 1)
    feed(an, pink_noise(3 * fs, fs, rng))
    ref = an.learn_reference()
    above = ~an.bands.valid
    assert above.any() and np.all(ref.band_weight[above] == 0.0)
    assert np.all(ref.band_weight[an.bands.valid] > 0.9)
    loaded = ReferenceSpectrum.load(ref.save(tmp_path / "low.json"))
    np.testing.assert_allclose(loaded.band_weight, ref.band_weight, atol=1e-4)
    # The same programme against it: every measurable band judged, deviation near zero.
    e = feed(an, pink_noise(3 * fs, fs, rng))[-1]
    np.testing.assert_array_equal(e.band_weight[above], 0.0)
    # (the lowest bands hold a few FFT bins each: a few dB of statistical ripple in 2 s)
    assert np.abs(e.deviation_db[an.bands.valid & (ANALYSIS_FREQS > 200)]).max() < 1.5


def test_a_learned_reference_only_judges_the_bands_it_had():
    """Learned from a band-limited source: the bands that were empty at soundcheck get weight 0."""
    fs = 48000
    rng = np.random.default_rng(11)
    x = rng.standard_normal(3 * fs)
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / fs)
    spec[(f < 150) | (f > 3000)] = 0.0
    x = np.fft.irfft(spec, len(x))
    an = Analyzer(FS, 1)
    feed(an, 0.1 * x / x.std())
    ref = an.learn_reference()
    assert np.all(ref.band_weight[(ANALYSIS_FREQS < 80) | (ANALYSIS_FREQS > 6000)] == 0.0)
    assert np.all(ref.band_weight[(ANALYSIS_FREQS > 200) & (ANALYSIS_FREQS < 2500)] == 1.0)


def test_next_reference_cycles_auto_the_builtins_and_the_learned_one():
    an = Analyzer(FS, 1)
    assert an.reference.name == "music"
    assert [an.next_reference().name for _ in range(3)] == ["voice", "pink", "auto"]
    assert an.auto is not None
    assert an.next_reference().name == "music" and an.auto is None
    feed(an, pink_noise(3 * FS, FS, np.random.default_rng(12)))
    an.learn_reference()
    assert an.reference.name == "learned"
    assert [an.next_reference().name for _ in range(5)] == ["auto", "music", "voice", "pink", "learned"]
    assert an.next_reference(-1).name == "pink"


def test_learning_from_silence_or_too_little_audio_is_refused():
    an = Analyzer(FS, 1)
    with pytest.raises(ReferenceCaptureError, match="not enough audio"):
        an.learn_reference()
    feed(an, np.zeros(2 * FS))
    with pytest.raises(ReferenceCaptureError, match="too quiet"):
        an.learn_reference()
    t = np.arange(2 * FS) / FS
    feed(an, 0.3 * np.sin(2 * np.pi * 440 * t))
    with pytest.raises(ReferenceCaptureError, match="too narrow"):
        an.learn_reference(seconds=1.5)
    assert an.reference.name == "music"  # the old reference is kept


@pytest.mark.parametrize("content, message", [
    ("not json", "not a JSON reference file"),
    ('{"format": "something else"}', "not a semeq-live reference"),
    ('{"format": "semeq-live reference spectrum", "version": 99}', "version 99"),
    ('{"format": "semeq-live reference spectrum", "version": 1}', "missing key"),
    ('{"format": "semeq-live reference spectrum", "version": 1, "band_centres_hz": [1, 2], "band_db": [0, 0]}',
     "band centres"),
])
def test_bad_files_give_clear_errors_and_keep_the_old_reference(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    an = Analyzer(FS, 1)
    with pytest.raises(ReferenceFileError, match=message) as info:
        an.load_reference(path)
    assert isinstance(info.value, SemeqError) and str(path) in str(info.value)
    assert an.reference.name == "music"


def test_non_finite_levels_and_missing_file(tmp_path):
    good = ReferenceSpectrum.builtin("pink").save(tmp_path / "ok.json")
    doc = json.loads(good.read_text())
    doc["band_db"][3] = "NaN"
    bad = tmp_path / "nan.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ReferenceFileError):
        ReferenceSpectrum.load(bad)
    with pytest.raises(ReferenceFileError, match="not found"):
        ReferenceSpectrum.load(tmp_path / "nope.json")
    assert ReferenceSpectrum.resolve(str(good)).name == "pink"
    assert ReferenceSpectrum.resolve(None).name == "music"


def test_the_reference_action_and_key_step_through_the_references():
    """The mapping target / panel key: the control loop selects the next reference and logs it."""
    import time

    from semeq_live.audio.metrics import CallbackMetrics
    from semeq_live.control.engine import SemanticEngine
    from semeq_live.control.loop import LiveControl
    from semeq_live.control.state import ControlState
    from semeq_live.dsp import EQProcessor
    from semeq_live.midi.targets import TARGETS, TRIGGER
    from semeq_live.model import load_model
    from semeq_live.ui.keyboard import key_command

    assert TARGETS["reference"].kind == TRIGGER
    assert key_command("R") == ("action", "reference")
    model = load_model()
    an = Analyzer(FS, 2, model=model)
    events = []
    ctl = LiveControl(ControlState(), SemanticEngine(model, FS), EQProcessor(FS, 2),
                      CallbackMetrics(FS, 128), terms=model.terms, analyzer=an,
                      on_event=lambda kind, fields: events.append((kind, fields)))
    ctl.start()
    try:
        for _ in range(2):
            ctl.command(key_command("R"))
        deadline = time.monotonic() + 5
        while sum(k == "action" for k, _ in events) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        ctl.stop()
    assert [f["arg"] for k, f in events if k == "action"] == ["voice", "pink"]
    assert an.reference.name == "pink"


@pytest.mark.parametrize("spec, message", [("vocie", "did you mean voice"), ("mix", "choose auto, music, voice, pink"), ("atuo", "did you mean auto")])
def test_a_mistyped_builtin_name_is_refused_everywhere(spec, message, tmp_path):
    """`--reference vocie` must not pass for a (new) file name: analyze, render and run say so."""
    from semeq_live.app import StageConfig
    from semeq_live.errors import CLIError

    with pytest.raises(ReferenceFileError, match=message):
        ReferenceSpectrum.resolve(spec)
    with pytest.raises(CLIError, match=message):
        StageConfig(reference=spec).validate()
    # A path that does not exist yet is fine for the live app ("learn reference" creates it).
    assert StageConfig(reference=str(tmp_path / "new.json")).validate().reference.endswith("new.json")
    StageConfig(reference="voice").validate()


def _sparse_bass_and_steady_noise(seconds: float, fs: int, seed: int) -> np.ndarray:
    """A few low notes now and then (their bands come and go) over steady noise above 500 Hz."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    x = np.zeros(n)
    for start in range(0, n, int(0.5 * fs)):
        if rng.random() < 0.5:
            f0 = rng.choice([41.2, 55.0, 73.4, 98.0])
            seg = slice(start, min(n, start + int(0.3 * fs)))
            x[seg] += sum(np.sin(2 * np.pi * k * f0 * t[seg]) / k for k in (1, 2, 3))
    spec = np.fft.rfft(rng.standard_normal(n))
    spec[np.fft.rfftfreq(n, 1 / fs) < 500.0] = 0.0
    return 0.05 * x + 0.02 * np.fft.irfft(spec, n) / np.fft.irfft(spec, n).std()


def test_a_learned_reference_knows_which_band_levels_are_unsure(tmp_path):
    """Bands a few notes filled now and then get a low reliability, steady noise bands a high one;
    it survives save and load, and a reference without it (an older file) is read as sure."""
    an = Analyzer(FS, 1)
    feed(an, _sparse_bass_and_steady_noise(8.0, FS, 1))
    ref = an.learn_reference()
    rel = ref.band_reliability
    low = (ANALYSIS_FREQS >= 40) & (ANALYSIS_FREQS <= 80)
    steady = (ANALYSIS_FREQS >= 1000) & (ANALYSIS_FREQS <= 10000)
    assert rel[low].max() < 0.7 and rel[steady].min() > 0.9
    loaded = ReferenceSpectrum.load(ref.save(tmp_path / "bass.json"))
    np.testing.assert_allclose(loaded.band_reliability, rel, atol=1e-4)
    doc = json.loads((tmp_path / "bass.json").read_text())
    del doc["band_reliability"]
    (tmp_path / "old.json").write_text(json.dumps(doc))
    assert ReferenceSpectrum.load(tmp_path / "old.json").band_reliability is None
    assert ReferenceSpectrum.builtin("voice").band_reliability is None


@pytest.mark.parametrize("value, message", [
    ("[1, 2]", "band_reliability must hold 28"),
    ('"high"', "band_reliability must be a list of numbers"),
    ("[" + ", ".join(["1.5"] * 28) + "]", "between 0 and 1"),
])
def test_a_bad_band_reliability_names_the_file(tmp_path, value, message):
    doc = json.loads(ReferenceSpectrum.builtin("pink").save(tmp_path / "ok.json").read_text())
    doc["band_reliability"] = json.loads(value)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ReferenceFileError, match=message) as info:
        ReferenceSpectrum.load(path)
    assert str(path) in str(info.value)


def test_the_deviation_is_judged_over_the_longer_window():
    """The level and the bands with signal follow the 2 s window; the deviation the last 4 s."""
    an = Analyzer(FS, 1, reference=ReferenceSpectrum.builtin("pink"))
    assert an.window_s == 2.0 and an.judge_window_s == 4.0
    rng = np.random.default_rng(4)
    bright = np.fft.irfft(np.fft.rfft(pink_noise(3 * FS, FS, rng)) *
                          (1 + np.fft.rfftfreq(3 * FS, 1 / FS) / 2000.0), 3 * FS)
    feed(an, 0.1 * pink_noise(3 * FS, FS, rng) / 0.1)
    feed(an, 0.1 * bright / bright.std())
    est = an.update()
    judge = an._seg_power[an._recent(an.n_judge)].mean(axis=0)
    window = an.window_power()
    np.testing.assert_allclose(est.band_power, window)
    expected = an.estimate_from_power(window, judge_power=judge, level_db=est.level_db).deviation_db
    np.testing.assert_allclose(est.deviation_db, expected, atol=1e-9)
    own = an.estimate_from_power(window, level_db=est.level_db).deviation_db
    assert np.abs(own - est.deviation_db).max() > 0.5  # the 2 s window alone would read brighter
