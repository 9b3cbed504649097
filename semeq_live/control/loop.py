"""The control thread of the live app: the only writer of the ``ControlState``.

Inputs arrive on one queue from any thread (MIDI callbacks, the keyboard, the analyzer); the thread
applies them in order, asks the semantic engine for new EQ settings only when something that feeds
it changed, hands them to the processor (its seqlock ``set_*`` methods, never blocking the audio
thread), and then publishes a sequence number to the callback metrics so MIDI-to-audio latency can
be measured: message arrival -> first audio block that runs with the new target.

**Batches.** Computing the EQ (decoder, adaptive cascade, boost ceiling, auto-gain) costs 10-30
times what applying one message to the state does, so under a MIDI flood on a starved machine a
thread that computed per message fell behind: the queue grew and changes were heard up to a
second late. The thread therefore takes what is queued (up to ``MAX_BATCH_EVENTS`` events or
``MAX_BATCH_S`` of applying them), applies every event in order with all its own effects (actions,
their log lines, scene stores and recalls, panic's instant silence) and then computes and
publishes once. The published latency is that of the batch's *oldest* event. Some events end the
batch at once (the EQ is published right after them): a bypass switch and a panic (what the
audience hears changes at once), and an estimate (each is observed by the engine, in order: it
smooths over the estimates' audio time). A discrete log line (action, bypass) first publishes the
changes made before it, so the log keeps the order in which things happened. ``handle`` (the
offline render) publishes after every event, as the thread did before batches existed.

Everything that happened is reported to ``on_event(kind, fields)`` (the panel or the headless log)
from this thread, so reporting never touches the audio thread either.
"""

from __future__ import annotations

import operator
import queue
import threading
import time
from dataclasses import dataclass, field, fields

from ..errors import SemeqError
from .state import ControlState

_STATE_FIELDS = tuple(f.name for f in fields(ControlState))
_state_values = operator.attrgetter(*_STATE_FIELDS)  # one C call: compared before and after each event

# Keyboard (and other non-MIDI) commands: ("set", {field: value}), ("add", field, step),
# ("step_term", "a"|"b", +-1), ("toggle", field), ("action", kind[, arg]).
ACTIONS = ("learn_reference", "reference", "panic", "quit")

# How often the LED feedback is offered the current picture while nothing happens: that is when
# a controller plugged in after the start (or replugged) is found and gets its lights. Only
# changed values go out, so an idle tick costs a port listing about once a second.
FEEDBACK_TICK_S = 0.25

# One batch (module doc): at most this many events, or this long applying them, before the EQ is
# computed and published. Applying an event costs ~10-20 us, so a full batch delays its first
# event by a few ms at most, while a flood costs one EQ computation per batch, not per message.
MAX_BATCH_EVENTS = 256
MAX_BATCH_S = 0.005


@dataclass
class _Pending:
    """What was applied since the last publish and still needs one."""

    t_oldest: float  # arrival of the oldest event waiting: what the published latency refers to
    source: str
    port: str | None = None
    changes: dict = field(default_factory=dict)  # the latest value of every field that changed
    n: int = 0  # events that changed the state


@dataclass
class ControlEvent:
    kind: str  # "midi", "command", "estimate", "feedback", "stop"
    payload: object = None
    port: str | None = None
    t: float = field(default_factory=time.monotonic)


