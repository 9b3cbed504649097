"""The control thread under a backlog: a flood is applied event by event, in order, with every
event's own effects, but the EQ is computed once per batch, not once per message.

The real loop (its own thread), the real semantic engine and bundled model, the real EQ processor,
MIDI controller, mapping and scene file. A backlog is what a starved control thread faces under a
MIDI flood: thousands of messages queued before it runs. The same messages are also driven through
the synchronous ``handle`` path (the offline render's, one publish per message), which gives the
state, EQ and log the batched thread must end with. Latency under a live flood through real JACK
ports is measured by ``scripts/midi_measure.py --flood`` (docs/reliability.md), not timed here.
"""

from __future__ import annotations

import time

import mido
import numpy as np
import pytest

from semeq_live.audio.metrics import CallbackMetrics
from semeq_live.control.engine import SemanticEngine
from semeq_live.control.loop import MAX_BATCH_EVENTS, ControlEvent, LiveControl
from semeq_live.control.state import ControlState
from semeq_live.dsp import EQProcessor
from semeq_live.midi import MidiController, SceneBank, default_mapping_path, load_mapping, resolve_palette

SR = 48000
N = 3000
MORPH_CC, GAIN_CC, INTENSITY_CC, BYPASS_CC, PANIC_CC = 1, 7, 11, 80, 82  # mappings/generic.yaml
STORE_1_NOTE, RECALL_2_NOTE = 44, 43  # scene "2" is never stored: a failed recall


@pytest.fixture(scope="module")
def model():
    from semeq_live.model import load_model

    return load_model()


def flood_messages() -> list[mido.Message]:
    """Faders moving, bypass presses, scene stores, failed recalls and one panic (mid-flood)."""
    msgs = []
    for i in range(N):
        if i % 500 == 100:
            msgs.append(mido.Message("note_on", note=STORE_1_NOTE, velocity=100))
        elif i % 500 == 350:
            msgs.append(mido.Message("note_on", note=RECALL_2_NOTE, velocity=100))
        elif i % 250 == 200:
            msgs.append(mido.Message("control_change", control=BYPASS_CC, value=127))
        elif i == 1777:
            msgs.append(mido.Message("control_change", control=PANIC_CC, value=127))
        else:
            cc = (MORPH_CC, GAIN_CC, INTENSITY_CC)[i % 3]
            msgs.append(mido.Message("control_change", control=cc, value=(i * 37) % 128))
    return msgs


class Recorder:
    """The loop's ``on_event``: every line, and at each scene store the values it stored."""

    def __init__(self):
        self.events: list[tuple[str, dict]] = []
        self.state_at_store: list[dict] = []
        self.state = None

    def __call__(self, kind, fields):
        self.events.append((kind, dict(fields)))
        if kind == "action" and fields.get("action") == "scene_store":
            self.state_at_store.append(self.state.scene_values())


def build(model, tmp_path, name):
    state = ControlState(term_a="warm", term_b="bright")
    mapping = load_mapping(default_mapping_path(), known_terms=model.terms)
    terms = resolve_palette(mapping, model)
    scenes = SceneBank(tmp_path / f"{name}-scenes.yaml", known_terms=model.terms)
    controller = MidiController(mapping, state, terms, scenes=scenes)
    rec = Recorder()
    rec.state = state
    ctl = LiveControl(state, SemanticEngine(model, SR), EQProcessor(SR, 2), CallbackMetrics(SR, 128),
                      terms=terms, controller=controller, scenes=scenes, on_event=rec)
    return ctl, rec


def fold_until_each_store(events):
    """Read the lines in order, as a log reader would: the state at every scene-store line."""
    folded, at_store = {}, []
    for kind, fields in events:
        if kind == "state":
            folded.update({k: v for k, v in fields.items()
                           if k not in ("seq", "source", "t_arrival", "port", "changes")})
        elif kind == "action" and fields.get("action") == "scene_store":
            at_store.append(dict(folded))
    return at_store


