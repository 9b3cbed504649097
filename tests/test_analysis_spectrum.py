"""The rolling band spectrum: calibration, update rate, window length, gating without a model."""

import numpy as np
import pytest

from semeq_live.analysis import Analyzer
from semeq_live.analysis.bands import BandAnalyzer, band_edges
from semeq_live.params import ANALYSIS_FREQS


def pink_noise(n, fs, rng, rms=0.1):
    """Pink noise from 20 Hz up (below that it would be inaudible, slowly wandering power)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / fs)
    spec[1:] /= np.sqrt(f[1:])
    spec[f < 20.0] = 0.0
    x = np.fft.irfft(spec, n)
    return rms * x / x.std()


def feed(analyzer, x, block=512, update_every_s=0.1):
    """Push like an audio callback and update like the analysis thread; returns all estimates."""
    if x.ndim == 1:
        x = np.repeat(x[:, None], analyzer.channels, axis=1)
    x = x.astype(np.float32)
    per_update = int(update_every_s * analyzer.sample_rate)
    out, since = [], 0
    for i in range(0, len(x), block):
        analyzer.push(x[i:i + block])
        since += min(block, len(x) - i)
        if since >= per_update:
            out.append(analyzer.update())
            since = 0
    return out


def test_sine_lands_in_its_band_at_its_level():
    fs = 48000
    ba = BandAnalyzer(fs, 16384)
    t = np.arange(16384) / fs
    k = 17
    x = (0.5 * np.sin(2 * np.pi * ANALYSIS_FREQS[k] * t))[:, None]
    power, ms = ba.band_power(x)
    assert 10 * np.log10(power[k]) == pytest.approx(10 * np.log10(0.125), abs=0.2)
    assert power[k] > 100 * np.delete(power, k).max()
    assert ms == pytest.approx(0.125, rel=0.02)


def test_white_noise_band_powers_follow_bandwidth():
    """White noise: band power proportional to bandwidth, total equal to the mean square."""
    fs, n = 48000, 16384
    rng = np.random.default_rng(1)
    ba = BandAnalyzer(fs, n)
    lo, hi = band_edges()
    acc = np.zeros(ANALYSIS_FREQS.size)
    for _ in range(40):
        p, _ = ba.band_power(rng.standard_normal((n, 1)))
        acc += p
    acc /= 40
    expected = (hi - lo) / (fs / 2)
    np.testing.assert_allclose(10 * np.log10(acc[8:]), 10 * np.log10(expected[8:]), atol=0.5)


def test_pink_noise_reads_flat_and_updates_five_times_a_second():
    fs = 48000
    rng = np.random.default_rng(2)
    an = Analyzer(fs, 2)
    ests = feed(an, pink_noise(4 * fs, fs, rng), update_every_s=0.05)
    last = ests[-1]
    assert last.level_db == pytest.approx(-20.0, abs=0.3)
    shape = last.spectrum_db - last.spectrum_db.mean()
    assert np.abs(shape[6:]).max() < 1.5  # statistical ripple of a 2 s average
    # A new spectrum with every hop (>= 5 per second): of 20 consecutive 50 ms updates, >= 5 differ.
    changed = sum(not np.array_equal(a.band_power, b.band_power) for a, b in zip(ests[-21:-1], ests[-20:]))
    assert changed >= 5
    assert an.hop / fs <= 0.2
    assert not last.confident and last.reason == "no model loaded"
    np.testing.assert_array_equal(last.band_weight, 1.0)  # pink fills every band
    assert last.reference == "music"


def test_uncorrelated_stereo_reads_like_one_channel():
    """Independent channels: the level and the shape are the channels' own (powers averaged)."""
    fs = 48000
    rng = np.random.default_rng(7)
    an = Analyzer(fs, 2)
    x = np.stack([pink_noise(3 * fs, fs, rng), pink_noise(3 * fs, fs, rng)], axis=1)
    e = feed(an, x)[-1]
    assert e.level_db == pytest.approx(-20.0, abs=0.3)
    # and the shape is flat, as for one channel (uncorrelated channels do not cancel)
    shape = e.spectrum_db - e.spectrum_db.mean()
    assert np.abs(shape[6:]).max() < 1.5


def test_partials_tell_a_sine_from_a_harmonic_tone_and_from_noise():
    fs, n = 48000, 16384
    ba = BandAnalyzer(fs, n)
    t = np.arange(n) / fs
    ba.band_power(np.sin(2 * np.pi * 440 * t)[:, None])
    assert ba.last_partials == 1
    ba.band_power((np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 660 * t))[:, None])
    assert ba.last_partials == 2
    harmonic = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 8))
    ba.band_power(harmonic[:, None])
    assert ba.last_partials >= 5
    ba.band_power(np.random.default_rng(0).standard_normal((n, 1)))
    assert ba.last_partials > 50
    ba.band_power(np.zeros((n, 1)))
    assert ba.last_partials == 0


def test_window_forgets_after_about_two_seconds():
    fs = 44100
    rng = np.random.default_rng(3)
    an = Analyzer(fs, 1, window_s=2.0)
    feed(an, pink_noise(3 * fs, fs, rng, rms=0.3))
    before = an.update().level_db
    feed(an, pink_noise(int(2.4 * fs), fs, rng, rms=0.003))
    after = an.update().level_db
    assert before == pytest.approx(-10.5, abs=0.5)
    assert after == pytest.approx(-50.5, abs=1.0)  # the loud part has left the window


