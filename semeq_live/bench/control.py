"""The control thread under a MIDI backlog: one EQ computation per batch against one per message.

A starved control thread finds thousands of messages queued (docs/reliability.md, "The control
thread"). This section builds the real thing (bundled model, semantic engine with its boost
ceiling and auto-gain, EQ processor, MIDI controller on the generic mapping) and drains a
backlog of fader messages (morph, gain and intensity sweeping) two ways, alternating:

- ``per_message`` (the baseline): every message applied and the EQ computed after it, as the
  thread did before batches (``LiveControl.handle``, the offline render's path);
- ``batched``: the messages queued, then the control thread started (``LiveControl.start``):
  it applies what is queued in bounded batches and computes once per batch.

Reported: the time to drain the backlog (what the last message waits), per message, the EQ
computations made, and the ratio per_message / batched (medians over the rounds).
"""

from __future__ import annotations

import time

import numpy as np

NAME = "control"
SR = 48000
MORPH_CC, GAIN_CC, INTENSITY_CC = 1, 7, 11  # mappings/generic.yaml


def _messages(n: int) -> list:
    import mido

    out = []
    for i in range(n):
        cc, period = ((MORPH_CC, 400), (GAIN_CC, 700), (INTENSITY_CC, 300))[i % 3]
        k = i % period
        value = round(127 * (2 * k / period if k < period / 2 else 2 - 2 * k / period))
        out.append(mido.Message("control_change", control=cc, value=value))
    return out


def _control(model):
    from ..audio.metrics import CallbackMetrics
    from ..control.engine import SemanticEngine
    from ..control.loop import LiveControl
    from ..control.state import ControlState
    from ..dsp import EQProcessor
    from ..midi import MidiController, default_mapping_path, load_mapping, resolve_palette

    state = ControlState(term_a="warm", term_b="bright")
    mapping = load_mapping(default_mapping_path(), known_terms=model.terms)
    terms = resolve_palette(mapping, model)
    return LiveControl(state, SemanticEngine(model, SR), EQProcessor(SR, 2), CallbackMetrics(SR, 128),
                       terms=terms, controller=MidiController(mapping, state, terms))


def _per_message(model, msgs) -> tuple[float, int]:
    from ..control.loop import ControlEvent

    ctl = _control(model)
    t0 = time.perf_counter()
    ctl.publish(time.monotonic(), source="start")
    for msg in msgs:
        ctl.handle(ControlEvent("midi", msg, "bench"))
    return time.perf_counter() - t0, ctl.publishes - 1


def _batched(model, msgs) -> tuple[float, int]:
    ctl = _control(model)
    for msg in msgs:
        ctl.midi("bench", msg)
    t0 = time.perf_counter()
    ctl.start()  # publishes the start state, then drains the queue
    while ctl.events_handled < len(msgs):
        time.sleep(0.0002)
    ctl.stop()  # the thread ends after publishing its last batch
    return time.perf_counter() - t0, ctl.publishes - 1


def run(quick: bool = False, model=None) -> dict:
    from ..model import load_model

    model = model or load_model()
    n = 600 if quick else 3000
    rounds = 3 if quick else 7
    msgs = _messages(n)
    _per_message(model, msgs[:50])  # numba versions, decoder caches: loaded before timing
    _batched(model, msgs[:50])
    per, bat, per_pub, bat_pub = [], [], [], []
    for r in range(rounds):
        order = (_per_message, _batched) if r % 2 == 0 else (_batched, _per_message)
        for fn in order:
            seconds, publishes = fn(model, msgs)
            (per if fn is _per_message else bat).append(seconds)
            (per_pub if fn is _per_message else bat_pub).append(publishes)
    p, b = float(np.median(per)), float(np.median(bat))
    return {
        "backlog_messages": n, "rounds": rounds,
        "per_message": {"drain_ms": round(1e3 * p, 2), "per_message_us": round(1e6 * p / n, 2),
                        "eq_computations": int(np.median(per_pub))},
        "batched": {"drain_ms": round(1e3 * b, 2), "per_message_us": round(1e6 * b / n, 2),
                    "eq_computations": int(np.median(bat_pub))},
        "ratio_per_message_over_batched": round(p / b, 2) if b > 0 else None,
    }
