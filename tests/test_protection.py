"""DC and subsonic protection in the kernel (issue 12, point 1): the figures it must meet, measured
on the processor's real output, against scipy's own Butterworth design."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss

from semeq_live.dsp import EQProcessor
from semeq_live.dsp import kernel as K
from semeq_live.params import FLAT_PARAMS

FS = 48000
BOOST_LOWS = np.array([12.0, 100.0, 0, 500, 1, 0, 2000, 1, 0, 6000, 1, 0, 9000])  # worst case for DC


def run_blocks(proc, x, block=128, on_block=None):
    out = np.empty_like(x)
    for i in range(0, len(x), block):
        if on_block is not None:
            on_block(i)
        out[i:i + block] = proc.process(x[i:i + block])
    return out


def dbfs(v):
    return 20 * np.log10(max(float(v), 1e-300))


def rms(a):
    return float(np.sqrt(np.mean(np.asarray(a, dtype=np.float64) ** 2)))


def window_dc(y, start, win=FS // 10):
    """Largest |mean| over consecutive 100 ms windows from ``start`` (the output's DC)."""
    y = np.asarray(y, dtype=np.float64)[start:]
    n = len(y) // win
    return np.max(np.abs(y[:n * win].reshape(n, win, -1).mean(axis=1)))


@pytest.mark.parametrize("dc, tone, params, bypass", [
    (0.5, 0.25, FLAT_PARAMS, False),      # the file: 0.5 DC under a 440 Hz tone
    (1.0, 0.0, FLAT_PARAMS, False),       # full-scale DC alone
    (-0.5, 0.25, BOOST_LOWS, False),      # +12 dB low shelf: the EQ would raise DC by 12 dB
    (0.5, 0.25, FLAT_PARAMS, True),       # bypass plays the protected input
])
def test_dc_is_below_minus_60_dbfs_within_one_second(dc, tone, params, bypass):
    t = np.arange(3 * FS) / FS
    x = np.repeat((dc + tone * np.sin(2 * np.pi * 440 * t))[:, None], 2, axis=1).astype(np.float32)
    proc = EQProcessor(FS, 2)
    proc.set_params(params)
    proc.set_bypass(bypass)
    y = run_blocks(proc, x)
    assert dbfs(window_dc(y, FS)) < -60.0
    if tone:  # the music itself passes (the limiter's ceiling is -1 dBFS)
        assert rms(y[FS:]) > 0.5 * tone / np.sqrt(2)


def test_dc_is_removed_after_a_panic_too():
    x = np.full((3 * FS, 2), 0.7, dtype=np.float32)
    proc = EQProcessor(FS, 2)
    proc.set_params(BOOST_LOWS)
    y1 = run_blocks(proc, x[:FS])
    proc.panic()  # instant bypass and EQ reset; the protection keeps running with its state
    y2 = run_blocks(proc, x[FS:])
    assert np.max(np.abs(y2)) < 1e-3  # no step of the DC comes back
    assert dbfs(window_dc(np.concatenate([y1, y2]), FS)) < -60.0


def test_5_hz_is_attenuated_by_more_than_30_db():
    t = np.arange(4 * FS) / FS
    x = (0.5 * np.sin(2 * np.pi * 5.0 * t)).astype(np.float32)[:, None]
    y = run_blocks(EQProcessor(FS, 1), x)
    attenuation = dbfs(rms(y[2 * FS:]) / rms(x[2 * FS:]))
    assert attenuation < -30.0  # 4th-order Butterworth at 20 Hz: -48 dB in theory
    assert attenuation == pytest.approx(-48.2, abs=0.5)


def test_response_from_40_hz_to_16_khz_is_unchanged_within_0_1_db():
    # 60 steady sines on exact FFT bins of a 1 s window: no leakage, each bin one frequency.
    freqs = np.unique(np.round(np.geomspace(40, 16000, 60)))
    rng = np.random.default_rng(3)
    t = np.arange(3 * FS) / FS
    x = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in freqs)
    x = (0.5 * x / np.max(np.abs(x))).astype(np.float32)[:, None]
    outs = {}
    for hz in (0, 20):
        proc = EQProcessor(FS, 1, ceiling_db=20.0, subsonic_hz=hz)
        outs[hz] = run_blocks(proc, x)[2 * FS:, 0].astype(np.float64)
    bins = freqs.astype(int)  # 1 Hz per bin
    mag = {hz: np.abs(np.fft.rfft(y))[bins] for hz, y in outs.items()}
    change_db = 20 * np.log10(mag[20] / mag[0])
    assert np.max(np.abs(change_db)) <= 0.1
    assert np.max(np.abs(change_db)) < 0.02  # what the design promises (0.017 dB at 40 Hz)


def test_matches_scipys_butterworth_design_and_uses_float64_state():
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((2 * FS, 3)) * 0.2 + 0.3).astype(np.float32)  # noise on DC
    for hz in (10.0, 20.0, 35.0, 200.0):
        proc = EQProcessor(FS, 3, ceiling_db=20.0, subsonic_hz=hz)
        y = run_blocks(proc, x, 100)
        sos = ss.butter(4, hz, "highpass", fs=FS, output="sos")
        ref = ss.sosfilt(sos, x.astype(np.float64), axis=0)
        assert np.max(np.abs(y - ref)) <= 1e-6, hz  # float32 output: float64 state inside
    assert proc._state.dtype == np.float64


def _click_signal(seconds=2.0):
    t = np.arange(int(FS * seconds)) / FS
    return 0.25 * np.sin(2 * np.pi * 1000.0 * t) + 0.3  # DC: what switching must not step