def test_a_backlog_is_applied_in_order_and_computed_once_per_batch(model, tmp_path):
    msgs = flood_messages()
    t0 = time.monotonic()
    arrival = [t0 + 1e-4 * i for i in range(N)]  # as the MIDI reader stamps them, 0.1 ms apart

    sync, sync_rec = build(model, tmp_path, "sync")
    sync.publish(t0, source="start")
    sync_rec.events.append(("state", {"source": "start", **sync.state.to_dict()}))
    for msg, t in zip(msgs, arrival):
        sync.handle(ControlEvent("midi", msg, "ctl", t))

    live, rec = build(model, tmp_path, "live")
    for msg, t in zip(msgs, arrival):  # queued before the thread runs: a starved thread's backlog
        live.midi("ctl", msg, t)
    live.start()
    deadline = time.monotonic() + 120
    while live.events_handled < N and time.monotonic() < deadline:
        time.sleep(0.01)
    live.stop()
    assert live.error is None, live.error
    assert live.events_handled == N

    # Every message was applied in order: the same final state and the same EQ as one by one.
    assert live.state.to_dict() == sync.state.to_dict()
    for a, b in ((live.settings.forward, sync.settings.forward),
                 (live.settings.inverse, sync.settings.inverse)):
        assert (a is None and b is None) or np.array_equal(a, b)
    assert live.settings.autogain_db == sync.settings.autogain_db
    assert live.settings.bypass == sync.settings.bypass

    # ... but computed once per batch: the one-by-one path computed for nearly every message.
    changed = sum(f.get("changes", 1) for k, f in sync_rec.events if k == "state" and f["source"] != "start")
    assert sync.publishes == changed + 1 > 0.9 * N
    urgent = sum(1 for k, f in sync_rec.events if k in ("bypass", "action", "action_failed"))
    assert live.publishes <= N / 20 + 2 * urgent, (live.publishes, urgent)

    # Each event kept its own effects: one line per bypass press, store, failed recall, panic.
    def discrete(events):
        return [(k, f.get("action"), f.get("bypass"), f.get("arg")) for k, f in events
                if k in ("bypass", "action", "action_failed")]

    assert discrete(rec.events) == discrete(sync_rec.events)
    assert sum(1 for k, f in rec.events if k == "action" and f["action"] == "panic") == 1
    # The state lines sum up every change, and the log read in order gives, at each scene
    # store, exactly the values that were stored.
    states = [f for k, f in rec.events if k == "state" and f["source"] != "start"]
    assert sum(f.get("changes", 1) for f in states) == changed
    assert len(states) < len(msgs) / 10
    at_store = fold_until_each_store(rec.events)
    assert len(at_store) == len(rec.state_at_store) == N // 500
    for folded, true in zip(at_store, rec.state_at_store):
        assert {k: folded.get(k, v) for k, v in true.items()} == true
    # The latency a batch reports is that of its oldest change: the first line's arrival is that
    # of the first message that changed anything (not that of the newest message of its batch).
    first_change = next(f for k, f in sync_rec.events if k == "state" and f["source"] != "start")
    assert states[0]["t_arrival"] == first_change["t_arrival"] < arrival[10]
    assert all(a["seq"] < b["seq"] for a, b in zip(states, states[1:]))


def test_a_panic_in_a_backlog_silences_before_the_rest_is_computed(model, tmp_path):
    """Panic acts when its turn comes, and the EQ for what is behind it waits for it: the
    processor is in panic (bypassed) with the events ahead of it applied and none after it."""
    live, rec = build(model, tmp_path, "panic")
    seen = {}
    panic = live.processor.panic

    def panic_and_note():
        panic()
        seen.update(handled=live.events_handled, publishes=live.publishes)

    live.processor.panic = panic_and_note
    ahead = 2 * MAX_BATCH_EVENTS + 10
    for i in range(ahead):
        live.midi("ctl", mido.Message("control_change", control=MORPH_CC, value=i % 128))
    live.midi("ctl", mido.Message("control_change", control=PANIC_CC, value=127))
    for i in range(ahead):
        live.midi("ctl", mido.Message("control_change", control=GAIN_CC, value=i % 128))
    live.start()
    deadline = time.monotonic() + 60
    while live.events_handled < 2 * ahead + 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    live.stop()
    assert live.error is None
    assert seen["handled"] == ahead + 1  # in order: everything ahead of it, then the panic
    # Only a few computations stood before it (one per batch), not one per message ahead.
    assert seen["publishes"] <= 1 + ahead / 20, seen
    assert live.state.bypass and live.settings.bypass
    assert [f["action"] for k, f in rec.events if k == "action"] == ["panic"]
