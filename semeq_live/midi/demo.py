"""Generate a demo performance (a ``.mid`` file) for a mapping, programmatically.

The demo moves whatever control the mapping assigns to morph and intensity (fader, knob, 14-bit
pair, pitch bend or relative encoder; ``generic.yaml`` by default):

1. term A / term B are set with the mapping's direct term buttons if it has them (warm, bright);
2. the morph sweeps slowly from A to B and back;
3. the intensity dips to flat and rises to full while the morph holds;
4. a bypass press and release near the end compares with the dry signal, if the mapping has one.

Run ``python -m semeq_live.midi.demo OUT.mid [--mapping FILE] [--seconds 20]``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import mido

from ..errors import MappingError
from .mapping import Control, Mapping, default_mapping_path, load_mapping, resolve_mapping_path
from .performance import write_performance
from .values import encode_relative, invert_curve

STEP_S = 0.05  # one CC every 50 ms: smooth, like a hand on a fader


class _Mover:
    """Messages that move one mapped control to a target value (absolute, 14-bit, pitch bend
    or relative encoder), so the demo works with any mapping that can set the target."""

    def __init__(self, c: Control):
        self.c = c
        self.channel = 0 if c.channel is None else c.channel
        self.position = None  # relative encoders: ticks from the range's low end (None: unknown)

    def _x(self, value: float) -> float:
        lo, hi = self.c.range
        x = invert_curve(self.c.curve, (value - lo) / (hi - lo))
        return 1.0 - x if self.c.invert else x

    def to(self, t: float, value: float) -> list:
        c, x = self.c, self._x(value)
        if c.type == "pitchbend":
            return [(t, mido.Message("pitchwheel", channel=self.channel,
                                     pitch=int(round(x * 16383)) - 8192))]
        if c.mode == "relative":
            goal = int(round(x / c.step))
            out = []
            if self.position is None:  # unknown start: first wind fully down, which clamps at 0
                self.position = int(round(1.0 / c.step)) + 1
                out += self._ticks_to(t, 0)
            return out + self._ticks_to(t, goal)
        if c.lsb is not None:
            v14 = int(round(x * 16383))
            return [(t, mido.Message("control_change", channel=self.channel, control=c.number,
                                     value=v14 >> 7)),
                    (t, mido.Message("control_change", channel=self.channel, control=c.lsb,
                                     value=v14 & 0x7F))]
        return [(t, mido.Message("control_change", channel=self.channel, control=c.number,
                                 value=int(round(x * 127))))]

    def _ticks_to(self, t: float, goal: int) -> list:
        out = []
        while goal != self.position:  # an encoder sends at most 63 ticks per message
            ticks = max(-63, min(63, goal - self.position))
            self.position += ticks
            out.append((t, mido.Message("control_change", channel=self.channel,
                                        control=self.c.number,
                                        value=encode_relative(self.c.encoding, ticks))))
        return out


def _mover(mapping: Mapping, target: str) -> _Mover:
    for c in mapping.controls:
        if c.target == target and c.mode in ("absolute", "relative"):
            return _Mover(c)
    raise MappingError(f"{mapping.path}: the demo needs a fader, knob or encoder for {target}")


def _press(c: Control, t: float, release_after: float = 0.1):
    ch = 0 if c.channel is None else c.channel
    if c.type == "note":
        return [(t, mido.Message("note_on", channel=ch, note=c.number, velocity=100)),
                (t + release_after, mido.Message("note_off", channel=ch, note=c.number))]
    return [(t, mido.Message("control_change", channel=ch, control=c.number, value=127)),
            (t + release_after, mido.Message("control_change", channel=ch, control=c.number,
                                             value=0))]


def demo_events(mapping: Mapping, seconds: float = 20.0) -> list[tuple[float, mido.Message]]:
    """The demo's ``[(time_seconds, message)]`` for ``mapping``."""
    alpha = _mover(mapping, "alpha")
    intensity = _mover(mapping, "intensity")
    events: list[tuple[float, mido.Message]] = []

    def cc(mover: _Mover, t: float, value: float):
        events.extend(mover.to(t, value))

    for c in mapping.controls:  # direct term picks, if the mapping has them
        if c.mode == "button" and c.term in ("warm", "bright"):
            events.extend(_press(c, 0.0))
    cc(alpha, 0.0, 0.0)
    cc(intensity, 0.0, 1.0)
    sweep_end = 0.5 * seconds
    n = int(sweep_end / STEP_S)
    for i in range(1, n + 1):  # A -> B -> A, raised cosine so it starts and ends gently
        t = i * STEP_S
        cc(alpha, t, 0.5 - 0.5 * math.cos(2 * math.pi * t / sweep_end))
    cc(alpha, sweep_end + STEP_S, 1.0)  # hold B for the intensity moves
    dip_start, dip_len = sweep_end + 2 * STEP_S, 0.3 * seconds
    n = int(dip_len / STEP_S)
    for i in range(1, n + 1):  # 1 -> 0 (flat) -> 1
        t = dip_start + i * STEP_S
        cc(intensity, t, 0.5 + 0.5 * math.cos(2 * math.pi * i / n))
    bypass = next((c for c in mapping.controls
                   if c.target == "bypass" and c.mode == "button"), None)
    if bypass is not None:
        t_on = 0.85 * seconds
        events.extend(_press(bypass, t_on))
        if bypass.button == "toggle":  # press again to leave bypass
            events.extend(_press(bypass, 0.95 * seconds))
    return sorted(events, key=lambda e: e[0])


def write_demo_performance(path, mapping_path=None, seconds: float = 20.0,
                           known_terms=None) -> Path:
    """Write the demo for a mapping file or shipped mapping name (default: generic.yaml)."""
    source = resolve_mapping_path(mapping_path) if mapping_path else default_mapping_path()
    mapping = load_mapping(source, known_terms=known_terms)
    return write_performance(path, demo_events(mapping, seconds))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("output", help="the .mid file to write")
    p.add_argument("--mapping", help="mapping file (default: the shipped generic.yaml)")
    p.add_argument("--seconds", type=float, default=20.0)
    args = p.parse_args(argv)
    path = write_demo_performance(args.output, args.mapping, args.seconds)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
