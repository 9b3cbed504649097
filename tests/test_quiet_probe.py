"""Quiet probing (issue 12, point 6): listing devices and ports, and the live app's own probing,
print none of the C libraries' noise about a missing JACK server or ALSA sequencer, say in one
line of ours what is missing, and still pass on anything else the libraries write."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from semeq_live.quiet import native_stderr_captured

REPO = Path(__file__).resolve().parents[1]
NOISE = re.compile(r"ALSA lib|JackShmReadWritePtr|Cannot connect to server|jack server is not "
                   r"running")
HAS_SEQ = os.path.exists("/dev/snd/seq")


def no_jack_env() -> dict:
    """No JACK server under this name, and libjack must not start one."""
    env = dict(os.environ)
    env.update(JACK_DEFAULT_SERVER=f"semeq-absent-{os.getpid()}", JACK_NO_START_SERVER="1",
               PYTHONPATH=str(REPO), COLUMNS="200")
    return env


def _run(args, env, timeout=120):
    return subprocess.run([sys.executable, "-m", "semeq_live", *args], env=env, cwd=str(REPO),
                          capture_output=True, text=True, timeout=timeout)


def test_capture_hides_known_noise_keeps_the_rest_and_restores_fd2(capfd):
    before = os.fstat(2)
    with native_stderr_captured() as out:
        os.write(2, b"ALSA lib seq_hw.c:466:(snd_seq_hw_open) open /dev/snd/seq failed: "
                    b"No such file or directory\n")
        os.write(2, b"Cannot connect to server socket err = No such file or directory\n"
                    b"jack server is not running or cannot be started\n"
                    b"JackShmReadWritePtr::~JackShmReadWritePtr - Init not done for -1, "
                    b"skipping unlock\n")
        os.write(2, b"something the library really means\n")
        print("and Python's own stderr", file=sys.stderr)
    err = capfd.readouterr().err
    assert not NOISE.search(err)
    assert "something the library really means" in err and "and Python's own stderr" in err
    assert out.causes == ["ALSA sequencer unavailable (/dev/snd/seq: No such file or directory)",
                          "no JACK server running"]
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)


def test_fd2_is_restored_when_the_probe_raises(capfd):
    before = os.fstat(2)
    with pytest.raises(RuntimeError):
        with native_stderr_captured():
            os.write(2, b"a real complaint\n")
            raise RuntimeError("probe failed")
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
    assert "a real complaint" in capfd.readouterr().err
    os.write(2, b"after\n")
    assert "after" in capfd.readouterr().err


def test_devices_without_jack_or_sequencer_prints_one_line_of_ours():
    r = _run(["devices"], no_jack_env())
    assert r.returncode == 0, r.stderr
    assert not NOISE.search(r.stderr), r.stderr  # was 14 lines of library noise
    assert r.stderr.strip() == ""
    missing = [line for line in r.stdout.splitlines() if "no JACK server running" in line]
    assert len(missing) == 1, r.stdout
    if HAS_SEQ:
        assert missing[0].endswith("no JACK MIDI ports can be listed")
    else:
        assert missing[0] == ("no JACK server running; ALSA sequencer unavailable (/dev/snd/seq: "
                              "No such file or directory): MIDI ports cannot be listed")
    j = _run(["devices", "--json"], no_jack_env())
    assert j.returncode == 0 and not NOISE.search(j.stderr)
    report = json.loads(j.stdout)
    assert report["midi"]["jack"]["unavailable"] == "no JACK server running"
    assert report["missing"] == missing[0]


def test_devices_with_a_real_jack_server_lists_its_ports_quietly(jack_server):
    import rtmidi

    ctl = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="semeq-quiet")
    ctl.open_virtual_port("semeq-quiet-ctl")
    try:
        env = {**os.environ, **jack_server.env(), "PYTHONPATH": str(REPO), "COLUMNS": "200"}
        r = _run(["devices", "--midi-api", "jack", "--json"], env)
    finally:
        ctl.close_port()
        ctl.delete()
    assert r.returncode == 0 and not NOISE.search(r.stderr), r.stderr
    report = json.loads(r.stdout)
    jack = report["midi"]["jack"]
    assert jack["unavailable"] is None and report["missing"] is None
    assert any("semeq-quiet-ctl" in name for name in jack["inputs"]), jack


def test_midi_listing_without_jack_is_a_clear_error_not_noise():
    code = ("from semeq_live.midi.ports import list_input_ports\n"
            "from semeq_live.errors import DeviceError\n"
            "try:\n    list_input_ports('jack')\nexcept DeviceError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], env=no_jack_env(), capture_output=True,
                       text=True, timeout=60, cwd=str(REPO))
    assert not NOISE.search(r.stderr), r.stderr
    # RtMidi's JACK input connects when made; its output only when asked for ports.
    assert r.stdout.strip() in ("cannot open the JACK MIDI system: no JACK server running",
                                "cannot list JACK MIDI ports: no JACK server running")


@pytest.mark.skipif(HAS_SEQ, reason="this machine has an ALSA sequencer: nothing to be quiet about")
def test_live_app_retrying_a_missing_alsa_sequencer_stays_quiet(jack_server, tmp_path):
    """The app on a real JACK server, asked for ALSA MIDI on a machine without a sequencer: it
    plays, logs the missing sequencer once in its own words and retries every 2 s, and the
    journal (stderr) gets none of libasound's lines."""
    from tests.test_e2e_live import AppProcess

    env = dict(os.environ, **jack_server.env())
    app = AppProcess(["--midi-api", "alsa", "--midi-port", "nanoKONTROL2", "--test-signal",
                      "pink", "--health-interval", "1"], env, tmp_path)
    try:
        app.wait_for(lambda r: r["event"] == "start", timeout=60)
        unavailable = app.wait_for(lambda r: r["event"] == "device" and r.get("kind") == "midi"
                                   and r.get("status") == "unavailable")
        assert "ALSA sequencer unavailable (/dev/snd/seq: No such file or directory)" in \
            unavailable["error"]
        app.wait_for(lambda r: r["event"] == "health", after=len(app.events))  # retried meanwhile
        app.wait_for(lambda r: r["event"] == "health", after=len(app.events))
        assert app.terminate() == 0
    finally:
        app.terminate()
    assert not NOISE.search(app.stderr()), app.stderr()[-2000:]
    assert sum(r["event"] == "device" and r.get("status") == "unavailable"
               for r in app.events) == 1
