"""Faults on stage, with real parts: the audio server dies and comes back, a MIDI port vanishes
and returns. The app must keep running, say what happened, and resume by itself."""

from __future__ import annotations

import os
import time

import pytest

from .jack_server import private_server
from .test_e2e_live import MORPH_CC, START_TIMEOUT_S, AppProcess, send_until

pytestmark = [pytest.mark.jack, pytest.mark.slow]


@pytest.fixture
def own_jack_server():
    """A JACK server this test may kill; the session's shared server stays untouched."""
    with private_server("semeq-fault") as server:
        yield server


def test_audio_server_restart_keeps_app_running_and_state(own_jack_server, tmp_path):
    import rtmidi
    import soundfile as sf

    server = own_jack_server
    rec = tmp_path / "fault.wav"
    app = AppProcess(["--test-signal", "pink", "--record", str(rec), "--health-interval", "0.5",
                      "--midi-api", "jack", "--midi-port", "semeq-fault-ctl"], server.env(), tmp_path)
    midi = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="semeq-fault")
    midi.open_virtual_port("semeq-fault-ctl")
    try:
        first = app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        app.wait_for(lambda r: r["event"] == "device" and "connected" in r.get("message", ""))
        send_until(app, midi, [0xB0, MORPH_CC, 127],
                   lambda r: r["event"] == "state" and r["source"] == "midi" and r["alpha"] == 1.0)
        app.wait_for(lambda r: r["event"] == "health" and (r.get("recorded_s") or 0) > 1.0)
        midi.close_port()
        midi.delete()
        midi = None

        server.proc.kill()  # the audio server crashes
        server.proc.wait()
        n = len(app.events)
        app.wait_for(lambda r: r["event"] == "device" and r.get("status") == "lost", after=n)
        time.sleep(2.0)
        assert app.proc.poll() is None, "the app must survive the audio server"
        server.start()  # ... and comes back
        resumed = app.wait_for(lambda r: r["event"] == "start" and r.get("resumed"),
                               timeout=START_TIMEOUT_S)
        assert resumed["pid"] == first["pid"] == app.proc.pid  # same process, fresh PortAudio
        assert resumed["state"]["alpha"] == 1.0  # the performance state survived
        app.wait_for(lambda r: r["event"] == "health" and r.get("device") == "running"
                     and (r.get("recorded_s") or 0) > 1.0, after=len(app.events) - 1)
        assert app.terminate() == 0, app.stderr()[-3000:]
    finally:
        if midi is not None:
            midi.close_port()
            midi.delete()
        app.terminate()
    info = sf.info(str(rec))  # both parts of the show in one intact file
    assert info.duration > 2.0


def test_midi_port_vanishes_and_returns(jack_server, tmp_path):
    import rtmidi

    app = AppProcess(["--test-signal", "pink", "--health-interval", "0.5", "--midi-api", "jack",
                      "--midi-port", "semeq-flaky-ctl", "--no-adaptive"], jack_server.env(), tmp_path)
    def plug():
        out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="semeq-flaky")
        out.open_virtual_port("semeq-flaky-ctl")
        return out

    port = plug()
    try:
        app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        app.wait_for(lambda r: r["event"] == "device" and "connected" in r.get("message", ""))
        send_until(app, port, [0xB0, MORPH_CC, 64],
                   lambda r: r["event"] == "state" and r["source"] == "midi")

        port.close_port()  # cable pulled
        port.delete()
        port = None
        n = len(app.events)
        app.wait_for(lambda r: r["event"] == "device" and "disconnected" in r.get("message", ""),
                     after=n)
        app.wait_for(lambda r: r["event"] == "health" and r["device"] == "running", after=n)
        assert app.proc.poll() is None

        port = plug()  # plugged back in
        n = len(app.events)
        app.wait_for(lambda r: r["event"] == "device" and "connected" in r.get("message", "")
                     and "disconnected" not in r.get("message", ""), after=n)
        change = send_until(app, port, [0xB0, MORPH_CC, 127],
                            lambda r: r["event"] == "state" and r["source"] == "midi"
                            and r.get("alpha") == 1.0)
        assert change["source"] == "midi"
        assert app.terminate() == 0, app.stderr()[-3000:]
    finally:
        if port is not None:
            port.close_port()
            port.delete()
        app.terminate()


def test_unavailable_midi_system_is_reported_once_and_the_show_goes_on(jack_server, tmp_path):
    if os.path.exists("/dev/snd/seq"):
        pytest.skip("this machine has an ALSA sequencer: ALSA MIDI is available here")
    app = AppProcess(["--test-signal", "pink", "--health-interval", "0.5", "--midi-api", "alsa",
                      "--midi-port", "nanoKONTROL2"], jack_server.env(), tmp_path)
    try:
        app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        first = app.wait_for(lambda r: r["event"] == "device" and r.get("status") == "unavailable")
        assert "ALSA" in first["error"] and first["retry_s"] > 0
        n = len(app.events)
        # Several retry periods later: still running, still healthy, not a line per retry.
        deadline = time.monotonic() + 3 * first["retry_s"] + 1
        while time.monotonic() < deadline:
            time.sleep(0.2)
        assert app.proc.poll() is None
        assert sum(1 for r in app.events[n:] if r["event"] == "health") >= 4
        assert not [r for r in app.events[n:] if r.get("status") == "unavailable"]
        assert app.terminate() == 0, app.stderr()[-3000:]
    finally:
        app.terminate()