class LiveControl:
    def __init__(self, state: ControlState, engine, processor, metrics, *, terms=(),
                 controller=None, scenes=None, analyzer=None, reference_path=None, on_event=None,
                 on_quit=None):
        self.state = state
        self.engine = engine
        self.processor = processor
        self.metrics = metrics
        self.terms = list(terms)
        self.controller = controller
        self.scenes = scenes
        self.analyzer = analyzer
        self.reference_path = reference_path  # where a learned reference is kept across restarts
        self.on_event = on_event or (lambda kind, fields: None)
        self.on_quit = on_quit
        self.feedback = None  # optional LED feedback port (``midi.FeedbackOutput``), set by the app
        self.estimate = None
        self.settings = None  # the newest EQSettings handed to the processor
        self.seq = 0
        self._last_midi: tuple | None = None  # (port, message object, time): formatted when read
        self.decode_times_s: list[float] = []
        self._panicked = False  # a panic in the event being handled (it implies bypass)
        self._pending: _Pending | None = None
        self.events_handled = 0  # events applied to the state
        self.publishes = 0  # EQ computations published (batches: far fewer under a flood)
        self._queue: queue.SimpleQueue[ControlEvent] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    # ------------------------------------------------------------------ any thread
    def midi(self, port, msg, t=None) -> None:
        self._queue.put(ControlEvent("midi", msg, port, time.monotonic() if t is None else t))

    def command(self, cmd: tuple) -> None:
        self._queue.put(ControlEvent("command", cmd))

    def new_estimate(self, estimate) -> None:
        self._queue.put(ControlEvent("estimate", estimate))

    def attach_feedback(self, output) -> None:
        """Hand an LED feedback port (``midi.FeedbackOutput``) to the control thread, which
        sends it the whole picture at once and then owns it (it reads the state it shows)."""
        if self._thread is None:
            self.feedback = output
            self._refresh_feedback()
        else:
            self._queue.put(ControlEvent("feedback", output))

    def start(self) -> "LiveControl":
        """Publish the EQ for the initial state (reported as a state change from "start"), then run."""
        t = time.monotonic()
        seq = self.publish(t, source="start")
        self.on_event("state", {"seq": seq, "source": "start", "t_arrival": t, **self.state.to_dict()})
        self._thread = threading.Thread(target=self._run, name="semeq-control", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        if self._thread is not None:
            self._queue.put(ControlEvent("stop"))
            self._thread.join(timeout)
            self._thread = None

    # ------------------------------------------------------------------ control thread
    def _run(self) -> None:
        next_tick = time.monotonic() + FEEDBACK_TICK_S
        while True:
            try:
                ev = self._queue.get(timeout=max(next_tick - time.monotonic(), 0.0))
            except queue.Empty:
                ev = None
            if ev is not None and not self._drain(ev):
                return
            if time.monotonic() >= next_tick:  # also under a flood of events
                next_tick = time.monotonic() + FEEDBACK_TICK_S
                self._guarded(self._refresh_feedback)

    def _drain(self, ev: ControlEvent) -> bool:
        """Apply ``ev`` and what is queued behind it (one bounded batch), then publish once.
        False when a stop event came (what was applied before it is still published)."""
        deadline = time.monotonic() + MAX_BATCH_S
        try:
            n = 0
            while True:
                if ev.kind == "stop":
                    return False
                if self._guarded(self._apply, ev):
                    self._guarded(self._flush)
                n += 1
                if n >= MAX_BATCH_EVENTS or time.monotonic() >= deadline:
                    break
                try:
                    ev = self._queue.get_nowait()
                except queue.Empty:
                    break
        finally:
            self._guarded(self._flush)
        return True

    def _guarded(self, fn, *args):
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - report and keep controlling
            self.error = exc
            self.on_event("control_error", {"error": f"{type(exc).__name__}: {exc}"})
            return None

    def _refresh_feedback(self) -> None:
        """Offer the LEDs the current picture (only what changed goes out; everything after the
        port was (re)connected)."""
        if self.feedback is not None and self.controller is not None:
            self.feedback.send(self.controller.feedback_messages())

    def handle(self, ev: ControlEvent) -> None:
        """Apply one event synchronously and publish what it changed (the offline render drives
        the loop this way: one publish per event, deterministic)."""
        try:
            self._apply(ev)
        finally:
            self._flush()

    def _apply(self, ev: ControlEvent) -> bool:
        """Apply one event to the state (its actions, LED and log lines happen now); the EQ it
        needs is published by the next ``_flush``. True: publish right after this event."""
        before = self._values()
        self._panicked = False
        estimate_changed = False
        self.events_handled += 1
        if ev.kind == "midi":
            self._last_midi = (ev.port, ev.payload, ev.t)
            actions = self.controller.handle(ev.payload) if self.controller is not None else []
            for action in actions:
                self._action(action.kind, getattr(action, "arg", None), getattr(action, "done", False),
                             getattr(action, "error", None))
        elif ev.kind == "command":
            self._command(ev.payload)
        elif ev.kind == "feedback":
            self.feedback = ev.payload
            self._refresh_feedback()
        elif ev.kind == "estimate":
            self.estimate = ev.payload
            # Adaptive EQ follows the input's character; auto-gain follows its spectrum in any mode.
            estimate_changed = (self.state.adaptive or self.state.autogain) and self.state.intensity > 0
        after = self._values()
        changes = {k: a for k, b, a in zip(_STATE_FIELDS, before, after) if a != b}
        if "bypass" in changes and not self._panicked:
            # A discrete event on stage (what the audience hears changes at once): its own line.
            # Panic reports itself (and implies bypass).
            self._emit("bypass", {"bypass": changes["bypass"], "source": ev.kind,
                                  **({"port": ev.port} if ev.port else {})})
        if changes or estimate_changed:
            p = self._pending
            if p is None:
                p = self._pending = _Pending(ev.t, ev.kind if changes else "analyzer")
            if changes:
                p.changes.update(changes)
                p.n += 1
                p.source, p.port = ev.kind, ev.port or p.port
        return estimate_changed or "bypass" in changes or self._panicked

    def _values(self) -> tuple:
        return _state_values(self.state)

    @property
    def last_midi(self) -> tuple[str | None, str, float] | None:
        """(port, message as text, arrival time) of the newest MIDI message (formatting a message
        costs more than applying it, so it is done when the panel asks, not per message)."""
        last = self._last_midi
        return None if last is None else (last[0], str(last[1]), last[2])

    def _emit(self, kind: str, fields: dict) -> None:
        """A discrete line: the changes applied before it are published (and reported) first."""
        self._flush()
        self.on_event(kind, fields)

    def _flush(self) -> None:
        """Compute and publish the EQ for what was applied since the last publish, report it."""
        p, self._pending = self._pending, None
        if p is None:
            return
        if p.n:
            self._refresh_feedback()  # LEDs follow the state
        seq = self.publish(p.t_oldest, source=p.source)
        if p.n:
            fields = {"seq": seq, "source": p.source, "t_arrival": p.t_oldest, **p.changes}
            if p.n > 1:
                fields["changes"] = p.n  # one line for several events' changes (the log sums them)
            if p.port:
                fields["port"] = p.port
            self.on_event("state", fields)

    def _command(self, cmd: tuple) -> None:
        op = cmd[0]
        if op == "set":
            self.state.update(**cmd[1])
        elif op == "add":  # stepping happens here, so fast key repeats never read a stale value
            self.state.update(**{cmd[1]: getattr(self.state, cmd[1]) + cmd[2]})
        elif op == "toggle":
            self.state.update(**{cmd[1]: not getattr(self.state, cmd[1])})
        elif op == "step_term" and self.terms:  # through the palette, wrapping
            from ..midi.palette import palette_position, step_index

            key = "term_a" if cmd[1] == "a" else "term_b"
            i = palette_position(self.terms, getattr(self.state, key))
            self.state.update(**{key: self.terms[step_index(len(self.terms), i, cmd[2], True)]})
        elif op == "action":
            self._action(cmd[1], cmd[2] if len(cmd) > 2 else None, False)

    def _action(self, kind: str, arg, done: bool, error: str | None = None) -> None:
        """Do (or, if the MIDI controller already did it, only report) one action: one line,
        ``action`` or ``action_failed``, per action."""
        if error is not None:  # the controller tried it and it failed: report, never retry
            self._emit("action_failed", {"action": kind, "arg": arg, "error": error})
            return
        try:
            if kind == "panic":
                self._panicked = True
                self.state.update(bypass=True)
                self.processor.panic()
            elif kind == "learn_reference":
                if self.analyzer is None:
                    raise SemeqError("no analyzer running: nothing to learn a reference from")
                self.analyzer.learn_reference()
                if self.reference_path:
                    self.analyzer.save_reference(self.reference_path)
            elif kind == "reference":  # step through the references (the new one's name is logged)
                if self.analyzer is None:
                    raise SemeqError("no analyzer running: no reference to choose")
                arg = self.analyzer.next_reference(-1 if arg == "previous" else 1).name
            elif kind in ("scene_recall", "scene_store") and not done:
                if self.scenes is None:
                    raise SemeqError(f"{kind.replace('_', ' ')} '{arg}': no scene file (use --scenes)")
                if kind == "scene_recall":
                    self.scenes.recall(arg, self.state, self.controller)
                else:
                    self.scenes.store(arg, self.state)
            elif kind == "quit" and self.on_quit is not None:
                self.on_quit()
        except SemeqError as exc:
            self._emit("action_failed", {"action": kind, "arg": arg, "error": str(exc)})
            return
        self._emit("action", {"action": kind, "arg": arg})

    def publish(self, t_arrival: float, source: str) -> int:
        """Compute settings for the current state and estimate, hand them to the processor."""
        t0 = time.perf_counter()
        state = self.state.snapshot()
        # The engine ignores z_a when adaptation is off, but auto-gain still needs the spectrum.
        s = self.engine.compute(state, self.estimate)
        self.decode_times_s.append(time.perf_counter() - t0)
        del self.decode_times_s[:-200]
        s.apply_to(self.processor)
        self.settings = s
        self.seq += 1
        self.publishes += 1
        self.metrics.target_published(self.seq, t_arrival, self.processor.publish_seq)
        return self.seq
