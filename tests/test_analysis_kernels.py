"""The analysis kernels (numba) give bit for bit what the plain numpy formulation gives.

``band_kernel`` (band powers and partials of one FFT segment) and ``cue_kernel`` (the source cues'
decimation and pitch frames) replaced numpy code to cut the analyzer's per-segment cost; nothing
they compute may change by as much as a rounding. Each is compared here with the numpy version it
replaced, written out below, on noise, tones, silence and made voices, at several sample rates,
mono and stereo, float32 and float64.
"""

import numpy as np
import pytest

from semeq_live.analysis import band_kernel, cue_kernel, history_kernel
from semeq_live.analysis.pairwise_sum import pairwise_sum
from semeq_live.analysis.bands import POWER_FLOOR, PARTIAL_RANGE, BandAnalyzer, band_edges, segment_length
from semeq_live.analysis.source_cues import VOICED_NCCF, SourceCues

from . import synth_voices


def numpy_band_power(ba: BandAnalyzer, segment: np.ndarray):
    """``BandAnalyzer.band_power`` as numpy did it: (band powers, mean square, partials)."""
    segment = segment.reshape(len(segment), -1)
    channels = segment.shape[1]
    rows = np.multiply(segment.T, ba.window)
    power = np.zeros(ba.nfft // 2 + 1)
    if channels == 1:
        spec = np.fft.rfft(rows[0])
        power = spec.real * spec.real
        power += spec.imag * spec.imag
    else:
        for row in rows:
            spec = np.fft.rfft(row)
            power += spec.real * spec.real
            power += spec.imag * spec.imag
        power *= 1.0 / channels
    power *= ba._scale
    cum = np.concatenate([[0.0], np.cumsum(power)])
    i, f = ba._edge_i, ba._edge_f
    at_edges = cum[i] + f * (cum[i + 1] - cum[i])
    n = ba.freqs.size
    bands = np.maximum(at_edges[n:] - at_edges[:n], POWER_FLOOR)
    top = power.max()
    mid = power[1:-1]
    peaks = (mid > power[:-2]) & (mid >= power[2:]) & (mid > top * PARTIAL_RANGE)
    return bands, float(cum[-1]), int(np.count_nonzero(peaks)) if top > POWER_FLOOR else 0


def _segments(fs: int, n: int, channels: int, rng):
    t = np.arange(n) / fs
    tone = np.sin(2 * np.pi * 440.0 * t)
    two = tone + np.sin(2 * np.pi * 660.0 * t)
    noise = rng.standard_normal((n, channels)) * 10.0 ** rng.uniform(-4, 0, (n, 1))  # wide range
    yield "noise", noise
    yield "tone", np.repeat(tone[:, None], channels, axis=1)
    yield "two tones", np.repeat(two[:, None], channels, axis=1) * [1.0, 0.3][:channels]
    yield "silence", np.zeros((n, channels))


@pytest.mark.parametrize("fs", [16000, 44100, 48000, 96000])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_band_powers_are_numpys_bit_for_bit(fs, channels, dtype):
    n = segment_length(fs)
    ba = BandAnalyzer(fs, n)
    for name, x in _segments(fs, n, channels, np.random.default_rng(fs + channels)):
        x = x.astype(dtype)
        want = numpy_band_power(ba, x)
        for seg in ([x, x[:, 0]] if channels == 1 else [x]):  # a mono segment may come 1-D
            bands, mean_square = ba.band_power(seg)
            assert np.array_equal(bands, want[0]), name
            assert mean_square == want[1], name
            assert ba.last_partials == want[2], name
    assert ba.last_partials == 0  # silence


@pytest.mark.parametrize("channels", [3, 4])
def test_more_channels_take_the_kernels_general_path_bit_for_bit(channels):
    """Stereo is spelt out in the kernels; any other channel count takes their general loop."""
    fs = 44100
    n = segment_length(fs)
    ba = BandAnalyzer(fs, n)
    x = np.random.default_rng(channels).standard_normal((n, channels)).astype(np.float32)
    want = numpy_band_power(ba, x)
    bands, mean_square = ba.band_power(x)
    assert np.array_equal(bands, want[0]) and mean_square == want[1] and ba.last_partials == want[2]


@pytest.mark.parametrize("channels", [1, 2])
def test_band_powers_without_the_partial_count_are_the_same(channels):
    """Auto-gain's newest-audio frame skips the partial count; its band powers do not change."""
    fs = 48000
    n = 8192
    counted, uncounted = BandAnalyzer(fs, n), BandAnalyzer(fs, n, count_partials=False)
    for name, x in _segments(fs, n, channels, np.random.default_rng(7)):
        x = x.astype(np.float32)
        a, b = counted.band_power(x), uncounted.band_power(x)
        assert np.array_equal(a[0], b[0]) and a[1] == b[1], name
        assert uncounted.last_partials is None


def test_band_powers_of_a_tone_and_of_noise_still_make_sense():
    """Not only the same as before: one partial for a tone, hundreds for noise, the band powers
    summing to the mean square (the kernel could equal a wrong reference)."""
    fs, n = 48000, 16384
    ba = BandAnalyzer(fs, n)
    t = np.arange(n) / fs
    bands, ms = ba.band_power(np.sin(2 * np.pi * 1000.0 * t)[:, None])
    assert ba.last_partials == 1
    assert ms == pytest.approx(0.5, rel=0.02)
    assert int(np.argmax(bands)) == int(np.argmin(np.abs(ba.freqs - 1000.0)))
    bands, ms = ba.band_power(np.random.default_rng(0).standard_normal((n, 2)))
    assert ba.last_partials > 100
    lo, hi = band_edges(ba.freqs)
    covered = (hi[-1] - lo[0]) / (fs / 2)  # white noise: the bands hold their share of the range
    assert bands.sum() == pytest.approx(covered * ms, rel=0.03)


@pytest.mark.parametrize("factor", range(1, 13))
def test_boxcar_decimation_is_numpys_mean_bit_for_bit(factor):
    """Rates 8-96 kHz decimate by 1-12; numpy's mean sums each group pairwise (eight running
    sums from eight values on), which the kernel reproduces."""
    rng = np.random.default_rng(factor)
    x = (rng.standard_normal(factor * 3001) * 10.0 ** rng.uniform(-8, 0, factor * 3001)).astype(np.float32)
    stereo = np.stack([x, -x], axis=1)
    for mono in (x, x.astype(np.float64), stereo[:, 0]):
        m = (len(mono) // factor) * factor
        want = np.asarray(mono[:m], dtype=np.float64).reshape(-1, factor).mean(axis=1)
        out = np.empty(len(mono) // factor)
        cue_kernel.boxcar_decimate(mono, factor, out)
        assert np.array_equal(out, want)


def numpy_pitch(cues: SourceCues, frames: np.ndarray):
    """The F0 and energy of each pitch frame as numpy did it."""
    w = cues.frame_len
    spec = np.fft.rfft(frames, cues.nfft, axis=1)
    power = spec.real * spec.real + spec.imag * spec.imag
    ac = np.fft.irfft(power, cues.nfft, axis=1)[:, :cues.max_lag + 1]
    c = np.concatenate([np.zeros((frames.shape[0], 1)), np.cumsum(frames * frames, axis=1)], axis=1)
    lags = np.arange(cues.max_lag + 1)
    nccf = ac / np.sqrt(np.maximum(c[:, w - lags] * (c[:, w:w + 1] - c[:, lags]), 1e-30))
    seg = nccf[:, cues.min_lag:]
    best = seg.max(axis=1)
    f0 = np.zeros(frames.shape[0])
    for i in np.flatnonzero(best >= VOICED_NCCF):
        f0[i] = cues.rate / (cues.min_lag + int(np.argmax(seg[i] >= 0.9 * best[i])))
    return f0, c[:, w]


@pytest.mark.parametrize("fs", [16000, 44100, 96000])
def test_pitch_frames_are_numpys_bit_for_bit(fs):
    cues = SourceCues(fs)
    voice = synth_voices.male_voice(fs, 2.0, seed=3)
    x = np.empty(len(voice) // cues.decimation)
    cue_kernel.boxcar_decimate(voice, cues.decimation, x)
    noise = np.random.default_rng(fs).standard_normal(len(x))
    for signal in (x, noise, np.zeros(len(x))):
        n_fr = len(signal) // cues.frame_len
        frames = signal[:n_fr * cues.frame_len].reshape(n_fr, cues.frame_len)
        want_f0, want_energy = numpy_pitch(cues, frames)
        spec = np.fft.rfft(frames, cues.nfft, axis=1)
        ac = np.fft.irfft(spec.real * spec.real + spec.imag * spec.imag, cues.nfft, axis=1)
        f0, energy = np.empty(n_fr), np.empty(n_fr)
        cue_kernel.pitch_frames(frames, ac, cues.min_lag, cues.max_lag, VOICED_NCCF, cues.rate, f0, energy)
        assert np.array_equal(f0, want_f0)
        assert np.array_equal(energy, want_energy)
    # The voice is voiced most of the time, at a male talker's F0; noise and silence never are.
    n_fr = len(x) // cues.frame_len
    frames = x[:n_fr * cues.frame_len].reshape(n_fr, cues.frame_len)
    f0, _ = numpy_pitch(cues, frames)
    assert np.mean(f0 > 0) > 0.5 and 80.0 < np.median(f0[f0 > 0]) < 200.0


@pytest.mark.parametrize("n", [1, 5, 8, 9, 28, 127, 128])
def test_pairwise_sum_is_numpys(n):
    rng = np.random.default_rng(n)
    for _ in range(50):
        x = rng.uniform(0, 1, n) ** 5 * 10.0 ** rng.uniform(-9, 3)
        assert pairwise_sum(x, 0, n) == x.sum()
        assert pairwise_sum(x.astype(np.float32), 0, n) == x.astype(np.float32).astype(np.float64).sum()


def test_window_means_are_numpys_bit_for_bit():
    """The analyzer's window averages over its history ring (``history_kernel``) against the
    numpy it replaced: newest-first gathers, ``mean(axis=0)``, the tonal count."""
    rng = np.random.default_rng(3)
    n_history, n_bands = 176, 28
    power = rng.uniform(0, 1, (n_history, n_bands)) ** 4 * 10.0 ** rng.uniform(-12, 0, (n_history, 1))
    partials = rng.integers(0, 6, n_history)
    for slot in (0, 1, 5, 100, 175):
        for n_window, n_judge in ((1, 0), (3, 0), (11, 0), (11, 23), (12, 24), (150, 176)):
            recent = (slot - 1 - np.arange(n_history)) % n_history  # newest first
            got_power, got_judge = np.empty(n_bands), np.empty(n_bands)
            sounding, tonal = history_kernel.window_means(
                power, partials, (slot - 1) % n_history, n_window, n_judge, 2, got_power, got_judge)
            assert np.array_equal(got_power, power[recent[:n_window]].mean(axis=0))
            if n_judge:
                assert np.array_equal(got_judge, power[recent[:n_judge]].mean(axis=0))
            p = partials[recent[:n_window]]
            assert (sounding, tonal) == (np.count_nonzero(p > 0), np.count_nonzero((p > 0) & (p <= 2)))


def test_warm_up_loads_every_kernel():
    band_kernel.warm_up()
    cue_kernel.warm_up()
    history_kernel.warm_up()
    for kernel in (band_kernel.windowed_rows, band_kernel.band_powers, cue_kernel.boxcar_decimate,
                   cue_kernel.pitch_frames, history_kernel.window_means):
        assert kernel.signatures, kernel
