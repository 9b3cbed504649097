"""Apply MIDI messages to the ControlState through a validated mapping.

``MidiController.handle(msg)`` is called by the control thread for every incoming message. It
writes the ControlState (absolute faders with pickup, relative encoders, 14-bit pairs, buttons,
program changes) and returns the side actions the control loop must perform (learn reference,
panic, scene store/recall). It never raises: anything unexpected is counted in ``stats``.

Pickup (soft takeover): an absolute control whose target was changed by anything else (a scene
recall, another control, the keyboard) ignores its own messages until the physical control
reaches or crosses the current value, so nothing jumps when a fader is touched.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import mido

from ..control.state import ControlState
from ..errors import SemeqError
from .mapping import Control, Mapping
from .palette import palette_position, step_index
from .targets import CONTINUOUS, SCENE, SWITCH, TARGETS, TERM, TRIGGER
from .values import apply_curve, decode_relative, invert_curve

log = logging.getLogger("semeq_live.midi")

_EPS = 1e-9


@dataclass(frozen=True)
class Action:
    """Something the control loop must do: learn_reference, panic, scene_recall, scene_store.

    ``arg`` is the scene name for scene actions. ``done`` is True when the controller already
    performed it (scene actions when it was given a ``SceneBank``); the loop then only reports it.
    ``error`` says why the controller's attempt failed (the loop reports it once, never retries).
    """

    kind: str
    arg: str | None = None
    done: bool = False
    error: str | None = None


@dataclass(frozen=True)
class PendingPickup:
    """An absolute control waiting to catch its target: move it ``direction`` to take over."""

    control: str
    target: str
    direction: str  # "up" or "down"


@dataclass
class _Runtime:
    """What the controller remembers about one physical control."""

    msb: int | None = None         # 14-bit pair: last MSB seen
    lsb: int = 0
    last_value: float | None = None  # target value the control's position last pointed at
    written: float | None = None   # target value this control last wrote
    armed: bool = False            # forced pickup (scene recall)
    ticks: int = 0                 # relative term select: ticks not yet turned into a step
    pressed: bool = False


@dataclass
class _Binding:
    control: Control
    runtime: _Runtime
    role: str = "main"  # "main" or "lsb" (second half of a 14-bit CC pair)


def message_key(msg) -> tuple[str, int, int | None] | None:
    """(type, channel, number) of a message a mapping can bind, else None."""
    t = msg.type
    if t == "control_change":
        return ("cc", msg.channel, msg.control)
    if t in ("note_on", "note_off"):
        return ("note", msg.channel, msg.note)
    if t == "program_change":
        return ("program", msg.channel, None)
    if t == "pitchwheel":
        return ("pitchbend", msg.channel, None)
    return None


class MidiController:
    def __init__(self, mapping: Mapping, state: ControlState, terms=None, scenes=None):
        """``terms``: the palette to use when the mapping names none (the app passes
        ``midi.palette.resolve_palette(mapping, model)``, which is the mapping's own when it has one).

        ``scenes``: an optional ``SceneBank``; when given, scene actions are performed here.
        """
        self.mapping = mapping
        self.state = state
        self.palette: list[str] = list(mapping.palette if mapping.palette is not None
                                       else (terms or []))
        self.scenes = scenes
        self.stats: Counter = Counter()
        self._forget = False
        self.last_control: Control | None = None  # the control the newest message hit (for the UI)
        self._bindings: dict[tuple, list[_Binding]] = {}
        self._runtimes: list[tuple[Control, _Runtime]] = []
        for c in mapping.controls:
            rt = _Runtime()
            self._runtimes.append((c, rt))
            keys = [("main", c.number)] + ([("lsb", c.lsb)] if c.lsb is not None else [])
            for role, number in keys:
                self._bindings.setdefault((c.type, c.channel, number), []).append(
                    _Binding(c, rt, role))

    @property
    def terms(self) -> list[str]:
        """The palette (its older name)."""
        return self.palette

    def palette_index(self, term: str) -> int | None:
        """Position of ``term`` in the palette (None: not in it, e.g. typed in or from a scene)."""
        return palette_position(self.palette, term)

    # ---------------------------------------------------------------- message handling
    def controls_for(self, msg) -> list[Control]:
        """The mapping's controls that a message would drive (for monitors and the panel)."""
        try:
            key = message_key(msg)
        except Exception:
            return []
        if key is None:
            return []
        found = self._bindings.get(key, []) + self._bindings.get((key[0], None, key[2]), [])
        return [b.control for b in found]

    def handle(self, msg) -> list[Action]:
        """Apply one mido message. Never raises; returns the actions for the control loop."""
        self.stats["received"] += 1
        if self._forget:
            self._drop_positions()
        try:
            key = message_key(msg)
        except Exception:
            self.stats["malformed"] += 1
            return []
        if key is None:
            self.stats["ignored"] += 1  # clock, sysex, aftertouch...: not mappable
            return []
        mtype, channel, number = key
        bindings = self._bindings.get((mtype, channel, number), []) + \
            self._bindings.get((mtype, None, number), [])
        if not bindings:
            self.stats["unmapped"] += 1
            return []
        self.last_control = bindings[0].control
        actions: list[Action] = []
        for b in bindings:
            try:
                actions.extend(self._apply(b, msg))
            except Exception:  # a bug must not take the show down: count it, keep going
                self.stats["errors"] += 1
                log.exception("MIDI control %r failed on %s", b.control.name, msg)
        self.stats["applied"] += 1
        return actions

    def _apply(self, b: _Binding, msg) -> list[Action]:
        c = b.control
        if c.mode == "button":
            if c.type == "note":
                pressed = msg.type == "note_on" and msg.velocity > 0
            else:
                pressed = msg.value >= 64
            return self._button(c, b.runtime, pressed)
        if c.mode == "select":
            return self._select(c, msg.program)
        if c.mode == "relative":
            self._relative(c, b.runtime, decode_relative(c.encoding, msg.value))
            return []
        # absolute: normalised physical position 0..1
        rt = b.runtime
        if c.type == "pitchbend":
            x = (msg.pitch + 8192) / 16383.0
        elif c.lsb is None:
            x = msg.value / 127.0
        elif b.role == "main":
            # MIDI 1.0: a new MSB resets the LSB; the LSB that follows refines the value.
            rt.msb, rt.lsb = msg.value, 0
            x = (rt.msb << 7) / 16383.0
        else:
            if rt.msb is None:
                self.stats["lsb_without_msb"] += 1
                return []
            rt.lsb = msg.value
            x = ((rt.msb << 7) | rt.lsb) / 16383.0
        self._absolute(c, rt, x)
        return []

    # ---------------------------------------------------------------- continuous & term values
    def _position_to_value(self, c: Control, x: float) -> float:
        if c.invert:
            x = 1.0 - x
        y = apply_curve(c.curve, x)
        if c.kind == TERM:
            n = len(self.palette)
            return float(min(int(y * n), n - 1))
        lo, hi = c.range
        return lo + y * (hi - lo)

    def _current(self, c: Control) -> float | None:
        """The target's current value in the control's units (term index for term targets)."""
        value = getattr(self.state, TARGETS[c.target].field)
        if c.kind == TERM:
            return float(self.palette.index(value)) if value in self.palette else None
        return float(value)

    def _write(self, c: Control, value: float) -> None:
        field_name = TARGETS[c.target].field
        if c.kind == TERM:
            self.state.update(**{field_name: self.palette[int(value)]})
        else:
            self.state.update(**{field_name: value})

    def _span(self, c: Control) -> float:
        if c.kind == TERM:
            return max(len(self.palette) - 1, 1)
        return c.range[1] - c.range[0]

    def _absolute(self, c: Control, rt: _Runtime, x: float) -> None:
        if c.kind == TERM and not self.palette:
            self.stats["no_terms"] += 1
            return
        value = self._position_to_value(c, x)
        current = self._current(c)
        previous, rt.last_value = rt.last_value, value
        if c.pickup and current is not None and self._needs_pickup(rt, current):
            span = self._span(c)
            tol = 0.0 if c.kind == TERM else self.mapping.pickup_tolerance
            now = (value - current) / span
            before = None if previous is None else (previous - current) / span
            caught = abs(now) <= tol + _EPS or (before is not None and before * now <= 0.0)
            if not caught:
                self.stats["pickup_waiting"] += 1
                return
            rt.armed = False
        self._write(c, value)
        rt.written = self._current(c)

    @staticmethod
    def _needs_pickup(rt: _Runtime, current: float) -> bool:
        if rt.armed:
            return True
        return rt.written is not None and abs(current - rt.written) > 1e-6

    def _relative(self, c: Control, rt: _Runtime, ticks: int) -> None:
        if ticks == 0:
            return
        if c.kind == TERM:
            if not self.palette:
                self.stats["no_terms"] += 1
                return
            rt.ticks += ticks
            steps = int(rt.ticks / c.ticks_per_term)  # toward zero: keep the remainder
            rt.ticks -= steps * c.ticks_per_term
            if steps:
                self._step_term(c, steps, c.wrap)
            return
        lo, hi = c.range
        current = min(max(self._current(c), lo), hi)
        x = invert_curve(c.curve, (current - lo) / (hi - lo))
        if c.invert:
            x = 1.0 - x
        x = min(max(x + ticks * c.step, 0.0), 1.0)
        self._write(c, self._position_to_value(c, x))

    def _step_term(self, c: Control, steps: int, wrap: bool) -> None:
        current = self._current(c)  # None: the state holds a word outside the palette
        index = step_index(len(self.palette), None if current is None else int(current), steps,
                           wrap)
        self._write(c, float(index))

    # ---------------------------------------------------------------- buttons & program change
    def _button(self, c: Control, rt: _Runtime, pressed: bool) -> list[Action]:
        rt.pressed = pressed
        kind = c.kind
        if kind == SWITCH:
            field_name = TARGETS[c.target].field
            if c.button == "momentary":
                self.state.update(**{field_name: pressed})
            elif pressed:
                self.state.update(**{field_name: not getattr(self.state, field_name)})
            return []
        if not pressed:
            return []  # everything else acts on the press only
        if kind == CONTINUOUS:
            self._write(c, c.value)
        elif kind == TERM:
            if c.term is not None:
                self.state.update(**{TARGETS[c.target].field: c.term})
            elif self.palette:
                self._step_term(c, 1 if c.direction == "next" else -1, c.wrap)
            else:
                self.stats["no_terms"] += 1
        elif kind == TRIGGER:
            if c.target == "panic":
                self.state.update(bypass=True)
            return [Action(c.target)]
        elif kind == SCENE:
            return [self._scene(c.target, c.scene)]
        return []

    def _select(self, c: Control, program: int) -> list[Action]:
        if c.kind == SCENE:
            if program >= len(c.scenes):
                self.stats["out_of_range"] += 1
                return []
            return [self._scene(c.target, c.scenes[program])]
        if program >= len(self.palette):
            self.stats["out_of_range"] += 1
            return []
        self._write(c, float(program))
        return []

    def _scene(self, kind: str, name: str) -> Action:
        if self.scenes is None:
            return Action(kind, name)
        try:
            if kind == "scene_recall":
                self.scenes.recall(name, self.state, self)
            else:
                self.scenes.store(name, self.state)
        except SemeqError as exc:
            # Reported by the control loop (one ``action_failed`` line); a warning here as well
            # was a second line for the same failure.
            self.stats["scene_errors"] += 1
            return Action(kind, name, done=False, error=str(exc))
        return Action(kind, name, done=True)

    # ---------------------------------------------------------------- pickup & feedback
    def forget_positions(self) -> None:
        """Physical positions are unknown again (a controller was replugged).

        Safe to call from another thread: it only raises a flag that ``handle`` acts on, so
        a fader whose remembered position went stale cannot "cross" its target by accident.
        """
        self._forget = True

    def _drop_positions(self) -> None:
        self._forget = False
        for _c, rt in self._runtimes:
            rt.last_value = None
            rt.msb = None

    def arm_pickup(self, targets=None) -> None:
        """Make absolute controls (of ``targets``, default all) wait until they catch the state.

        Called after a scene recall so no fader jumps when first touched.
        """
        for c, rt in self._runtimes:
            if c.mode == "absolute" and c.pickup and (targets is None or c.target in targets):
                rt.armed = True

    def pending_pickups(self) -> list[PendingPickup]:
        """Absolute controls whose position is known to differ from their target (for the UI)."""
        out = []
        for c, rt in self._runtimes:
            if c.mode != "absolute" or not c.pickup or rt.last_value is None:
                continue
            current = self._current(c)
            if current is None or not self._needs_pickup(rt, current):
                continue
            if abs(rt.last_value - current) > 1e-9:
                out.append(PendingPickup(c.name, c.target,
                                         "up" if rt.last_value < current else "down"))
        return out

    def feedback_messages(self) -> list[mido.Message]:
        """LED / motor-fader messages showing the current state, for controls with feedback."""
        out = []
        for c, _rt in self._runtimes:
            if not c.feedback:
                continue
            channel = 0 if c.channel is None else c.channel
            try:
                if c.mode == "absolute":
                    out.extend(self._position_feedback(c, channel))
                else:
                    lit = self._lit(c)
                    if lit is None:
                        continue
                    value = c.led_on if lit else c.led_off
                    if c.type == "note":
                        out.append(mido.Message("note_on", channel=channel, note=c.number,
                                                velocity=value))
                    elif c.type == "cc":
                        out.append(mido.Message("control_change", channel=channel,
                                                control=c.number, value=value))
            except Exception:
                self.stats["errors"] += 1
                log.exception("feedback for %r failed", c.name)
        return out

    def _lit(self, c: Control) -> bool | None:
        kind = c.kind
        if kind == SWITCH:
            return bool(getattr(self.state, TARGETS[c.target].field))
        if kind == CONTINUOUS:
            return abs(float(getattr(self.state, TARGETS[c.target].field)) - c.value) < 1e-6
        if kind == TERM and c.term is not None:
            return getattr(self.state, TARGETS[c.target].field) == c.term
        if c.target == "scene_recall":
            return self.state.scene == c.scene
        return None  # triggers, stepping buttons and scene store have no state to show

    def _position_feedback(self, c: Control, channel: int) -> list[mido.Message]:
        current = self._current(c)
        if current is None:
            return []
        if c.kind == TERM:
            n = max(len(self.palette), 1)
            y = (current + 0.5) / n
        else:
            lo, hi = c.range
            y = (min(max(current, lo), hi) - lo) / (hi - lo)
        x = invert_curve(c.curve, y)
        if c.invert:
            x = 1.0 - x
        if c.type == "pitchbend":
            return [mido.Message("pitchwheel", channel=channel,
                                 pitch=int(round(x * 16383)) - 8192)]
        if c.lsb is None:
            return [mido.Message("control_change", channel=channel, control=c.number,
                                 value=int(round(x * 127)))]
        v14 = int(round(x * 16383))
        return [mido.Message("control_change", channel=channel, control=c.number, value=v14 >> 7),
                mido.Message("control_change", channel=channel, control=c.lsb, value=v14 & 0x7F)]
