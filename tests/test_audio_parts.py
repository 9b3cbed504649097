"""The audio side's parts without an audio server: metrics, recorder, sources, meters, device lookup."""

from __future__ import annotations

import threading
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from semeq_live.audio.devices import AudioDevice, find_device
from semeq_live.audio.meter import LevelMeter
from semeq_live.audio.metrics import (INPUT_OVERFLOW, OUTPUT_UNDERFLOW, CallbackMetrics)
from semeq_live.audio.recorder import Recorder
from semeq_live.audio.sources import (LoopSource, file_source, pink_noise, signal_source,
                                      tone_mix)
from semeq_live.errors import CLIError, DeviceError

SR = 48000


# ---------------------------------------------------------------------------- metrics
def test_metrics_count_xruns_and_time_callbacks():
    m = CallbackMetrics(SR, 128)
    for i in range(100):
        m.block_started(INPUT_OVERFLOW | OUTPUT_UNDERFLOW if i % 10 == 0 else 0)
        m.block_finished(100e-6 if i < 99 else 2e-3, 128)
    t = m.timing()
    assert t["callbacks"] == 100 and t["frames"] == 12800
    assert t["xruns"] == 10 and t["input_overflow"] == 10 and t["output_underflow"] == 10
    assert t["input_underflow"] == 0
    assert t["p50_us"] == pytest.approx(100.0)
    assert t["max_us"] == pytest.approx(2000.0)
    assert t["load_pct"] == pytest.approx(100.0 * 100e-6 / (128 / SR))


def test_metrics_latency_follows_the_processor_counter():
    m = CallbackMetrics(SR, 128)
    m.target_published(1, t_arrival=10.0, processor_seq=8)
    assert m.applied(1) is None
    # The kernel has not picked the new target up yet (its applied counter is older).
    m.block_started(0)
    m.block_processed(10.001, processor_applied_seq=6)
    m.block_finished(1e-4, 128)
    assert m.applied(1) is None and m.latency_s(1) is None
    m.block_started(0)
    m.block_processed(10.004, processor_applied_seq=8)
    m.block_finished(1e-4, 128)
    assert m.applied(1) == (10.004, 128)  # second block, starting at output frame 128
    assert m.latency_s(1) == pytest.approx(0.004)


def test_metrics_superseded_targets_count_from_the_block_that_played_them():
    m = CallbackMetrics(SR, 64)
    m.target_published(1, 1.0, 2)
    m.target_published(2, 1.001, 4)
    m.block_started(0)
    m.block_processed(1.002, 4)
    m.block_finished(1e-4, 64)
    assert m.applied(1) == (1.002, 0) and m.applied(2) == (1.002, 0)
    assert m.latency_s(2) == pytest.approx(0.001)


def test_metrics_callback_side_does_not_grow_memory():
    m = CallbackMetrics(SR, 128, capacity=256)
    m.target_published(1, 0.0, 2)

    def run(n):
        for i in range(n):
            m.block_started(i & 3)
            m.block_processed(float(i), 2)
            m.block_finished(1e-4, 128)

    run(1000)  # warm: the ring is full, every code path taken
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    run(20000)
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename") if s.size_diff > 0)
    assert grown < 4096, f"callback-side metrics grew memory by {grown} bytes"


# ---------------------------------------------------------------------------- recorder
def test_recorder_keeps_every_frame_written_from_another_thread(tmp_path):
    rng = np.random.default_rng(3)
    audio = (0.5 * rng.standard_normal((SR * 2, 2))).clip(-1, 1).astype(np.float32)
    rec = Recorder(tmp_path / "take.wav", SR, 2)

    def callback_thread():
        for start in range(0, audio.shape[0], 128):
            rec.write(audio[start:start + 128])

    t = threading.Thread(target=callback_thread)
    t.start()
    t.join()
    rec.close()
    back, rate = sf.read(str(tmp_path / "take.wav"), dtype="float32")
    assert rate == SR and back.shape == audio.shape
    assert np.max(np.abs(back - audio)) < 2 ** -22  # PCM_24
    assert rec.dropped_frames == 0


