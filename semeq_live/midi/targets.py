"""What a MIDI control can drive: the mapping targets and the ControlState fields behind them."""

from __future__ import annotations

from dataclasses import dataclass

from ..control.state import ALPHA_RANGE, INTENSITY_RANGE, OUTPUT_GAIN_RANGE_DB, TRAVERSE_RANGE

# Target kinds decide which control modes make sense.
CONTINUOUS = "continuous"  # a number in a range: faders, knobs, encoders, pitch bend, preset buttons
TERM = "term"              # pick a term from the term list: knob sweep, encoder steps, buttons, program
SWITCH = "switch"          # on/off state: toggle or momentary buttons
TRIGGER = "trigger"        # one-shot action returned to the control loop
SCENE = "scene"            # store / recall a named snapshot


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    field: str | None  # ControlState attribute written by this target (None for actions)
    bounds: tuple[float, float] | None = None
    help: str = ""


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("term_a", TERM, "term_a", help="term A (morph start)"),
    Target("term_b", TERM, "term_b", help="term B (morph end)"),
    Target("alpha", CONTINUOUS, "alpha", ALPHA_RANGE, "morph from term A (0) to term B (1)"),
    Target("intensity", CONTINUOUS, "intensity", INTENSITY_RANGE,
           "adaptive intensity: 0 = flat, 1 = all the way to the target, 1.5 = exaggerated"),
    Target("traverse_x", CONTINUOUS, "traverse_x", TRAVERSE_RANGE, "move along latent axis 1"),
    Target("traverse_y", CONTINUOUS, "traverse_y", TRAVERSE_RANGE, "move along latent axis 2"),
    Target("output_gain", CONTINUOUS, "output_gain_db", OUTPUT_GAIN_RANGE_DB, "output gain (dB)"),
    Target("bypass", SWITCH, "bypass", help="bypass the EQ (crossfaded)"),
    Target("adaptive", SWITCH, "adaptive", help="adapt to the input's character"),
    Target("autogain", SWITCH, "autogain", help="automatic loudness compensation"),
    Target("learn_reference", TRIGGER, None, help="capture the input as the reference spectrum"),
    Target("reference", TRIGGER, None,
           help="next reference spectrum (what 'neutral' is): auto, music, voice, pink, then the learned one"),
    Target("panic", TRIGGER, None, help="instant bypass and filter reset"),
    Target("scene_recall", SCENE, None, help="recall a named scene"),
    Target("scene_store", SCENE, None, help="store the current state as a named scene"),
)}
