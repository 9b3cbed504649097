"""The headless log coalesces state lines (at most 10 per second, latest value wins, the final
state always written) and writes every discrete event once and at once, in order.

These drive ``HeadlessLog`` with a simulated clock and the real ``CallbackMetrics`` fed as the
audio callback feeds it (a block every 2.67 ms picks up the newest published target), and the
real control loop with a real MIDI controller and scene file. The same bounds on the running app
under a 1000 messages/s flood through a real JACK port: ``tests/test_e2e_log_flood.py``.
"""

from __future__ import annotations

import io
import logging

import mido
import pytest

from semeq_live.audio.metrics import CallbackMetrics
from semeq_live.ui.headless import STATE_LINES_PER_S, HeadlessLog, parse_line

SR, BLOCK = 48000, 128
BLOCK_S = BLOCK / SR


class Sim:
    """A clock, the callback metrics, and an audio thread that plays every published target in
    its next block; the app's loop flushes the log every 0.1 s."""

    def __init__(self):
        self.now = 100.0
        self.metrics = CallbackMetrics(SR, BLOCK)
        self.out = io.StringIO()
        self.log = HeadlessLog(self.out, metrics=self.metrics, clock=lambda: self.now)
        self.seq = 0
        self.next_block = self.now
        self.next_flush = self.now + 0.1

    def change(self, **fields):
        self.seq += 1
        self.metrics.target_published(self.seq, self.now, self.seq)
        self.log.state_change({"seq": self.seq, "source": "midi", "t_arrival": self.now,
                               "port": "ctl", **fields})

    def advance(self, seconds: float):
        end = self.now + seconds
        while True:
            t = min(self.next_block, self.next_flush)
            if t > end:
                break
            self.now = t
            if t == self.next_block:
                self.metrics.block_started(0)
                self.metrics.block_processed(t, self.seq)
                self.metrics.block_finished(1e-5, BLOCK)
                self.next_block += BLOCK_S
            else:
                self.log.flush_state_changes()
                self.next_flush += 0.1
        self.now = end

    def records(self) -> list[dict]:
        return [parse_line(line) for line in self.out.getvalue().splitlines()]


def test_a_flood_of_changes_is_at_most_ten_state_lines_per_second_and_the_last_state_wins():
    sim = Sim()
    for i in range(3000):  # 3 s at 1000 changes/s: a fader and the gain moving all the time
        sim.change(alpha=i / 3000, **({"output_gain_db": -float(i % 24)} if i % 3 == 0 else {}))
        sim.advance(0.001)
    sim.change(alpha=0.25)  # the final move
    sim.advance(0.5)
    recs = [r for r in sim.records() if r["event"] == "state"]
    assert 3 * 8 <= len(recs) <= 3 * 10 + 1
    times = [r["seq"] for r in recs]
    assert times == sorted(times)  # in order
    assert recs[-1]["alpha"] == 0.25 and recs[-1]["seq"] == sim.seq  # the final state is written
    assert sum(r["changes"] for r in recs) == sim.seq  # every change is summed up in some line
    # Latest value wins: a line's gain is the last gain change it covers.
    assert all(r["output_gain_db"] <= 0 for r in recs if "output_gain_db" in r)
    # Each line's latency is that of its last change: arrival -> the next block (< 1 block).
    assert all(0 <= r["latency_ms"] <= 1000 * BLOCK_S + 1e-3 for r in recs), [r["latency_ms"] for r in recs]
    assert all(r["audio_frame"] % BLOCK == 0 for r in recs)


def test_no_one_second_window_holds_more_than_ten_state_lines():
    sim = Sim()
    written = []
    for i in range(4000):  # uneven arrival, with discrete events (which may take a line early)
        sim.change(alpha=(i % 128) / 127)
        if i % 50 == 0:
            sim.log.write("action", action="scene_store", arg=str(i))
        n = len(sim.records())
        sim.advance(0.0005 if i % 2 else 0.0015)
        written += [sim.now] * sum(r["event"] == "state" for r in sim.records()[n:])
    assert len(written) >= 30
    assert max(sum(1 for t in written if t0 <= t < t0 + 1.0) for t0 in written) <= STATE_LINES_PER_S


def test_a_discrete_event_follows_the_state_it_came_after():
    sim = Sim()
    sim.change(alpha=0.5)
    sim.advance(0.05)  # played, but the flush is not due yet: pending
    sim.log.write("action", action="scene_store", arg="verse")
    recs = sim.records()
    assert [r["event"] for r in recs] == ["state", "action"]  # the stored state comes first
    assert recs[0]["alpha"] == 0.5 and recs[0]["latency_ms"] >= 0
    assert "pending_state" not in recs[1]
    sim.advance(1.0)
    assert len(sim.records()) == 2  # nothing written twice


def test_inside_the_rate_bound_the_event_line_carries_the_changes_it_followed():
    sim = Sim()
    sim.change(alpha=0.1)
    sim.advance(0.15)  # state line written
    sim.change(alpha=0.2, intensity=0.7)
    sim.change(alpha=0.3)
    sim.log.write("bypass", bypass=True, source="midi")  # 1 ms later: too soon, not played yet
    sim.advance(0.3)
    recs = sim.records()
    assert [r["event"] for r in recs] == ["state", "bypass", "state"]
    assert recs[1]["pending_state"] == {"alpha": 0.3, "intensity": 0.7}
    assert recs[2]["alpha"] == 0.3 and recs[2]["intensity"] == 0.7 and recs[2]["changes"] == 2


