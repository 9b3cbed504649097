"""The headless log under a MIDI flood, end to end: the app on a real JACK server (dummy driver),
1000 messages/s through a real JACK MIDI port (faders sweeping, bypass presses, scene stores and
recalls of a scene that does not exist), and its log read line by line.

- at most 10 state lines in any one second, and the final state is in the log;
- every discrete event once: one ``bypass`` line per press, one ``action`` per scene store, one
  ``action_failed`` per failed recall (and no second, ``device``, line for the same failure).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

import pytest

from .test_e2e_live import START_TIMEOUT_S, AppProcess, send_until

pytestmark = [pytest.mark.jack, pytest.mark.slow]

RATE, FLOOD_S = 1000, 8.0
PORT = "semeq-flood-ctl"
MORPH_CC, INTENSITY_CC, GAIN_CC, BYPASS_CC = 1, 11, 7, 80  # mappings/generic.yaml
RECALL_2_NOTE, STORE_1_NOTE = 43, 44                      # scene "2" is never stored
FINAL = 33


def triangle(i: int, period: int) -> int:
    """A fader moving end to end and back (continuous, so pickup follows it)."""
    k = i % period
    return round(127 * (2 * k / period if k < period / 2 else 2 - 2 * k / period))


def flood(out, stop_at: float, sent: dict) -> None:
    t0 = time.monotonic()
    i = 0
    while time.monotonic() < stop_at:
        due = int((time.monotonic() - t0) * RATE)
        while i < due:
            if i % 500 == 100:
                out.send_message([0x90, STORE_1_NOTE, 100])
                sent["store"] += 1
            elif i % 500 == 350:
                out.send_message([0x90, RECALL_2_NOTE, 100])
                sent["failed recall"] += 1
            elif i % 250 == 200:  # press and release: one toggle
                out.send_message([0xB0, BYPASS_CC, 127])
                out.send_message([0xB0, BYPASS_CC, 0])
                sent["bypass"] += 1
            else:
                cc, period = ((MORPH_CC, 400), (GAIN_CC, 700), (INTENSITY_CC, 300))[i % 3]
                out.send_message([0xB0, cc, triangle(i, period)])
                sent["cc"] += 1
            i += 1
        time.sleep(0.002)
    sent["last_morph"] = triangle(max(k for k in range(i) if k % 3 == 0), 400)


def test_flood_gives_at_most_ten_state_lines_per_second_and_every_event_once(jack_server, tmp_path):
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="semeq-flood")
    out.open_virtual_port(PORT)
    app = AppProcess(["--midi-api", "jack", "--midi-port", PORT, "--test-signal", "tones",
                      "--scenes", str(tmp_path / "scenes.yaml"), "--term-a", "warm", "--term-b",
                      "bright", "--health-interval", "1"], jack_server.env(), tmp_path)
    try:
        app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        app.wait_for(lambda r: r["event"] == "device" and PORT in r.get("message", ""), timeout=15)
        app.wait_for(lambda r: r["event"] == "state" and r["source"] == "start")
        app.wait_for(lambda r: r["event"] == "health", timeout=15)  # past the start-up xruns
        n_before = len(app.events)
        sent = {"cc": 0, "bypass": 0, "store": 0, "failed recall": 0}
        t_start = time.monotonic()
        sender = threading.Thread(target=flood, args=(out, t_start + FLOOD_S, sent))
        sender.start()
        sender.join()
        # The fader comes to rest at FINAL (continuously, so pickup keeps following it).
        step = 1 if FINAL >= sent["last_morph"] else -1
        for value in range(sent["last_morph"], FINAL, step):
            out.send_message([0xB0, MORPH_CC, value])
        # Where it rests is sent until it shows (an absolute fader: again changes nothing; the
        # one message could be lost on the way, see send_until).
        final = send_until(app, out, [0xB0, MORPH_CC, FINAL],
                           lambda r: r["event"] == "state" and r.get("alpha") is not None
                           and abs(r["alpha"] - FINAL / 127) < 1e-3)
        time.sleep(1.5)  # anything still queued would show now
        assert app.terminate() == 0, app.stderr()[-3000:]
    finally:
        app.terminate()
        out.close_port()
        out.delete()

    log = app.events[n_before:]
    (tmp_path / "app-log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in app.events))
    states = [r for r in log if r["event"] == "state"]
    # The last state line holds the final fader position (nothing after it overrode it).
    last_alpha = [r for r in states if "alpha" in r][-1]
    assert last_alpha is final or last_alpha["alpha"] == pytest.approx(FINAL / 127, abs=1e-3)
    # The flood really moved the state: hundreds of changes summed up in the lines.
    assert sum(r["changes"] for r in states) > 0.3 * sent["cc"]
    times = sorted(datetime.fromisoformat(r["ts"]).timestamp() for r in states)
    busiest = max(sum(1 for t in times if t0 <= t < t0 + 1.0) for t0 in times)
    assert busiest <= 10, busiest
    assert len(states) >= 2 * FLOOD_S  # coalesced, not starved
    # Every discrete event once.
    bypass = [r for r in log if r["event"] == "bypass"]
    stores = [r for r in log if r["event"] == "action" and r["action"] == "scene_store"]
    failed = [r for r in log if r["event"] == "action_failed"]
    counts = {k: sum(1 for r in log if r["event"] == k) for k in {r["event"] for r in log}}
    why = (sent, counts, [r for r in log if r["event"] not in ("state", "health", "bypass")][:40])
    # One line per press. Under xruns the dummy server's MIDI drops a message now and then (on a
    # loaded machine a fifth of the presses have gone that way) or, rarely, delivers one twice,
    # so only without xruns must the count be exact; the exact count is checked on the real
    # control loop in tests/test_headless_log.py.
    exact = not any(r["event"] == "xrun" for r in log)
    for lines, kind in ((bypass, "bypass"), (stores, "store"), (failed, "failed recall")):
        if exact:
            assert len(lines) == sent[kind], why
        else:
            assert 0.5 * sent[kind] <= len(lines) <= 1.1 * sent[kind] + 1, why
    assert all(r["action"] == "scene_recall" and r["arg"] == "2" for r in failed)
    assert not [r for r in log if r["event"] == "device" and "scene" in str(r)]
    # A state line says how long its last change took to be heard.
    heard = [r["latency_ms"] for r in states if "latency_ms" in r]
    assert len(heard) >= 0.8 * len(states)
    assert sorted(heard)[len(heard) // 2] < 50.0