def test_silence_and_startup_give_no_estimate():
    fs = 48000
    an = Analyzer(fs, 2)
    assert not an.update().confident
    ests = feed(an, np.zeros(2 * fs))
    assert all(not e.confident for e in ests)
    assert "too quiet" in ests[-1].reason
    an2 = Analyzer(fs, 2)
    e = feed(an2, pink_noise(int(0.4 * fs), fs, np.random.default_rng(0)))[-1]
    assert not e.confident and e.reason.startswith("listening")


def test_a_sine_is_a_near_pure_tone():
    fs = 48000
    an = Analyzer(fs, 1)
    t = np.arange(3 * fs) / fs
    e = feed(an, 0.3 * np.sin(2 * np.pi * 440 * t))[-1]
    assert not e.confident and "near-pure tone" in e.reason
    assert e.band_weight is not None and e.band_weight.sum() < 3  # and it fills almost nothing


def test_too_narrow_a_range_gives_no_estimate_with_its_own_reason():
    """Band-passed noise one octave wide: not a tone, but too narrow to say anything about tone."""
    fs = 48000
    rng = np.random.default_rng(8)
    x = rng.standard_normal(3 * fs)
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / fs)
    spec[(f < 700) | (f > 1400)] = 0.0
    x = np.fft.irfft(spec, len(x))
    an = Analyzer(fs, 1)
    e = feed(an, 0.1 * x / x.std())[-1]
    assert not e.confident and e.reason.startswith("too narrow a range")
    assert e.band_weight[(ANALYSIS_FREQS < 400) | (ANALYSIS_FREQS > 3000)].max() == 0.0


def test_non_finite_input_does_not_poison_the_spectrum():
    fs = 48000
    rng = np.random.default_rng(4)
    an = Analyzer(fs, 2)
    x = pink_noise(3 * fs, fs, rng)
    x[fs:fs + 100] = np.nan
    x[fs + 500] = np.inf
    feed(an, x)
    feed(an, pink_noise(3 * fs, fs, rng))
    e = an.update()
    assert np.all(np.isfinite(e.spectrum_db))
    assert e.level_db == pytest.approx(-20.0, abs=0.3)


@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_segment_with_a_nan_burst_reads_as_the_segment_with_it_zeroed(bad, channels):
    """Non-finite samples are found in the window multiply's own pass, not by a scan of their
    own: the result must be exactly the zeroed segment's, and the segment zeroed in place (the
    source cues read the same audio after it)."""
    fs = 48000
    ba = BandAnalyzer(fs, 16384)
    x = np.random.default_rng(9).standard_normal((16384, channels)).astype(np.float32)
    x[3000:3100, channels - 1] = bad
    clean = np.where(np.isfinite(x), x, 0.0).astype(np.float32)
    want = BandAnalyzer(fs, 16384).band_power(clean.copy())
    got = ba.band_power(x)
    assert np.array_equal(got[0], want[0]) and got[1] == want[1]
    assert np.array_equal(x, clean)
    assert ba.last_partials > 100


def test_autogains_frame_over_a_nan_burst_is_finite():
    fs = 48000
    an = Analyzer(fs, 2)
    x = np.random.default_rng(2).standard_normal((2 * fs, 2)).astype(np.float32) * 0.1
    x[fs - 2000:fs - 1000] = np.nan
    step = fs // 10
    for i in range(0, fs, step):
        an.push(x[i:i + step])
        e = an.update()
    assert e.recent_band_power is not None and np.all(np.isfinite(e.recent_band_power))


def test_late_update_after_a_long_gap_still_sees_the_newest_audio():
    fs = 48000
    rng = np.random.default_rng(5)
    an = Analyzer(fs, 2)
    x = np.repeat(pink_noise(20 * fs, fs, rng)[:, None], 2, axis=1).astype(np.float32)
    an.push(x)  # 20 s at once: far more than the ring holds
    e = an.update()
    span = an.nfft + (an.n_segments - 1) * an.hop  # what the window covers
    assert e.level_db == pytest.approx(10 * np.log10(np.mean(x[-span:, 0] ** 2)), abs=0.3)
    assert e.time_s == pytest.approx(20.0, abs=an.hop / fs)  # the end of the newest segment


@pytest.mark.parametrize("fs", [16000, 22050, 32000, 44100, 48000, 88200, 96000])
def test_new_spectra_at_least_five_times_a_second_at_any_rate(fs):
    an = Analyzer(fs, 1)
    assert an.hop / fs <= 0.2
    assert an.hop <= an.nfft // 2  # Hann at 50 % overlap or more weighs every sample
    assert an.nfft / fs >= 0.3  # long enough for the 31.5 Hz band


@pytest.mark.parametrize("fs", [16000, 22050, 44100, 48000, 96000])
def test_bands_above_nyquist_are_absent_not_empty(fs):
    """At any rate: pink noise fills every band below Nyquist (weight 1) and none above (0)."""
    an = Analyzer(fs, 1)
    e = feed(an, pink_noise(3 * fs, fs, np.random.default_rng(9)))[-1]
    lo, hi = band_edges()
    below = hi <= fs / 2
    np.testing.assert_array_equal(e.band_weight[~below], 0.0)
    assert e.band_weight[below].min() > 0.9
    assert e.reason == "no model loaded"  # i.e. every gate before the model was passed
