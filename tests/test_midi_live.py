"""Live MIDI through real JACK virtual ports (dummy-driver server): input, unplug/replug, LEDs,
midi-learn and midi-monitor driven by a fake controller."""

from __future__ import annotations

import logging
import os
import time

import mido
import pytest

from semeq_live.control.state import ControlState
from semeq_live.midi import FeedbackOutput, MidiController, MidiInput, load_mapping
from semeq_live.midi.mapping import resolve_mapping_path

from .midi_sink import MidiSink
from .test_e2e_faults import own_jack_server  # noqa: F401 (a fixture: a server this test may kill)

pytestmark = pytest.mark.jack

TERMS = ["warm", "bright", "clear", "full"]


def _rtmidi():
    return pytest.importorskip("rtmidi")


class FakeController:
    """A controller that can be plugged and unplugged: a JACK client with a virtual MIDI output."""

    def __init__(self, client: str, port: str):
        self.client, self.port = client, port
        self.out = None

    def plug(self):
        rtmidi = _rtmidi()
        self.out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, self.client)
        self.out.open_virtual_port(self.port)
        return self

    def unplug(self):
        self.out.close_port()
        self.out.delete()
        self.out = None

    def send(self, *msgs, gap=0.0):
        for m in msgs:
            self.out.send_message(m.bytes() if hasattr(m, "bytes") else m)
            if gap:
                time.sleep(gap)