def test_recorder_drops_and_counts_when_the_disk_cannot_keep_up(tmp_path):
    rec = Recorder(tmp_path / "slow.wav", 1000, 1, ring_seconds=0.5)  # 500-frame ring
    rec._stop.set()  # stop the writer thread: nothing drains, as with a stalled disk
    rec._thread.join()
    block = np.ones((100, 1), dtype=np.float32)
    for _ in range(8):
        rec.write(block)
    assert rec.frames_received == 500 and rec.dropped_frames == 300
    rec.close()
    assert sf.info(str(tmp_path / "slow.wav")).frames == 500


def test_recorder_appends_after_a_restart(tmp_path):
    path = tmp_path / "show.wav"
    for value in (0.25, -0.25):
        rec = Recorder(path, SR, 2, append=True)
        rec.write(np.full((4800, 2), value, dtype=np.float32))
        rec.close()
    back, _ = sf.read(str(path))
    assert back.shape == (9600, 2)
    assert np.allclose(back[:4800], 0.25, atol=1e-6) and np.allclose(back[4800:], -0.25, atol=1e-6)


def test_recorder_refuses_unknown_types_and_unwritable_places(tmp_path):
    with pytest.raises(CLIError, match="unknown file type"):
        Recorder(tmp_path / "x.mp9", SR, 2)
    with pytest.raises(CLIError, match="cannot record"):
        Recorder(tmp_path / "missing-dir" / "x.wav", SR, 2)


# ---------------------------------------------------------------------------- sources
def test_loop_source_wraps_seamlessly():
    data = np.arange(10, dtype=np.float32)[:, None]
    src = LoopSource(data, "ramp")
    out = np.empty((7, 1), dtype=np.float32)
    got = []
    for _ in range(3):
        src.fill(out)
        got.extend(out[:, 0])
    assert got == [float(i % 10) for i in range(21)]


def test_pink_noise_level_slope_and_loop():
    x = pink_noise(SR, 2, seconds=4.0)
    rms_db = 20 * np.log10(np.sqrt(np.mean(x ** 2, axis=0)))
    assert np.allclose(rms_db, -18.0, atol=0.01)
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 0.05  # decorrelated channels
    spec = np.abs(np.fft.rfft(x[:, 0])) ** 2
    f = np.fft.rfftfreq(x.shape[0], 1 / SR)

    def band_db(lo):
        sel = (f >= lo) & (f < 2 * lo)
        return 10 * np.log10(spec[sel].sum())

    # Pink: equal energy per octave.
    octaves = [band_db(lo) for lo in (125, 250, 500, 1000, 2000, 4000)]
    assert np.ptp(octaves) < 1.0
    # Exactly periodic: the loop point is as smooth as any other sample step.
    assert abs(x[0, 0] - x[-1, 0]) < 6 * np.std(np.diff(x[:, 0]))


def test_tones_are_periodic_and_at_their_level():
    x = tone_mix(SR, 1)
    spec = np.abs(np.fft.rfft(x[:, 0])) / (SR / 2)
    for f in (100, 1000, 10000):
        assert 20 * np.log10(spec[f]) == pytest.approx(-24 + 3.01, abs=0.05)  # peak = rms * sqrt2


def test_signal_source_names(tmp_path):
    assert "pink" in signal_source("pink", SR, 2).description
    with pytest.raises(CLIError, match="unknown test signal"):
        signal_source("sweep", SR, 2)


def test_file_source_resamples_and_fills_channels(tmp_path):
    t = np.arange(44100) / 44100
    sf.write(str(tmp_path / "mono.wav"), 0.5 * np.sin(2 * np.pi * 441 * t), 44100)
    src = file_source(tmp_path / "mono.wav", SR, 2)
    assert src.data.shape == (48000, 2)
    assert np.array_equal(src.data[:, 0], src.data[:, 1])
    spec = np.abs(np.fft.rfft(src.data[:, 0]))
    assert np.argmax(spec) == 441  # same pitch after resampling
    (tmp_path / "junk.wav").write_bytes(b"not audio at all")
    with pytest.raises(CLIError, match="cannot read input file"):
        file_source(tmp_path / "junk.wav", SR, 2)


