"""The stream engine on a real JACK server (dummy driver): callbacks, processing, recording, metrics."""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf

from semeq_live.errors import DeviceError

pytestmark = pytest.mark.jack

SR, BLOCK = 48000, 128


@pytest.fixture(autouse=True, scope="module")
def portaudio_released_before_the_server_stops():
    yield
    from semeq_live.audio.devices import release

    release()


def _wait_for_callbacks(engine, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while engine.metrics.callbacks < n:
        assert time.monotonic() < deadline, "the stream did not run"
        assert engine.alive()
        time.sleep(0.02)


def test_devices_on_the_jack_server(jack_server):
    from semeq_live.audio.devices import find_device, list_audio_devices, rescan

    rescan()  # PortAudio was possibly initialised before this server existed
    devs = list_audio_devices()
    jack = [d for d in devs if "JACK" in d.hostapi]
    assert [d.name for d in jack] == ["system"]
    assert find_device("sys", "output", 2).name == "system"
    with pytest.raises(DeviceError, match="no audio output device matches 'nope'"):
        find_device("nope", "output", 2)


def test_engine_runs_the_eq_on_a_test_signal_and_records(jack_server, tmp_path):
    from semeq_live.audio.devices import rescan
    from semeq_live.audio.engine import AudioEngine
    from semeq_live.audio.recorder import Recorder
    from semeq_live.audio.sources import signal_source
    from semeq_live.dsp import EQProcessor

    rescan()
    proc = EQProcessor(SR, 2)
    gain = np.zeros(13)
    gain[:] = [0, 150, 0, 560, 0.71, 0, 1000, 0.71, 0, 3300, 0.71, 0, 8200]
    gain[5] = -12.0  # a deep cut at 1 kHz
    proc.set_params(gain)
    rec = Recorder(tmp_path / "out.wav", SR, 2)
    engine = AudioEngine(proc.process_into, applied_seq=lambda: proc.applied_seq, sample_rate=SR,
                         block_size=BLOCK, channels=2, output_device="system",
                         source=signal_source("tones", SR, 2), recorder=rec)
    engine.open()
    try:
        _wait_for_callbacks(engine, int(1.5 * SR / BLOCK))
        timing = engine.metrics.timing()
        levels = engine.meter.read()
    finally:
        assert engine.close()
        rec.close()
    assert not engine.alive()
    assert engine.callback_errors == 0
    assert timing["p50_us"] is not None and timing["p50_us"] < 1e6 * BLOCK / SR
    assert levels["in_rms_dbfs"] == pytest.approx(-24 + 10 * np.log10(3), abs=0.5)
    x, rate = sf.read(str(tmp_path / "out.wav"), dtype="float32")
    assert rate == SR and x.shape[0] >= SR
    spec = np.abs(np.fft.rfft(x[-SR:, 0])) / (SR / 2)
    levels_db = 20 * np.log10(spec[[100, 1000, 10000]])
    # 100 Hz and 10 kHz pass, 1 kHz is cut by about 12 dB.
    assert levels_db[0] == pytest.approx(-21.0, abs=0.5)
    assert levels_db[2] == pytest.approx(-21.0, abs=0.5)
    assert levels_db[1] == pytest.approx(-33.0, abs=1.0)


def test_engine_duplex_with_capture_and_a_wrong_rate(jack_server):
    from semeq_live.audio.devices import rescan
    from semeq_live.audio.engine import AudioEngine

    rescan()
    pushed = []
    buf = np.zeros((BLOCK, 2), dtype=np.float32)

    def process_into(inp, out):
        out[:] = inp

    def on_input(block):  # stands in for the analyzer's push: a copy into a preallocated buffer
        buf[:block.shape[0]] = block
        if not pushed:
            pushed.append(block.shape)

    engine = AudioEngine(process_into, sample_rate=SR, block_size=BLOCK, channels=2,
                         input_device="system", output_device="system", on_input=on_input)
    engine.open()
    try:
        _wait_for_callbacks(engine, 50)
    finally:
        engine.close()
    assert pushed == [(BLOCK, 2)]
    assert engine.input.name == "system"

    wrong = AudioEngine(process_into, sample_rate=44100, block_size=BLOCK, channels=2,
                        output_device="system", input_device="system")
    with pytest.raises(DeviceError, match="44100 Hz.*matches the audio server"):
        wrong.open()
    assert not wrong.is_open


def test_engine_plays_silence_until_the_eq_takes_over(jack_server, tmp_path):
    from semeq_live.audio.devices import rescan
    from semeq_live.audio.engine import AudioEngine
    from semeq_live.audio.recorder import Recorder
    from semeq_live.audio.sources import signal_source
    from semeq_live.dsp import EQProcessor

    rescan()
    rec = Recorder(tmp_path / "start.wav", SR, 2)
    engine = AudioEngine(None, sample_rate=SR, block_size=BLOCK, channels=2, output_device="system",
                         source=signal_source("tones", SR, 2), recorder=rec)
    engine.open()
    try:
        _wait_for_callbacks(engine, 20)
        proc = EQProcessor(SR, 2)
        cut = [0, 150, 0, 560, 0.71, -12, 1000, 0.71, 0, 3300, 0.71, 0, 8200]
        proc.set_params(cut)
        switched_at = engine.metrics.callbacks
        engine.set_processing(proc.process_into, lambda: proc.applied_seq)
        _wait_for_callbacks(engine, switched_at + int(1.2 * SR / BLOCK))
    finally:
        engine.close()
        rec.close()
    x, _ = sf.read(str(tmp_path / "start.wav"), dtype="float32")
    assert not np.any(x[:20 * BLOCK])  # silence while there is no EQ yet
    start = int(np.flatnonzero(np.any(x != 0, axis=1))[0])
    assert start % BLOCK == 0
    spec = np.abs(np.fft.rfft(x[-SR:, 0])) / (SR / 2)
    assert 20 * np.log10(spec[1000]) == pytest.approx(-33.0, abs=1.0)  # then the EQ cut
