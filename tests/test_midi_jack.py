"""The JACK MIDI input (JACK-Client, native process callback) under the faults that matter on stage,
through real JACK ports: a late sender that rewrites its buffer while we read it (what crashed
python-rtmidi's JACK input), events too long or not control input, a reader that falls behind,
a sender unplugged and the input closed in the middle of a flood, and the JACK server restarting.

A crash of the input must fail a test, not end the session: where one is possible the input runs
in a child process and reports what it counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import mido
import pytest

from semeq_live.midi import MidiInput
from semeq_live.midi.jack_input import RING_BYTES
from semeq_live.midi.jack_rt import RECORD_HEADER

from .test_e2e_faults import own_jack_server  # noqa: F401 (a fixture: a server this test may kill)
from .test_midi_live import PROBE_CHANNEL, FakeController, cc, sync, wait_for

pytestmark = pytest.mark.jack

REPO = Path(__file__).resolve().parents[1]

READER = """
import json, sys, time
from semeq_live.midi import MidiInput
from semeq_live.midi.jack_input import RING_BYTES
from semeq_live.midi.jack_rt import RECORD_HEADER
pattern, seconds = sys.argv[1], float(sys.argv[2])
kinds = {}
def count(port, msg, t):
    kinds[msg.type] = kinds.get(msg.type, 0) + 1
midi = MidiInput([pattern], api="jack", poll_interval=0.2, on_message=count)
print(json.dumps({"ready": True}), flush=True)
time.sleep(seconds)
connected = midi.connected
midi.close()
print(json.dumps({"kinds": kinds, "stats": dict(midi.stats)}), flush=True)
"""


def send_until_received(fake, midi, msg, tries: int = 3, wait: float = 3.0):
    """Send ``msg`` until the input delivers a message (up to ``tries`` times). On a loaded machine
    the test's rtmidi sender can lose a message before JACK hands it to any reader (a sender that
    finishes its cycle late); the input counts what it drops, so the stats say which it was."""
    for _ in range(tries):
        fake.send(msg)
        got = midi.receive(timeout=wait)
        if got is not None:
            return got[1]
    raise AssertionError(f"{msg} never arrived: {dict(midi.stats)}")


def test_jack_client_still_has_the_private_names_the_input_uses(jack_server):
    """JACK-Client cannot register a native callback, so jack_input takes the C pointers of a
    client and a port from JACK-Client's private names (pinned to 0.5.x)."""
    jack = pytest.importorskip("jack")
    client = jack.Client(f"semeq-names-{os.getpid()}", no_start_server=True)
    try:
        objects = (client, client.midi_inports.register("x"))
        assert all(int(jack._ffi.cast("uintptr_t", obj._ptr)) != 0 for obj in objects)
    finally:
        client.close()


@pytest.mark.slow
def test_a_late_sender_flooding_never_crashes_the_input(jack_server):
    """The sender finishes 30 % of its periods late and refills its buffer while we read it:
    jack_midi_event_get fails under the reader. RtMidi died of SIGSEGV on this within seconds;
    the input must count the failures, keep every event it read intact, and live on."""
    env = {**os.environ, **jack_server.env(), "PYTHONPATH": str(REPO), "PYTHONFAULTHANDLER": "1"}
    # Whether a late sender's refill lands inside one of our reads is up to the scheduler: on a
    # machine busy elsewhere a 10 s flood can pass without one. Each attempt checks that nothing
    # crashed and nothing was malformed; the fault must be provoked in one of three attempts.
    for attempt in range(3):
        stats = _late_sender_attempt(env, f"late-{os.getpid()}-{attempt}")
        if stats.get("jack_get_errors", 0) + stats.get("jack_torn", 0) > 0:
            break
    else:
        pytest.fail(f"the fault was not provoked in three attempts: {stats}")