def wait_for(cond, timeout=5.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


PROBE_CHANNEL = 15  # channel 16: no test mapping listens there


def sync(fake, midi, timeout=5.0):
    """Wait until the new JACK connection carries messages, then empty the queue.

    JACK applies a connection a few process cycles after it is made; a message sent in between
    is lost. A real controller never plays within milliseconds of being plugged in; a test does.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fake.send(cc(127, 0, channel=PROBE_CHANNEL))
        item = midi.receive(timeout=0.05)
        if item is not None:
            time.sleep(0.05)
            midi.drain()
            return
    raise AssertionError("the JACK MIDI connection never carried a message")


def cc(number, value, channel=0):
    return mido.Message("control_change", channel=channel, control=number, value=value)


def pump(midi, ctl, until, timeout=5.0):
    """The control loop: apply queued messages until ``until()`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = midi.receive(timeout=0.05)
        if item is not None:
            ctl.handle(item[1])
        if until():
            return True
    return until()


def test_input_survives_unplug_and_reconnects(jack_server, caplog):
    caplog.set_level(logging.INFO, logger="semeq_live.midi")
    fake = FakeController(f"fake-nano-{os.getpid()}", "nanoKONTROL2 MIDI 1").plug()
    state = ControlState(alpha=0.0, intensity=1.0)
    ctl = MidiController(load_mapping(resolve_mapping_path("nanokontrol2")), state, TERMS)
    midi = MidiInput(["NANOKONTROL2"], api="jack", poll_interval=0.1,
                     on_connect=lambda port: ctl.forget_positions())
    try:
        assert midi.connected == [f"{fake.client}:{fake.port}"]
        sync(fake, midi)
        fake.send(cc(0, 127))                       # fader 1 = morph
        assert pump(midi, ctl, lambda: state.alpha == 1.0)
        fake.send(cc(32, 127), cc(32, 0))           # S1 = bypass toggle
        assert pump(midi, ctl, lambda: state.bypass)
        fake.send([0xB0, 200, 1], [0xF0, 1, 2])     # malformed bytes: counted, dropped
        assert wait_for(lambda: midi.stats["malformed"] >= 1)

        fake.unplug()
        assert wait_for(lambda: midi.connected == [])
        assert any("disconnected" in r.getMessage() for r in caplog.records)
        assert midi.stats["disconnects"] == 1
        state.update(alpha=0.25)                     # the show goes on without the controller
        time.sleep(0.3)
        assert midi._thread.is_alive()

        fake.plug()
        assert wait_for(lambda: len(midi.connected) == 1)
        assert midi.stats["connects"] == 2
        assert sum(r.getMessage().startswith("MIDI input connected") for r in caplog.records) == 2
        sync(fake, midi)
        fake.send(cc(1, 0))                          # fader 2 = intensity
        assert pump(midi, ctl, lambda: state.intensity == 0.0)
        # fader 1 last wrote 1.0 but alpha is now 0.25, and where it went while unplugged is
        # unknown: it must pick up, not jump (and not "cross" from its stale position)
        fake.send(cc(0, 10))
        pump(midi, ctl, lambda: False, timeout=0.3)
        assert state.alpha == 0.25
        fake.send(cc(0, 60))                         # crosses 0.25 (= 31.75 / 127)
        assert pump(midi, ctl, lambda: state.alpha == pytest.approx(60 / 127))
    finally:
        midi.close()
        if fake.out is not None:
            fake.unplug()


def test_several_ports_and_callback_delivery(jack_server):
    a = FakeController(f"fake-a-{os.getpid()}", "Pads").plug()
    b = FakeController(f"fake-b-{os.getpid()}", "Faders").plug()
    got = []
    midi = MidiInput(["pads", "FADERS"], api="jack", poll_interval=0.1,
                     on_message=lambda port, msg, t: got.append((port, msg.type, t)))
    try:
        assert len(midi.connected) == 2
        for fake in (a, b):  # wait until both new connections carry messages
            assert wait_for(lambda: fake.send(cc(127, 0, channel=PROBE_CHANNEL))
                            or any(p.startswith(fake.client) for p, *_ in got))
        time.sleep(0.05)
        got.clear()
        expected = {a.client: "note_on", b.client: "control_change"}

        def delivered() -> dict:
            return {p.split(":")[0]: kind for p, kind, _ in list(got)}

        # Each port's message, sent again while it has not arrived: a sender that finishes a
        # JACK cycle late on a loaded machine can lose what it wrote in that cycle.
        for _ in range(3):
            if a.client not in delivered():
                a.send(mido.Message("note_on", note=36, velocity=99))
            if b.client not in delivered():
                b.send(cc(7, 3))
            if wait_for(lambda: len(delivered()) == 2, timeout=5.0):
                break
        assert delivered() == expected, got  # each message came from its own port, and only it
        assert all(t > 0 for *_, t in got)
    finally:
        midi.close()
        a.unplug()
        b.unplug()


def test_led_feedback_reaches_the_controller(jack_server):
    leds = MidiSink(f"fake-leds-{os.getpid()}", "nanoKONTROL2 LED in")
    received = leds.messages
    state = ControlState(bypass=True, term_a="warm")
    ctl = MidiController(load_mapping(resolve_mapping_path("nanokontrol2")), state, TERMS)
    # Without the confirming repeat of the picture (its own test below), so that what goes out
    # here is exactly: the picture once, then only changes.
    out = FeedbackOutput("nanokontrol2 led", api="jack", confirm_s=None)
    try:
        assert out.port_name and "LED in" in out.port_name
        probes = iter(range(10_000))

        def probe_arrived():  # the connection is live once a probe gets through
            out.send([cc(127, next(probes) % 128, channel=PROBE_CHANNEL)])
            return bool(received)

        assert wait_for(probe_arrived)
        time.sleep(0.05)
        received.clear()
        first_picture = ctl.feedback_messages()
        first = out.send(first_picture)
        assert first == 9
        assert out.send(ctl.feedback_messages()) == 0     # nothing changed: nothing re-sent
        state.update(bypass=False)
        assert out.send(ctl.feedback_messages()) == 1
        assert wait_for(lambda: len(received) >= 10 and received[-1] == [0xB0, 32, 0])
        assert [0xB0, 32, 127] in received
        assert {tuple(m) for m in received} == {tuple(m.bytes()) for m in first_picture} | {(0xB0, 32, 0)}
    finally:
        out.close()
        leds.close()


def test_midi_learn_through_a_virtual_port_writes_a_valid_mapping(jack_server, tmp_path):
    from semeq_live.midi.learn import DEFAULT_STEPS, MappingLearner, write_learned_mapping

    fake = FakeController(f"fake-learn-{os.getpid()}", "Learn Me").plug()
    midi = MidiInput(["learn me"], api="jack", poll_interval=0.1)
    sync(fake, midi)
    # what the "user" does at each prompt
    moves = [
        [cc(7, v) for v in range(0, 128, 8)],                      # morph: fader sweep
        [cc(1, 100), cc(33, 5), cc(1, 101), cc(33, 90)],           # intensity: 14-bit pair
        [cc(20, 65)] * 4 + [cc(20, 63)] * 2,                      # term A: binary offset encoder
        [cc(21, 1)] * 3 + [cc(21, 127)],                           # term B: two's complement
        [mido.Message("pitchwheel", pitch=p) for p in (0, 3000, 8000)],  # traverse X: bend
        [mido.Message("note_on", note=50, velocity=80)] + [cc(22, v) for v in (10, 30, 50)],
        [cc(23, v) for v in (90, 80, 70, 60)],                     # output gain
        [mido.Message("note_on", note=36, velocity=90), mido.Message("note_off", note=36)],
        [cc(64, 127), cc(64, 0)],                                  # learn reference: CC button
        [mido.Message("note_on", note=37, velocity=90), mido.Message("note_off", note=37)],
        [mido.Message("program_change", program=2)],               # scene recall by program
        [mido.Message("note_on", note=38, velocity=90), mido.Message("note_off", note=38)],
    ]
    assert len(moves) == len(DEFAULT_STEPS)

    def prompt(i, step):  # the user reacts to the prompt by moving one control
        fake.send(*moves[i], gap=0.005)

    notices = []
    try:
        learner = MappingLearner(settle=0.5)  # generous: a loaded machine stalls delivery
        learned = learner.learn(midi.receive, on_prompt=prompt, on_notice=notices.append,
                                step_timeout=3.0)
    finally:
        midi.close()
        fake.unplug()
    assert len(learned) == len(DEFAULT_STEPS)
    assert any("needs a fader" in n for n in notices)  # the note pressed for traverse Y
    path = write_learned_mapping(tmp_path / "learned.yaml", learned, "Learn Me", "Learn Me",
                                 known_terms=TERMS)
    m = load_mapping(path, known_terms=TERMS)
    by_target = {c.target: c for c in m.controls}
    assert (by_target["alpha"].number, by_target["alpha"].mode) == (7, "absolute")
    assert by_target["intensity"].lsb == 33
    assert (by_target["term_a"].mode, by_target["term_a"].encoding) == ("relative", "binary_offset")
    assert (by_target["term_b"].mode, by_target["term_b"].encoding) == ("relative",
                                                                        "twos_complement")
    assert by_target["traverse_x"].type == "pitchbend"
    assert by_target["traverse_y"].number == 22
    assert by_target["output_gain"].range == (-24.0, 6.0)
    assert (by_target["bypass"].type, by_target["bypass"].number) == ("note", 36)
    assert (by_target["learn_reference"].type, by_target["learn_reference"].mode) == ("cc", "button")
    assert by_target["scene_recall"].scenes[:2] == ("1", "2")
    assert by_target["scene_store"].scene == "1"
    # and the learned mapping drives the state
    state = ControlState()
    ctl = MidiController(m, state, TERMS)
    ctl.handle(cc(7, 127))
    ctl.handle(mido.Message("note_on", note=36, velocity=1))
    assert state.alpha == 1.0 and state.bypass


def test_midi_monitor_and_learn_commands(jack_server, tmp_path, capsys):
    import threading

    from semeq_live.cli import main

    fake = FakeController(f"fake-cli-{os.getpid()}", "CLI Ctl").plug()
    stop = threading.Event()
    learning = threading.Event()

    def keep_sending():  # a performer moving one fader (for 1.5 s once learning starts) and pads
        i, fader_left, was_learning = 0, 0, False
        while not stop.is_set():
            if learning.is_set() and not was_learning:
                was_learning, fader_left = True, 75  # covers a slow start-up under load
            if not was_learning or fader_left > 0:
                fake.send(cc(5, i % 128))
                fader_left -= 1
            if i % 5 == 0:
                fake.send(mido.Message("note_on", note=40 + (i // 5) % 4, velocity=64))
            i += 1
            time.sleep(0.02)

    sender = threading.Thread(target=keep_sending, daemon=True)
    sender.start()
    try:
        assert main(["midi-monitor", "--list", "--midi-api", "jack"]) == 0
        assert f"{fake.client}:CLI Ctl" in capsys.readouterr().out.splitlines()
        rc = main(["midi-monitor", "--midi-api", "jack", "--midi-port", "cli ctl",
                   "--seconds", "0.6", "--mapping", "generic"])
        out = capsys.readouterr().out
        assert rc == 0
        assert f"{fake.client}:CLI Ctl" in out and "CC 5" in out and "[B0 05" in out
        assert "(not mapped)" in out
        out_path = tmp_path / "mine.yaml"
        learning.set()
        rc = main(["midi-learn", "-o", str(out_path), "--midi-api", "jack", "--midi-port",
                   "cli ctl", "--timeout", "0.4", "--settle", "0.1"])
        out = capsys.readouterr().out
        assert rc == 0, out
        assert "skipped" in out and "wrote" in out
        m = load_mapping(out_path)
        assert m.controls[0].target == "alpha" and m.controls[0].number == 5
        assert any(c.type == "note" for c in m.controls)
    finally:
        stop.set()
        sender.join()
        fake.unplug()


def test_unavailable_midi_system_is_a_clear_device_error(monkeypatch):
    from semeq_live.errors import DeviceError

    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"no-such-server-{os.getpid()}")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    with pytest.raises(DeviceError, match="JACK"):
        MidiInput(["x"], api="jack")
    with pytest.raises(DeviceError, match="unknown MIDI API"):
        MidiInput(["x"], api="coremidi")


def test_random_bytes_through_a_real_port_never_break_input(jack_server):
    """Garbage on the wire (as far as rtmidi lets it through) is counted and dropped."""
    import random

    rng = random.Random(1234)
    fake = FakeController(f"fake-noise-{os.getpid()}", "Noisy").plug()
    state = ControlState()
    ctl = MidiController(load_mapping(resolve_mapping_path("generic")), state, TERMS)
    midi = MidiInput(["noisy"], api="jack", poll_interval=0.1)
    sent = 0
    try:
        sync(fake, midi)
        for _ in range(400):
            packet = [rng.randrange(256) for _ in range(rng.randint(1, 3))]
            try:
                fake.send(packet)
                sent += 1
            except Exception:  # rtmidi itself refuses some shapes
                pass
        time.sleep(0.3)
        for item in midi.drain():  # everything that parsed goes through the controller
            ctl.handle(item[1])
        fake.send(cc(1, 127))      # and a real message still gets through afterwards
        item = midi.receive(timeout=2.0)
        assert item is not None and item[1].bytes() == [0xB0, 1, 127]
        assert midi.stats["received"] + midi.stats["malformed"] >= 1
        assert midi.stats["malformed"] > 0
        assert ctl.stats["errors"] == 0 and midi.stats["callback_errors"] == 0
        assert 0.0 <= state.intensity <= 1.5
    finally:
        midi.close()
        fake.unplug()


def test_led_output_reconnects_after_replug(jack_server):
    def plug_leds():
        return MidiSink(f"fake-leds2-{os.getpid()}", "Replug LEDs")

    leds = plug_leds()
    first = leds.messages
    out = FeedbackOutput("replug leds", api="jack", retry_interval=0.05)
    probes = iter(range(10_000))
    try:
        assert wait_for(lambda: out.send([cc(1, next(probes) % 128)]) >= 0 and bool(first))
        leds.close()
        leds = None
        assert wait_for(lambda: out.send([cc(1, next(probes) % 128)]) == 0
                        and out.port_name is None)
        leds = plug_leds()
        assert wait_for(lambda: out.send([cc(1, next(probes) % 128)]) >= 0
                        and bool(leds.messages))
        assert out.port_name and "Replug LEDs" in out.port_name
    finally:
        out.close()
        if leds is not None:
            leds.close()


def test_led_port_that_appears_late_gets_the_whole_picture_and_once_more(jack_server):
    """A controller plugged in after the start: the port is found by a later send (the live
    control loop offers the picture a few times a second), the whole picture goes out once JACK
    runs the connection, and once more ``confirm_s`` later (a reader late in that cycle can miss
    the first); then only changes again."""
    confirm_s = 1.0
    state = ControlState(bypass=True, term_a="warm", adaptive=False)
    ctl = MidiController(load_mapping(resolve_mapping_path("nanokontrol2")), state, TERMS)
    picture = ctl.feedback_messages()
    assert len(picture) == 9
    out = FeedbackOutput("late leds", api="jack", retry_interval=0.05, confirm_s=confirm_s)
    leds = None
    try:
        assert out.port_name is None and out.send(picture) == 0  # nothing to send to yet
        leds = MidiSink(f"fake-late-{os.getpid()}", "Late LEDs")
        received = leds.messages
        sends = []  # (time before the send, messages sent)

        def found():
            sends.append((time.monotonic(), out.send(picture)))
            return sends[-1][1] > 0

        assert wait_for(found)
        t_before_connect = sends[-1][0]
        assert sends[-1][1] == 9 and "Late LEDs" in out.port_name  # the whole picture at once
        assert out.send(picture) == 0  # unchanged: nothing
        assert wait_for(lambda: out.send(picture) == 9, timeout=5.0)  # ... and once more
        assert time.monotonic() - t_before_connect >= confirm_s
        assert out.stats["confirmations"] == 1
        assert all(out.send(picture) == 0 for _ in range(5))  # then only changes
        state.update(bypass=False)
        assert out.send(ctl.feedback_messages()) == 1
        expected = {tuple(m.bytes()[:2]): m.bytes()[2] for m in ctl.feedback_messages()}

        def shows_the_state():  # the last value of every LED, as the controller shows it
            last = {tuple(m[:2]): m[2] for m in list(received)}
            return all(last.get(k) == v for k, v in expected.items())

        assert wait_for(shows_the_state), (expected, received, leds.errors, out.stats)
    finally:
        out.close()
        if leds is not None:
            leds.close()


def carries(out: FeedbackOutput, leds: MidiSink) -> bool:
    """The connection carries messages: a probe (a new value each time) gets through. One send
    can be lost for good when the reader finishes its JACK cycle late (this process, loaded)."""
    probes = iter(range(10_000))
    return wait_for(lambda: out.send([cc(127, next(probes) % 128, channel=PROBE_CHANNEL)]) >= 0
                    and any(m[:2] == [0xB0 | PROBE_CHANNEL, 127] for m in leds.received()))


def test_led_port_whose_client_is_not_active_yet_lights_once_it_is(jack_server):
    """A JACK client registers its ports before it activates, and JACK refuses to connect to a
    port of a client not yet active. RtMidi's output ignored that refusal: a controller found in
    that moment (plugged in mid-show) got no LED for the rest of the show, while the app said it
    was connected. Now the connection counts only once JACK runs it, and is made again if not."""
    state = ControlState(bypass=True, term_a="warm", adaptive=False)
    ctl = MidiController(load_mapping(resolve_mapping_path("nanokontrol2")), state, TERMS)
    picture = ctl.feedback_messages()
    leds = MidiSink(f"fake-inactive-{os.getpid()}", "Inactive LEDs", activate=False)
    out = FeedbackOutput("inactive leds", api="jack", retry_interval=0.05, link_timeout_s=0.3)
    try:
        assert out.port_name and "Inactive LEDs" in out.port_name  # found, connection refused
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:  # several retries, all refused
            assert out.send(picture) == 0 and not out.linked
            time.sleep(0.05)
        assert out.stats["link_retries"] >= 1 and leds.feeders() == []
        leds.activate()
        assert wait_for(lambda: out.send(picture) == len(picture)), dict(out.stats)  # all of it
        assert out.linked and leds.feeders()
        assert carries(out, leds), (leds.errors, dict(out.stats))
    finally:
        out.close()
        leds.close()


def test_led_connection_pulled_in_a_patchbay_is_made_again(jack_server):
    """Someone disconnects the LED cable (or the controller is replugged between two checks):
    the once-a-second check finds the connection gone, makes it again and sends everything."""
    leds = MidiSink(f"fake-pulled-{os.getpid()}", "Pulled LEDs")
    out = FeedbackOutput("pulled leds", api="jack", retry_interval=0.05, confirm_s=None)
    picture = [cc(40, 1), cc(41, 127)]
    try:
        assert wait_for(lambda: out.send(picture) == 2)
        leds.disconnect_all()
        assert wait_for(lambda: leds.feeders() == [])
        leds.clear()
        assert wait_for(lambda: out.send(picture) == 2), dict(out.stats)  # unchanged, yet all again
        assert leds.feeders() and carries(out, leds), (leds.errors, dict(out.stats))
    finally:
        out.close()
        leds.close()


@pytest.mark.slow
def test_led_output_comes_back_after_the_jack_server_restarts(own_jack_server):
    """RtMidi's port list outlived a JACK server that went away: the output kept "sending" to the
    old server and the LEDs stayed dark after it came back. Now it notices and reconnects."""
    server = own_jack_server
    leds = MidiSink("fake-restart-leds", "Restart LEDs")
    out = FeedbackOutput("restart leds", api="jack", retry_interval=0.05, confirm_s=None)
    picture = [cc(50, 127)]
    try:
        assert wait_for(lambda: out.send(picture) == 1)
        server.proc.kill()
        server.proc.wait()
        leds.close()  # its client died with the server
        assert wait_for(lambda: out.send(picture) == 0 and out.port_name is None)
        server.start()
        leds = MidiSink("fake-restart-leds", "Restart LEDs")  # the controller's client again
        assert wait_for(lambda: out.send(picture) == 1, timeout=10), dict(out.stats)
        assert carries(out, leds), (leds.errors, dict(out.stats))
    finally:
        out.close()
        leds.close()