def hf_energy_db(y):
    """Energy above 4 kHz relative to the total, in dB (skipping the first 100 ms) as in
    tests/test_dsp.py's click test."""
    y = np.asarray(y, dtype=np.float64)[FS // 10:]
    y = y - np.mean(y)
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    f = np.fft.rfftfreq(len(y), 1 / FS)
    return 10 * np.log10(spec[f > 4000].sum() / spec.sum())


def test_switching_on_and_off_does_not_click():
    sig = _click_signal()
    x = sig.astype(np.float32)[:, None]
    on_at = lambda i: int(i / FS / 0.1) % 2 == 0  # noqa: E731 - toggled every 100 ms
    proc = EQProcessor(FS, 1, ceiling_db=20.0)
    y = run_blocks(proc, x, 128, on_block=lambda i: proc.set_subsonic_hz(20.0 if on_at(i) else 0))
    ours = hf_energy_db(y[:, 0])
    # A plain switch between the raw and the filtered input at block edges (the filter running
    # all the time, so only the switch itself can click) fails the click criterion.
    filtered = ss.sosfilt(ss.butter(4, 20, "highpass", fs=FS, output="sos"), sig)
    switched = np.where([on_at(i - i % 128) for i in range(len(sig))], filtered, sig)
    naive = hf_energy_db(switched)
    assert naive > -50.0, naive
    assert ours < -50.0, ours
    print(f"click energy above 4 kHz: {ours:.1f} dB (a plain switch: {naive:.1f} dB)")
    # It really switched: the DC comes and goes (the last 25 ms of each 100 ms off / on).
    means = y[:, 0].reshape(-1, FS // 10)[:, -FS // 40:].mean(axis=1)
    assert means[3::2].min() > 0.29 and np.abs(means[4::2]).max() < 0.01


def test_moving_the_cutoff_does_not_click():
    sig = _click_signal()
    x = sig.astype(np.float32)[:, None]
    proc = EQProcessor(FS, 1, ceiling_db=20.0)
    hz_at = lambda i: 20.0 if int(i / FS / 0.1) % 2 == 0 else 200.0  # noqa: E731
    y = run_blocks(proc, x, 128, on_block=lambda i: proc.set_subsonic_hz(hz_at(i)))
    assert hf_energy_db(y[:, 0]) < -50.0


def test_switching_is_block_size_independent():
    sig = _click_signal(0.5).astype(np.float32)[:, None]
    outs = []
    for block in (64, 160):
        proc = EQProcessor(FS, 1, ceiling_db=20.0)
        proc.process(sig[:64])
        proc.set_subsonic_hz(0)
        a = run_blocks(proc, sig[64:6400], block)
        proc.set_subsonic_hz(50.0)
        outs.append(np.concatenate([a, run_blocks(proc, sig[6400:], block)]))
    assert np.max(np.abs(outs[0] - outs[1])) <= 1e-6


def _protection_state(proc):
    n_zs = proc.channels * K.MAX_BANDS * 4
    start = K.O_ZS + n_zs
    return proc._state[start:start + proc.channels * K.HPF_STATE]


def test_off_is_exact_and_costs_nothing_and_on_again_starts_clean():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((FS, 2)) * 0.1 + 0.2).astype(np.float32)
    proc = EQProcessor(FS, 2)
    run_blocks(proc, x[:FS // 4])
    assert proc.subsonic_hz == 20.0
    proc.set_subsonic_hz(0)
    assert proc.subsonic_hz is None
    run_blocks(proc, x[FS // 4:FS // 2])  # the fade (about 60 ms) is over well within this
    y = run_blocks(proc, x[FS // 2:])
    assert np.array_equal(y, x[FS // 2:])  # bit-exact: nothing runs
    assert not _protection_state(proc).any()  # stopped and cleared
    assert proc._state[K.O_MISC + K.M_SUB_ACTIVE] == 0.0


def test_non_finite_input_resets_the_protection_and_it_recovers():
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((2 * FS, 2)) * 0.1 + 0.5).astype(np.float32)
    bad = x.copy()
    bad[FS // 2:FS // 2 + 40, 0] = np.nan
    bad[FS // 2 + 7, 1] = -np.inf
    proc = EQProcessor(FS, 2)
    y = run_blocks(proc, bad)
    assert np.all(np.isfinite(y)) and proc.nan_resets >= 1
    assert dbfs(window_dc(y, FS // 2 + FS)) < -60.0  # DC gone again within a second
    clean = run_blocks(EQProcessor(FS, 2), x)
    assert np.max(np.abs(y[FS + FS // 2:] - clean[FS + FS // 2:])) <= 1e-5


def test_silence_after_signal_flushes_the_state_to_exact_zeros():
    x = np.concatenate([np.full((FS // 2, 2), 0.5), np.zeros((5 * FS, 2))]).astype(np.float32)
    proc = EQProcessor(FS, 2)
    y = run_blocks(proc, x)
    assert not _protection_state(proc).any()  # no denormals left circulating
    assert np.all(y[-FS:] == 0.0)


@pytest.mark.parametrize("bad", [-20.0, 5.0, 500.0, float("nan"), "loud"])
def test_bad_cutoffs_are_refused_and_change_nothing(bad):
    with pytest.raises(ValueError, match="subsonic_hz"):
        EQProcessor(FS, 2, subsonic_hz=bad)
    proc = EQProcessor(FS, 2)
    before = proc._pending.copy()
    with pytest.raises(ValueError, match="subsonic_hz"):
        proc.set_subsonic_hz(bad)
    assert np.array_equal(before, proc._pending)