def _late_sender_attempt(env, client) -> dict:
    reader = subprocess.Popen([sys.executable, "-c", READER, f"{client}:flood", "14"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert json.loads(reader.stdout.readline()) == {"ready": True}
    writer = subprocess.run([sys.executable, "-m", "tests.late_writer", client, "flood", "10"],
                            env=env, cwd=str(REPO), capture_output=True, text=True, timeout=60)
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, f"the input died ({reader.returncode}): {err[-3000:]}"
    sent = json.loads(writer.stdout.strip().splitlines()[-1])
    assert sent["late"] > 100, sent  # the sender really ran late
    report = json.loads(out.strip().splitlines()[-1])
    stats, kinds = report["stats"], report["kinds"]
    # What was read is what was sent: control changes only, nothing malformed.
    assert set(kinds) == {"control_change"} and kinds["control_change"] > 10_000, kinds
    assert stats.get("malformed", 0) == 0 and stats.get("callback_errors", 0) == 0, stats
    return stats


def test_long_sysex_clock_and_active_sensing(jack_server):
    """A sysex up to 8 KiB arrives whole; a longer one is dropped and counted; clock and active
    sensing are not control input (as with rtmidi's ignore_types), and nothing else is lost."""
    fake = FakeController(f"fake-sysex-{os.getpid()}", "Sysex").plug()
    midi = MidiInput(["sysex"], api="jack", poll_interval=0.1)
    try:
        sync(fake, midi)
        ok = [0xF0] + [i % 128 for i in range(8190)] + [0xF7]            # 8192 bytes
        too_long = [0xF0] + [i % 128 for i in range(9000)] + [0xF7]
        # The test's rtmidi sender can lose a message on a loaded machine (see
        # send_until_received): the batch is sent again until both control messages arrive.
        for _ in range(3):
            fake.send(ok, [0xF8], [0xFE], too_long, cc(5, 1))
            got = []
            while (m := midi.receive(timeout=3.0)) is not None:
                got.append(m)
                if m[1].type == "control_change":
                    break
            types = [msg.type for _, msg, _ in got]
            assert set(types) <= {"sysex", "control_change"}, types  # no clock, no active sensing
            if types == ["sysex", "control_change"]:
                break
        assert types == ["sysex", "control_change"], dict(midi.stats)
        assert got[0][1].bytes() == ok
        assert wait_for(lambda: midi.stats["jack_oversized"] >= 1)  # counted at the next scan
        assert midi.receive(timeout=0.3) is None and midi.stats["malformed"] == 0
    finally:
        midi.close()
        fake.unplug()


def test_a_reader_behind_drops_and_counts_then_catches_up(jack_server):
    """The delivery is held while 20 000 messages are sent: the ring (256 KiB) keeps what fits, the
    rest is counted as dropped, JACK's thread never waits, and the input works on afterwards.
    Every event that reached the input's port is delivered or counted. (Not every one sent need
    reach it: on a loaded machine the sender's own ring or a late sender loses some before JACK
    hands them to any reader; no reader can see those.)"""
    fake = FakeController(f"fake-burst-{os.getpid()}", "Burst").plug()
    held, release = threading.Event(), threading.Event()
    got = []

    def slow(port, msg, t):
        held.set()
        release.wait(30)
        got.append(msg)

    midi = MidiInput(["burst"], api="jack", poll_interval=0.1, on_message=slow)
    try:
        assert wait_for(lambda: fake.send(cc(127, 0, channel=PROBE_CHANNEL)) or held.is_set())
        for i in range(20_000):
            fake.send(cc(i % 120, i % 128))
            if i % 500 == 499:
                time.sleep(0.02)  # rtmidi's own output ring is 16 KiB
        assert wait_for(lambda: midi.stats["jack_overflow"] > 0, timeout=10)
        release.set()
        assert wait_for(lambda: len(got) > 10_000, timeout=30)
        n = len(got)
        fake.send(cc(9, 99))
        assert wait_for(lambda: got and got[-1].bytes() == [0xB0, 9, 99], timeout=10), got[-3:]
        midi.scan()  # the counters of JACK's thread, up to now
        stats = dict(midi.stats)
        assert stats["received"] >= n, stats
        # Everything JACK's thread read (probes and the last CC included) was delivered, the rest
        # counted: the ring's capacity in 19-byte records went through, the overflow was counted.
        assert stats["received"] == stats["jack_events"], stats
        assert stats["jack_events"] >= RING_BYTES // (RECORD_HEADER + 3), stats
    finally:
        release.set()
        midi.close()
        fake.unplug()


def test_unplugged_and_closed_in_the_middle_of_a_flood(jack_server):
    """The sender vanishes while flooding and comes back; then the input is closed while the
    flood runs: no crash, no hang, the client leaves JACK's graph and its reader ends."""
    fake = FakeController(f"fake-flood-{os.getpid()}", "Flood").plug()
    stop = threading.Event()
    lock = threading.Lock()

    def flood():
        i = 0
        while not stop.is_set():
            with lock:
                if fake.out is not None:
                    fake.send(cc(i % 120, i % 128))
            i += 1
            if i % 50 == 0:
                time.sleep(0.005)

    midi = MidiInput(["flood"], api="jack", poll_interval=0.1)
    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    try:
        assert wait_for(lambda: midi.stats["received"] > 1000, timeout=10)
        with lock:
            fake.unplug()
        assert wait_for(lambda: midi.connected == [])
        with lock:
            fake.plug()
        assert wait_for(lambda: len(midi.connected) == 1)
        before = midi.stats["received"]
        assert wait_for(lambda: midi.stats["received"] > before + 1000, timeout=10)
        reader = midi._backend._reader
        t0 = time.monotonic()
        midi.close()
        assert time.monotonic() - t0 < 3.0
        assert not reader.is_alive()
        clients = subprocess.run(["jack_lsp"], env=jack_server.env(), capture_output=True,
                                 text=True).stdout
        assert "semeq-live:" not in clients
    finally:
        stop.set()
        sender.join(5)
        midi.close()
        with lock:
            if fake.out is not None:
                fake.unplug()


@pytest.mark.slow
def test_input_survives_the_jack_server_and_reconnects_when_it_is_back(own_jack_server):
    server = own_jack_server
    fake = FakeController(f"fake-restart-{os.getpid()}", "Restart").plug()
    midi = MidiInput(["restart"], api="jack", poll_interval=0.1)
    try:
        sync(fake, midi)
        assert send_until_received(fake, midi, cc(3, 33)).bytes() == [0xB0, 3, 33]
        server.proc.kill()
        server.proc.wait()
        assert wait_for(lambda: midi.connected == [] and midi.stats["disconnects"] == 1, 10)
        time.sleep(1.0)  # scans meanwhile find no server: quietly, no exception
        assert midi._thread.is_alive() and midi.stats["scan_errors"] == 0

        server.start()
        fake.plug()
        assert wait_for(lambda: len(midi.connected) == 1, timeout=15)
        sync(fake, midi)
        assert send_until_received(fake, midi, mido.Message("note_on", note=60, velocity=1)).type \
            == "note_on"
    finally:
        midi.close()
        if fake.out is not None:
            fake.unplug()


def test_a_port_of_our_own_that_others_connect_to(jack_server):
    """``listen``: an input port with a name of our choosing that a patchbay (here: this test)
    connects a controller to; its events come with that port's name."""
    from semeq_live.midi.jack_input import JackInputs

    got = []
    inputs = JackInputs(f"semeq-listen-{os.getpid()}", lambda port, data, t: got.append((port, data)))
    fake = FakeController(f"fake-listen-{os.getpid()}", "Patched").plug()
    try:
        name = inputs.listen("patch me")
        assert name == f"semeq-listen-{os.getpid()}:patch me"
        inputs.client.connect(f"{fake.client}:{fake.port}", name)
        assert wait_for(lambda: fake.send(cc(7, 99)) or any(d == b"\xb0\x07\x63" for _, d in got))
        assert {port for port, _ in got} == {name}
    finally:
        inputs.close()
        fake.unplug()