def test_health_lines_do_not_break_coalescing_and_shutdown_writes_what_is_left():
    sim = Sim()
    sim.change(alpha=0.1)
    sim.advance(0.15)
    sim.change(alpha=0.9)
    sim.log.write("health", cpu_pct=3.0)  # periodic: no state written before it, none carried
    sim.log.flush_state_changes(force=True)  # shutdown, audio already stopped
    recs = sim.records()
    assert [r["event"] for r in recs] == ["state", "health", "state"]
    assert "pending_state" not in recs[1] and recs[2]["alpha"] == 0.9


def test_the_start_state_is_a_line_of_its_own():
    sim = Sim()
    sim.seq = 1
    sim.metrics.target_published(1, sim.now, 1)
    sim.log.state_change({"seq": 1, "source": "start", "t_arrival": sim.now, "alpha": 0.0,
                          "term_a": "warm"})
    sim.change(alpha=0.4)
    sim.advance(0.5)
    recs = [r for r in sim.records() if r["event"] == "state"]
    assert [r["source"] for r in recs] == ["start", "midi"]
    assert recs[0]["term_a"] == "warm" and recs[1]["alpha"] == 0.4


def test_changes_the_audio_never_plays_are_still_written(monkeypatch):
    sim = Sim()
    sim.change(alpha=0.6)
    sim.next_block = float("inf")  # the stream stopped
    sim.advance(1.2)
    (rec,) = [r for r in sim.records() if r["event"] == "state"]
    assert rec["alpha"] == 0.6 and "latency_ms" not in rec


def test_reading_the_log_in_order_gives_the_state_at_every_event():
    """Whatever the timing, folding state lines and ``pending_state`` in log order gives, at each
    discrete event, exactly the state the app had when the event happened."""
    import random

    rng = random.Random(12)
    fields = ("alpha", "intensity", "output_gain_db", "term_a")
    for trial in range(20):
        sim = Sim()
        truth, expected = {}, {}
        for i in range(rng.randint(200, 1500)):
            r = rng.random()
            if r < 0.7:
                change = {rng.choice(fields): round(rng.random(), 3)}
                truth.update(change)
                sim.change(**change)
            elif r < 0.85:
                expected[i] = dict(truth)
                sim.log.write("action", action="scene_store", arg=str(i))
            elif r < 0.87:  # the audio thread stalls (an xrun): changes wait to be played
                sim.next_block = max(sim.next_block, sim.now + rng.choice((0.01, 0.05, 0.3)))
            sim.advance(rng.choice((0.0002, 0.001, 0.003, 0.02, 0.15)))
        sim.log.flush_state_changes(force=True)
        folded, recs = {}, sim.records()
        for rec in recs:
            if rec["event"] == "state":
                folded.update({k: rec[k] for k in fields if k in rec})
            else:
                folded.update(rec.get("pending_state", {}))
                assert folded == expected[int(rec["arg"])], (trial, rec)
        assert folded == truth  # and the final state is in the log
        states = [r for r in recs if r["event"] == "state"]
        assert sum(r["changes"] for r in states) == sim.seq


# ---------------------------------------------------------------------------- one line per failure
@pytest.fixture(scope="module")
def model():
    from semeq_live.model import load_model

    return load_model()


def test_a_failed_scene_recall_is_one_line(model, tmp_path, caplog):
    from semeq_live.control.engine import SemanticEngine
    from semeq_live.control.loop import ControlEvent, LiveControl
    from semeq_live.control.state import ControlState
    from semeq_live.dsp import EQProcessor
    from semeq_live.midi import MidiController, SceneBank, load_mapping

    mapping = tmp_path / "m.yaml"
    mapping.write_text("version: 1\ncontrols:\n"
                       "  - {target: scene_recall, type: program, scenes: [nope, verse]}\n"
                       "  - {target: scene_store, type: note, number: 44, scene: verse}\n"
                       "  - {target: bypass, type: cc, number: 80}\n")
    state = ControlState(term_a="warm", term_b="bright")
    scenes = SceneBank(tmp_path / "scenes.yaml", known_terms=model.terms)
    controller = MidiController(load_mapping(mapping, known_terms=model.terms), state,
                                list(model.terms), scenes=scenes)
    events = []
    ctl = LiveControl(state, SemanticEngine(model, SR), EQProcessor(SR, 2), CallbackMetrics(SR, BLOCK),
                      terms=model.terms, controller=controller, scenes=scenes,
                      on_event=lambda kind, fields: events.append((kind, fields)))
    with caplog.at_level(logging.INFO, logger="semeq_live.midi"):
        for msg in (mido.Message("program_change", program=0),            # no such scene
                    mido.Message("note_on", note=44, velocity=100),        # store "verse"
                    mido.Message("program_change", program=1),            # recall it
                    mido.Message("control_change", control=80, value=127)):  # bypass on
            ctl.handle(ControlEvent("midi", msg, "ctl"))
    kinds = [(k, f.get("action")) for k, f in events if k != "state"]
    assert kinds == [("action_failed", "scene_recall"), ("action", "scene_store"),
                     ("action", "scene_recall"), ("bypass", None)]
    failed = next(f for k, f in events if k == "action_failed")
    assert failed["arg"] == "nope" and "no scene 'nope'" in failed["error"]
    assert caplog.records == []  # no second (device/warning) line for the same failure
    assert controller.stats["scene_errors"] == 1  # tried once, not retried by the loop
