"""End to end on a real audio server: the app runs headless on JACK (dummy driver), a real JACK
virtual MIDI port in this process sends CCs, and the log and the recorded output are checked.

The app plays the built-in test tones (JACK's dummy capture is silence) and records its output.
Because the kernel is deterministic, the recording must equal an offline render of the same tones
through an ``EQProcessor`` whose target changes at the output frame the app logged for the CC:
that checks the state change, the sound change and the block-exact latency at once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from semeq_live.ui.headless import parse_line

from .midi_sink import MidiSink

pytestmark = [pytest.mark.jack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
SR, BLOCK = 48000, 128
MORPH_CC, GAIN_CC = 1, 7  # generic.yaml: mod wheel = morph alpha, CC 7 = output gain
# Spawn to the "start" line: a few seconds with the numba kernels cached, but a fresh checkout
# compiles them at the first start, which takes over a minute on a loaded 2-core machine.
START_TIMEOUT_S = 180.0


class AppProcess:
    """``semeq-live run --headless`` as a child process, with its log parsed as it arrives."""

    def __init__(self, args: list[str], env: dict, tmp_path: Path):
        self.stderr_path = tmp_path / "app-stderr.txt"
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "semeq_live", "run", "--headless", *args],
            stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env, cwd=str(REPO))
        self.events: list[dict] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            rec = parse_line(line)
            if rec is not None:
                with self._cond:
                    self.events.append(rec)
                    self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 20.0, after: int = 0) -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for rec in self.events[after:]:
                    if predicate(rec):
                        return rec
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"timed out waiting for an event; got {self.events[-8:]}\n"
                                         f"stderr: {self.stderr()[-3000:]}")
                self._cond.wait(min(left, 0.2))

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text()

    def terminate(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and the exit status; None if it did not stop in time (then its stacks are
        dumped to the stderr file via SIGUSR1 and it is killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(1.0)
            self.proc.kill()
            self.proc.wait()
            rc = None
        self._reader.join(5)
        if not self._stderr.closed:
            self._stderr.close()
        return rc


@pytest.fixture
def midi_sender(jack_server):
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="semeq-e2e")
    out.open_virtual_port("semeq-e2e-ctl")
    yield out
    out.close_port()
    out.delete()


def send_cc(out, control: int, value: int) -> float:
    t = time.monotonic()
    out.send_message([0xB0, control, value])
    return t


def send_until(app: AppProcess, out, message, predicate, tries: int = 3, wait: float = 10.0,
               sent_at: list | None = None) -> dict:
    """Send an *absolute* control (sending it twice does no harm) until ``predicate`` holds for
    a log line written after the first send (``sent_at`` collects the send times). A message
    can be lost on the way: sent in the cycles before JACK carries a connection just made, or
    by a sender that finishes a JACK cycle late (the test's sender is a plain thread on a
    loaded machine)."""
    n = len(app.events)
    for _ in range(tries):
        if sent_at is not None:
            sent_at.append(time.monotonic())
        out.send_message(message)
        try:
            return app.wait_for(predicate, timeout=wait, after=n)
        except AssertionError:
            if app.proc.poll() is not None:
                raise
    raise AssertionError(f"{message} never led to the expected line: {app.events[n:][-8:]}")


def tone_levels_db(x: np.ndarray) -> np.ndarray:
    """Levels (dB) of the 100 Hz, 1 kHz and 10 kHz test tones in one second of audio."""
    spec = np.abs(np.fft.rfft(x[:SR, 0])) / (SR / 2)
    return 20 * np.log10(spec[[100, 1000, 10000]])


def offline_render(changes: dict, frames: int) -> np.ndarray:
    """The test tones through EQProcessor as the app's callback runs them: the processor starts
    flat and silent (the app's start-up gain) and gets each ``changes[frame]`` at that frame."""
    from semeq_live.app import STARTUP_GAIN_DB
    from semeq_live.audio.sources import tone_mix
    from semeq_live.dsp import EQProcessor

    proc = EQProcessor(SR, 2)
    proc.set_output_gain_db(STARTUP_GAIN_DB)
    tones = tone_mix(SR, 2)
    reps = -(-frames // tones.shape[0])
    src = np.tile(tones, (reps, 1))[:frames]
    out = np.empty_like(src)
    for start in range(0, frames, BLOCK):
        if start in changes:
            changes[start].apply_to(proc)
        proc.process_into(src[start:start + BLOCK], out[start:start + BLOCK])
    return out


def settings_for(alpha: float):
    from semeq_live.control.engine import SemanticEngine
    from semeq_live.control.state import ControlState
    from semeq_live.model import load_model

    model = load_model()
    state = ControlState(term_a="warm", term_b="bright", alpha=alpha, intensity=1.0,
                         autogain=False, adaptive=False)
    return SemanticEngine(model, SR).compute(state, None)


def test_cc_changes_state_eq_and_recorded_sound(jack_server, midi_sender, tmp_path):
    import soundfile as sf

    from semeq_live.dsp.design import response_db

    rec_path = tmp_path / "show.wav"
    app = AppProcess(["--midi-api", "jack", "--midi-port", "semeq-e2e-ctl", "--record", str(rec_path),
                      "--test-signal", "tones", "--term-a", "warm", "--term-b", "bright",
                      "--alpha", "0", "--intensity", "1", "--no-autogain", "--no-adaptive",
                      "--block-size", str(BLOCK), "--sample-rate", str(SR), "--health-interval", "1"],
                     jack_server.env(), tmp_path)
    try:
        start = app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        assert start["output"] == "system" and start["block_size"] == BLOCK
        assert start["subsonic_hz"] == 20.0  # the DC/subsonic protection, on by default
        initial = app.wait_for(lambda r: r["event"] == "state" and r["source"] == "start")
        assert initial["alpha"] == 0.0 and initial["term_a"] == "warm"
        first_frame = initial["audio_frame"]
        connected = app.wait_for(lambda r: r["event"] == "device" and "connected" in r.get("message", "")
                                 and "semeq-e2e-ctl" in r.get("message", ""), timeout=10)
        # JACK MIDI is read by the JACK-Client input (python-rtmidi's crashed under floods)
        assert connected["message"].endswith("(JACK via JACK-Client)"), connected
        # A settled second and a half of the first EQ before the move.
        health = app.wait_for(lambda r: r["event"] == "health"
                              and (r.get("recorded_s") or 0) > first_frame / SR + 1.5)
        assert health["subsonic_hz"] == 20.0

        sends: list[float] = []
        change = send_until(app, midi_sender, [0xB0, MORPH_CC, 127],
                            lambda r: r["event"] == "state" and r["source"] == "midi", sent_at=sends)
        assert change["alpha"] == pytest.approx(1.0)
        assert change["source"] == "midi" and "semeq-e2e-ctl" in change["port"]
        # The MIDI transport (JACK delivers the event in its next cycle) plus the control thread.
        assert change["t_arrival"] - max(t for t in sends if t <= change["t_arrival"]) < 0.1
        frame = change["audio_frame"]
        assert frame % BLOCK == 0

        app.wait_for(lambda r: r["event"] == "health" and r["recorded_s"] > frame / SR + 1.5)
        # More moves (output gain) after the stretch of audio checked below, for latency figures.
        latencies = [change["latency_ms"]]
        for value in (100, 110, 120, 127):
            rec_line = send_until(app, midi_sender, [0xB0, GAIN_CC, value],
                                  lambda r: r["event"] == "state" and r["source"] == "midi"
                                  and "output_gain_db" in r)
            latencies.append(rec_line["latency_ms"])
            time.sleep(0.1)
        block_ms = 1000 * BLOCK / SR
        # Arrival -> first audio block with the new target: within 2 blocks (+ the 20 ms smoothing
        # for the sound to settle, the goal's allowance, as a bound no single move may exceed).
        assert np.median(latencies) <= 2 * block_ms, latencies
        assert max(latencies) <= 2 * block_ms + 20.0, latencies
        rc = app.terminate()
        assert rc == 0, app.stderr()[-3000:]
        stop = next(r for r in app.events if r["event"] == "stop")
        assert stop["reason"] == "SIGTERM"
    finally:
        app.terminate()

    rec, rate = sf.read(str(rec_path), dtype="float32", always_2d=True)
    assert rate == SR and rec.shape[1] == 2
    assert rec.shape[0] >= frame + SR + SR // 2

    # The sound changed as the EQ curves say: tone levels before vs. after the CC (settled).
    before, after = settings_for(0.0), settings_for(1.0)
    expected = (response_db(after.forward, [100, 1000, 10000], SR)
                - response_db(before.forward, [100, 1000, 10000], SR))
    measured = tone_levels_db(rec[frame + SR // 4:]) - tone_levels_db(rec[frame - SR - BLOCK:])
    assert np.max(np.abs(expected)) > 1.0, "warm and bright should differ audibly"
    np.testing.assert_allclose(measured, expected, atol=0.3)

    # Silence until the EQ was ready, then the sound fades in with it.
    assert not np.any(rec[:first_frame - 2 * BLOCK] > 1e-3)
    # Block-exact: from there on the recording equals an offline render with the changes at the
    # logged frames (or one block earlier, if the kernel picked up the new filters before the
    # last of the control thread's updates for that target was published).
    # The check starts a quarter second in: the subsonic protection started with the processor
    # (when the EQ went into the path, a moment before first_frame that is not logged), and its
    # 20 Hz start-up transient takes about 0.15 s to fall below the tolerance.
    n = frame + SR // 2
    check = slice(first_frame + SR // 4, n)
    errors = {}
    for f0 in (first_frame, first_frame - BLOCK):
        for f1 in (frame, frame - BLOCK):
            ref = offline_render({f0: before, f1: after}, n)
            errors[(f0, f1)] = float(np.max(np.abs(ref[check] - rec[check])))
    assert min(errors.values()) < 1e-4, errors  # PCM_24 file: ~1e-7 quantisation
    late = offline_render({first_frame: before, frame + BLOCK: after}, n)
    assert np.max(np.abs(late[check] - rec[check])) > 1e-3  # a block late would show


def test_led_feedback_follows_the_state(jack_server, tmp_path):
    """nanoKONTROL2 layout: S1 (CC 32) toggles bypass and its LED (on the controller's input
    port) must light; the app finds both ports by the mapping's port name."""
    import rtmidi

    knobs = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="fake-nano")
    knobs.open_virtual_port("nanoKONTROL2 fake ctl")
    leds = MidiSink("fake-nano-leds", "nanoKONTROL2 fake leds")
    app = AppProcess(["--mapping", "nanokontrol2", "--midi-api", "jack", "--midi-port",
                      "nanoKONTROL2 fake ctl", "--test-signal", "pink", "--health-interval", "0.5"],
                     jack_server.env(), tmp_path)

    def led(number: int) -> int | None:  # what the controller shows now
        return next((m[2] for m in reversed(leds.received()) if m[:2] == [0xB0, number]), None)

    def bypass_led() -> int:  # what S1 must show: the bypass state as last logged
        logged = [r["bypass"] for r in app.events if r["event"] == "bypass"]
        return 127 if logged and logged[-1] else 0

    def wait_led(number: int, value, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while led(number) != value() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert led(number) == value(), (number, value(), leds.received())

    try:
        app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        app.wait_for(lambda r: r["event"] == "device" and "connected" in r.get("message", ""))
        wait_led(32, lambda: 0)  # the LEDs get the whole state at start: S1 dark, not bypassed
        # Press S1 (momentary button, toggle target). A toggle is pressed again only if no
        # bypass line came at all within a generous wait (the press was lost on the way).
        for _ in range(3):
            n = len(app.events)
            knobs.send_message([0xB0, 32, 127])
            knobs.send_message([0xB0, 32, 0])
            try:
                app.wait_for(lambda r: r["event"] == "bypass", after=n, timeout=15)
                break
            except AssertionError:
                assert app.proc.poll() is None, app.stderr()[-3000:]
        # S1 shows the state as logged (on; off again only if the press arrived twice: the
        # app's JACK input can repeat an event of a sender that runs late) ...
        wait_led(32, bypass_led)
        assert [0xB0, 32, 127] in leds.received()  # ... and it did light when bypass went on
        assert app.terminate() == 0, app.stderr()[-3000:]
    finally:
        app.terminate()
        knobs.close_port()
        knobs.delete()
        leds.close()


def test_led_port_that_appears_mid_show_gets_the_whole_current_picture(jack_server, tmp_path):
    """Mixxx-style: a controller whose LED input appears only after the app started (plugged in
    mid-show) is sent every LED for the *current* state at once, not only later changes."""
    import rtmidi

    knobs = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="late-nano")
    knobs.open_virtual_port("nanoKONTROL2 late ctl")
    leds = None
    app = AppProcess(["--mapping", "nanokontrol2", "--midi-api", "jack", "--midi-port",
                      "nanoKONTROL2 late ctl", "--test-signal", "pink", "--term-a", "cold",
                      "--term-b", "dark", "--no-adaptive", "--health-interval", "0.5"],
                     jack_server.env(), tmp_path)
    try:
        app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        app.wait_for(lambda r: r["event"] == "device" and "late ctl" in r.get("message", ""))
        # The state moves on before the LEDs are there: S2 picks warm for A, M2 bright for B
        # (direct picks: sending one again changes nothing).
        send_until(app, knobs, [0xB0, 33, 127],
                   lambda r: r["event"] == "state" and r.get("term_a") == "warm")
        send_until(app, knobs, [0xB0, 49, 127],
                   lambda r: r["event"] == "state" and r.get("term_b") == "bright")
        assert not [r for r in app.events if "LED" in r.get("message", "")]  # no LEDs so far

        n = len(app.events)
        leds = MidiSink("late-nano-leds", "nanoKONTROL2 late leds")  # plugged in now; no MIDI
        app.wait_for(lambda r: r["event"] == "device" and "LED feedback connected" in
                     r.get("message", "") and "late leds" in r["message"], after=n, timeout=30)
        # Every LED of the mapping, showing the state now: S1 bypass off, M1 adaptive off,
        # R1 auto-gain on, S2 "warm on A" on, M2 "bright on B" on, scenes S5-S8 off.
        expected = {32: 0, 48: 0, 64: 127, 33: 127, 49: 127, 36: 0, 37: 0, 38: 0, 39: 0}

        def shown() -> dict:
            return {m[1]: m[2] for m in leds.received() if m[0] == 0xB0}

        deadline = time.monotonic() + 30
        while shown() != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert shown() == expected, (leds.received(), app.events[n:])
        assert app.terminate() == 0, app.stderr()[-3000:]
    finally:
        app.terminate()
        knobs.close_port()
        knobs.delete()
        if leds is not None:
            leds.close()


def test_term_a_steps_through_a_palette_over_jack_midi(jack_server, midi_sender, tmp_path):
    """A mapping with its own palette on a model with more words: next/previous buttons, a knob
    and program change move term A through the palette, in order, wrapping, over real JACK MIDI
    (the app's control thread logs each change; the EQ following the state is checked above)."""
    from .vocab_model import vocab_model_path

    model_path = vocab_model_path(tmp_path)
    palette = ["bassy", "thin", "warm", "bright", "airy", "dull"]
    mapping = tmp_path / "stage.yaml"
    mapping.write_text(
        "version: 1\nname: palette rig\nchannel: 1\n"
        f"palette: [{', '.join(palette)}]\n"
        "controls:\n"
        "  - {name: A next, target: term_a, type: note, number: 60, direction: next}\n"
        "  - {name: A previous, target: term_a, type: note, number: 61, direction: previous}\n"
        "  - {name: A knob, target: term_a, type: cc, number: 20}\n"
        "  - {name: A select, target: term_a, type: program}\n")
    app = AppProcess(["--midi-api", "jack", "--midi-port", "semeq-e2e-ctl", "--model", str(model_path),
                      "--mapping", str(mapping), "--test-signal", "pink", "--term-a", palette[0],
                      "--term-b", "bright", "--alpha", "0", "--no-adaptive"],
                     jack_server.env(), tmp_path)

    def term_changes(after: int) -> list[tuple[str, str]]:
        return [(r["term_a"], r.get("port", "")) for r in app.events[after:]
                if r["event"] == "state" and "term_a" in r]

    def term_now(before: int) -> str:
        for r in reversed(app.events[:before]):
            if r["event"] == "state" and "term_a" in r:
                return r["term_a"]
        return palette[0]  # --term-a at start

    def select(message, word, tries: int = 3) -> None:
        """An absolute control (program change, knob): the state becomes ``word``. Sent again
        if it went missing: the dummy server on a loaded machine can drop a message (or deliver
        one late or twice, which an absolute control shrugs off)."""
        for _ in range(tries):
            n = len(app.events)
            midi_sender.send_message(message)
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                changes = term_changes(n)
                assert all("semeq-e2e-ctl" in port for _, port in changes), changes
                if word in [w for w, _ in changes]:
                    return
                time.sleep(0.05)
        raise AssertionError(f"{message} never selected {word!r}: {term_changes(0)}")

    def walk(note: int, direction: int) -> None:
        """Press a step button until the walk has gone all the way round and past the wrap;
        every change must be one step along the palette in ``direction``. (Under load the
        dummy server may deliver a message twice or not at all: one press can be one step more
        or one fewer, but never anything but a step.)"""
        n = len(app.events)
        for _ in range(3 * len(palette)):
            midi_sender.send_message([0x90, note, 100])
            midi_sender.send_message([0x80, note, 0])
            time.sleep(0.3)  # state lines are coalesced (at most 10 a second): one per press
            if len(term_changes(n)) > len(palette):
                break
        time.sleep(0.5)  # late deliveries
        lines = [r for r in app.events[n:] if r["event"] == "state" and "term_a" in r]
        words = [term_now(n)] + [r["term_a"] for r in lines]
        assert len(words) > len(palette) + 1, words
        # A coalesced line sums up ``changes`` presses (when a stalled audio thread had not
        # played one before the next came): that many steps.
        for a, b, line in zip(words, words[1:], lines):
            steps = line.get("changes", 1)
            assert palette.index(b) == (palette.index(a) + direction * steps) % len(palette), words

    try:
        start = app.wait_for(lambda r: r["event"] == "start", timeout=START_TIMEOUT_S)
        assert start["palette"] == palette  # the start line says what the controls step through
        app.wait_for(lambda r: r["event"] == "device" and "connected" in r.get("message", "")
                     and "semeq-e2e-ctl" in r.get("message", ""), timeout=10)
        time.sleep(0.3)  # JACK applies a new connection a few cycles after it is made
        # Program change n picks word n; the knob's 128 positions are shared by the six words.
        for i in (1, 2, 3, 4, 5, 0):
            select([0xC0, i], palette[i])
        for value, i in ((127, 5), (70, 3), (22, 1), (0, 0)):
            select([0xB0, 20, value], palette[i])
        time.sleep(0.5)  # let any late delivery of those land before the walks
        walk(60, +1)   # next, round the palette and over the wrap
        walk(61, -1)   # previous, the other way round
        rc = app.terminate()
        assert rc == 0, app.stderr()[-3000:]
    finally:
        app.terminate()
