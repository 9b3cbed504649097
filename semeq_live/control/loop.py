"""The control thread of the live app: the only writer of the ``ControlState``.

Inputs arrive on one queue from any thread (MIDI callbacks, the keyboard, the analyzer); the thread
applies them in order, asks the semantic engine for new EQ settings only when something that feeds
it changed, hands them to the processor (its seqlock ``set_*`` methods, never blocking the audio
thread), and then publishes a sequence number to the callback metrics so MIDI-to-audio latency can
be measured: message arrival -> first audio block that runs with the new target.

Everything that happened is reported to ``on_event(kind, fields)`` (the panel or the headless log)
from this thread, so reporting never touches the audio thread either.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

from ..errors import SemeqError
from .state import ControlState

# Keyboard (and other non-MIDI) commands: ("set", {field: value}), ("add", field, step),
# ("step_term", "a"|"b", +-1), ("toggle", field), ("action", kind[, arg]).
ACTIONS = ("learn_reference", "reference", "panic", "quit")

# How often the LED feedback is offered the current picture while nothing happens: that is when
# a controller plugged in after the start (or replugged) is found and gets its lights. Only
# changed values go out, so an idle tick costs a port listing about once a second.
FEEDBACK_TICK_S = 0.25


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
        self.last_midi: tuple[str | None, str, float] | None = None  # (port, message, time)
        self.decode_times_s: list[float] = []
        self._panicked = False  # a panic in the event being handled (it implies bypass)
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
            if ev is not None and ev.kind == "stop":
                return
            try:
                if ev is not None:
                    self._handle(ev)
                if time.monotonic() >= next_tick:  # also under a flood of events
                    next_tick = time.monotonic() + FEEDBACK_TICK_S
                    self._refresh_feedback()
            except Exception as exc:  # noqa: BLE001 - report and keep controlling
                self.error = exc
                self.on_event("control_error", {"error": f"{type(exc).__name__}: {exc}"})

    def _refresh_feedback(self) -> None:
        """Offer the LEDs the current picture (only what changed goes out; everything after the
        port was (re)connected)."""
        if self.feedback is not None and self.controller is not None:
            self.feedback.send(self.controller.feedback_messages())

    def handle(self, ev: ControlEvent) -> None:
        """Apply one event synchronously (the offline render drives the loop this way)."""
        self._handle(ev)

    def _handle(self, ev: ControlEvent) -> None:
        before = self.state.to_dict()
        self._panicked = False
        estimate_changed = False
        if ev.kind == "midi":
            self.last_midi = (ev.port, str(ev.payload), ev.t)
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
        after = self.state.to_dict()
        changes = {k: v for k, v in after.items() if before[k] != v}
        if "bypass" in changes and not self._panicked:
            # A discrete event on stage (what the audience hears changes at once): its own line.
            # Panic reports itself (and implies bypass).
            self.on_event("bypass", {"bypass": changes["bypass"], "source": ev.kind,
                                     **({"port": ev.port} if ev.port else {})})
        if changes:
            self._refresh_feedback()  # LEDs follow the state
        if changes or estimate_changed:
            source = ev.kind if changes else "analyzer"
            seq = self.publish(ev.t, source=source)
            if changes:
                fields = {"seq": seq, "source": ev.kind, "t_arrival": ev.t, **changes}
                if ev.port:
                    fields["port"] = ev.port
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
            self.on_event("action_failed", {"action": kind, "arg": arg, "error": error})
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
            self.on_event("action_failed", {"action": kind, "arg": arg, "error": str(exc)})
            return
        self.on_event("action", {"action": kind, "arg": arg})

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
        self.metrics.target_published(self.seq, t_arrival, self.processor.publish_seq)
        return self.seq