# ---------------------------------------------------------------------------- meters
@pytest.mark.parametrize("numba_kernel", [False, True], ids=["numpy", "numba"])
def test_level_meter_reads_peak_and_rms_and_ignores_nan(numba_kernel):
    meter = LevelMeter(SR, 480)
    if numba_kernel:
        meter.accelerate()
    t = np.arange(480) / SR
    sine = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)[:, None].repeat(2, axis=1)
    for _ in range(200):  # 2 s: the RMS integrator has settled
        meter.update(sine, LevelMeter.OUTPUT)
    lv = meter.read()
    assert lv["out_peak_dbfs"] == pytest.approx(20 * np.log10(0.5), abs=0.05)
    assert lv["out_rms_dbfs"] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.1)
    assert lv["in_peak_dbfs"] == -120.0
    bad = sine.copy()
    bad[5, 0] = np.nan
    bad[7, 1] = np.inf
    bad[9, 0] = -np.inf
    meter.update(bad, LevelMeter.OUTPUT)
    assert np.isfinite(meter.levels).all()
    for _ in range(50):  # and the meter keeps reading the signal after the bad samples
        meter.update(sine, LevelMeter.OUTPUT)
    assert meter.read()["out_peak_dbfs"] == pytest.approx(20 * np.log10(0.5), abs=0.05)


# ---------------------------------------------------------------------------- devices
DEVICES = [
    AudioDevice(0, "HDA Intel PCH: ALC892 Analog (hw:0,0)", "ALSA", 2, 2, 44100.0),
    AudioDevice(1, "sysdefault", "ALSA", 128, 128, 48000.0),
    AudioDevice(2, "system", "JACK Audio Connection Kit", 2, 2, 48000.0),
    AudioDevice(3, "Scarlett 2i2 USB: Audio (hw:1,0)", "ALSA", 2, 0, 48000.0),
]


def test_find_device_by_substring_prefers_exact_then_jack():
    assert find_device("scarlett", "input", 2, DEVICES).index == 3
    assert find_device("system", "output", 2, DEVICES).index == 2
    assert find_device("SYS", "output", 2, DEVICES).index == 2  # JACK beats ALSA sysdefault
    assert find_device("alc892", "output", 2, DEVICES).index == 0


def test_find_device_errors_say_what_exists_and_what_to_do():
    with pytest.raises(DeviceError, match=r"no audio output device matches 'focusrite'.*system"):
        find_device("focusrite", "output", 2, DEVICES)
    with pytest.raises(DeviceError, match="no audio output device matches 'scarlett'"):
        find_device("scarlett", "output", 2, DEVICES)  # input-only interface
    with pytest.raises(DeviceError, match="has 2 input channel.*--channels 2"):
        find_device("scarlett", "input", 4, DEVICES)
    with pytest.raises(DeviceError, match="no audio input device on this machine.*jackd"):
        find_device(None, "input", 2, [])


def test_thread_cpu_split_names_the_busy_thread():
    import os
    import time

    from semeq_live.audio.metrics import ProcessMetrics

    if not os.path.exists(f"/proc/{os.getpid()}/task"):
        pytest.skip("per-thread CPU counters are Linux-only")
    pm = ProcessMetrics()
    stop = threading.Event()

    def burn():
        while not stop.is_set():
            sum(range(1000))

    t = threading.Thread(target=burn, name="burner")
    t.start()
    try:
        names = {t.native_id: "burner", threading.main_thread().native_id: "main"}
        pm.thread_cpu(names)
        time.sleep(0.5)
        split = pm.thread_cpu(names)
    finally:
        stop.set()
        t.join()
    assert split["burner"] > 30.0  # it had the GIL most of that half second
    assert split["burner"] > split.get("main", 0.0)


def test_recorder_never_overwrites_an_existing_take(tmp_path):
    """A fresh start on the same --record path moves the old take aside; a resume appends."""
    import soundfile as sf

    from semeq_live.audio.recorder import Recorder

    path = tmp_path / "show.wav"
    sf.write(path, np.full((4800, 2), 0.25, dtype=np.float32), 48000, subtype="PCM_24")
    rec = Recorder(path, 48000, 2)
    rec.write(np.zeros((128, 2), dtype=np.float32))
    rec.close()
    kept = rec.kept_previous
    assert kept is not None and kept.exists() and kept.parent == tmp_path
    old, _ = sf.read(kept)
    assert old.shape == (4800, 2) and np.allclose(old, 0.25, atol=1e-6)
    assert sf.info(path).frames == 128
    resumed = Recorder(path, 48000, 2, append=True)  # the audio-server recovery path
    resumed.write(np.zeros((64, 2), dtype=np.float32))
    resumed.close()
    assert resumed.kept_previous is None and sf.info(path).frames == 192
