"""MidiController: absolute, relative, 14-bit, pickup, buttons, program change, feedback."""

from __future__ import annotations

import textwrap

import mido
import pytest

from semeq_live.control.state import ControlState
from semeq_live.midi import Action, MidiController, load_mapping
from semeq_live.midi.values import (CURVES, apply_curve, decode_relative, encode_relative,
                                    invert_curve)

TERMS = ["warm", "bright", "clear", "full"]

MAPPING = """
version: 1
name: test rig
controls:
  - {name: morph, target: alpha, type: cc, number: 1}
  - {name: intensity fader, target: intensity, type: cc, number: 2}
  - {name: intensity knob, target: intensity, type: cc, number: 3, range: [0, 1]}
  - {name: gain 14, target: output_gain, type: cc, number: 7, lsb: 39}
  - {name: trav enc, target: traverse_x, type: cc, number: 20, mode: relative,
     encoding: twos_complement, step: 0.05}
  - {name: trav off, target: traverse_y, type: cc, number: 21, mode: relative,
     encoding: binary_offset, step: 0.1}
  - {name: alpha signed, target: alpha, type: cc, number: 22, mode: relative,
     encoding: signed_bit, step: 0.1}
  - {name: term knob, target: term_a, type: cc, number: 30}
  - {name: term enc, target: term_b, type: cc, number: 31, mode: relative, ticks_per_term: 2}
  - {name: next, target: term_b, type: note, number: 60, direction: next, feedback: true}
  - {name: prev, target: term_b, type: note, number: 61, direction: previous, wrap: false}
  - {name: warm btn, target: term_a, type: note, number: 62, term: warm, feedback: true}
  - {name: bypass, target: bypass, type: note, number: 63, feedback: true, led_on: 60, led_off: 12}
  - {name: hold bypass, target: bypass, type: cc, number: 64, button: momentary}
  - {name: learn, target: learn_reference, type: note, number: 65}
  - {name: panic, target: panic, type: cc, number: 66}
  - {name: verse, target: scene_recall, type: note, number: 67, scene: verse, feedback: true}
  - {name: store verse, target: scene_store, type: note, number: 68, scene: verse}
  - {name: scenes, target: scene_recall, type: program, scenes: [intro, verse]}
  - {name: term pc, target: term_a, type: program, channel: 2}
  - {name: bend, target: traverse_y, type: pitchbend, channel: 3, feedback: true}
  - {name: half, target: alpha, type: cc, number: 70, value: 0.5}
  - {name: fine, target: intensity, type: cc, number: 71, channel: 4, curve: exponential,
     feedback: true}
"""


def cc(number, value, channel=0):
    return mido.Message("control_change", channel=channel, control=number, value=value)


def note(number, on=True, channel=0):
    return mido.Message("note_on" if on else "note_off", channel=channel, note=number,
                        velocity=100 if on else 0)


@pytest.fixture
def rig(tmp_path):
    path = tmp_path / "rig.yaml"
    path.write_text(textwrap.dedent(MAPPING))
    state = ControlState(term_a="warm", term_b="bright", alpha=0.0, intensity=1.0)
    return MidiController(load_mapping(path, known_terms=TERMS), state, TERMS), state


def test_absolute_cc_scales_into_range(rig):
    ctl, state = rig
    ctl.handle(cc(1, 127))
    assert state.alpha == 1.0
    ctl.handle(cc(1, 64))
    assert state.alpha == pytest.approx(64 / 127)
    ctl.handle(cc(3, 127))  # first touch of another control on intensity: position is unknown
    assert state.intensity == pytest.approx(1.0)


def test_fourteen_bit_pair_and_pitch_bend(rig):
    ctl, state = rig
    ctl.handle(cc(7, 100))
    coarse = state.output_gain_db
    ctl.handle(cc(39, 100))
    fine = (100 << 7 | 100) / 16383.0
    assert state.output_gain_db == pytest.approx(-24 + 36 * fine)
    assert state.output_gain_db > coarse
    ctl.handle(mido.Message("pitchwheel", channel=2, pitch=8191))
    assert state.traverse_y == pytest.approx(1.0)
    ctl.handle(mido.Message("pitchwheel", channel=2, pitch=-8192))
    assert state.traverse_y == pytest.approx(-1.0)
    assert ctl.handle(mido.Message("pitchwheel", channel=0, pitch=0)) == []
    assert ctl.stats["unmapped"] == 1


def test_lsb_before_any_msb_is_ignored(rig):
    ctl, state = rig
    before = state.output_gain_db
    ctl.handle(cc(39, 127))
    assert state.output_gain_db == before and ctl.stats["lsb_without_msb"] == 1


@pytest.mark.parametrize("encoding", ["twos_complement", "binary_offset", "signed_bit"])
def test_relative_encodings_round_trip(encoding):
    for ticks in range(-63, 64):
        assert decode_relative(encoding, encode_relative(encoding, ticks)) == ticks


def test_relative_encoder_values():
    assert decode_relative("twos_complement", 1) == 1
    assert decode_relative("twos_complement", 127) == -1
    assert decode_relative("binary_offset", 65) == 1
    assert decode_relative("binary_offset", 63) == -1
    assert decode_relative("signed_bit", 65) == -1
    assert decode_relative("signed_bit", 3) == 3


def test_relative_encoders_move_from_the_current_value(rig):
    ctl, state = rig
    ctl.handle(cc(20, 1))       # +1 tick, step 5 % of the 2-wide range
    assert state.traverse_x == pytest.approx(0.1)
    ctl.handle(cc(20, 126))     # -2 ticks
    assert state.traverse_x == pytest.approx(-0.1)
    ctl.handle(cc(21, 64 + 3))  # binary offset +3 ticks of 10 %
    assert state.traverse_y == pytest.approx(0.6)
    for _ in range(20):
        ctl.handle(cc(21, 64 + 5))
    assert state.traverse_y == 1.0  # clamped at the end of the range
    state.update(alpha=0.5)     # something else moved alpha: relative continues from there
    ctl.handle(cc(22, 64 | 2))  # signed bit: -2 ticks of 10 %
    assert state.alpha == pytest.approx(0.3)


def test_pickup_after_external_change(rig):
    ctl, state = rig
    ctl.handle(cc(1, 0))
    assert state.alpha == 0.0
    state.update(alpha=0.6)     # e.g. a scene recall or the keyboard
    ctl.handle(cc(1, 10))       # fader still far below: ignored
    ctl.handle(cc(1, 40))
    assert state.alpha == 0.6
    assert [p.direction for p in ctl.pending_pickups()] == ["up"]
    ctl.handle(cc(1, 90))       # crossed 0.6 between 40 and 90: caught, value applies
    assert state.alpha == pytest.approx(90 / 127)
    assert ctl.pending_pickups() == []
    ctl.handle(cc(1, 20))       # now it follows freely
    assert state.alpha == pytest.approx(20 / 127)
    assert ctl.stats["pickup_waiting"] == 2


def test_pickup_from_above_and_within_tolerance(rig):
    ctl, state = rig
    ctl.handle(cc(1, 120))
    state.update(alpha=0.3)
    ctl.handle(cc(1, 100))
    assert state.alpha == 0.3
    assert ctl.pending_pickups()[0].direction == "down"
    ctl.handle(cc(1, 39))       # 39/127 = 0.307: within 2 % of the range -> caught
    assert state.alpha == pytest.approx(39 / 127)


def test_arm_pickup_holds_even_an_untouched_fader(rig):
    ctl, state = rig
    state.update(alpha=0.5)
    ctl.arm_pickup()
    ctl.handle(cc(1, 0))        # unknown position before: only "near" or "crossed" catches
    assert state.alpha == 0.5
    ctl.handle(cc(1, 127))      # crossed
    assert state.alpha == 1.0


def test_two_controls_on_one_target_take_over_softly(rig):
    ctl, state = rig
    ctl.handle(cc(2, 127))      # fader: intensity 1.5
    ctl.handle(cc(3, 0))        # knob's first touch sets 0.0 directly
    assert state.intensity == 0.0
    ctl.handle(cc(2, 100))      # fader was not the last writer: waits to catch 0.0
    assert state.intensity == 0.0
    ctl.handle(cc(2, 0))
    assert state.intensity == 0.0 and ctl.pending_pickups() == []
    ctl.handle(cc(2, 50))
    assert state.intensity == pytest.approx(1.5 * 50 / 127)


def test_pickup_can_be_disabled(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\ncontrols:\n  - {target: alpha, type: cc, number: 1, pickup: false}\n")
    state = ControlState()
    ctl = MidiController(load_mapping(path), state, TERMS)
    ctl.handle(cc(1, 0))
    state.update(alpha=0.7)
    ctl.handle(cc(1, 10))
    assert state.alpha == pytest.approx(10 / 127)


def test_term_knob_encoder_buttons_and_program(rig):
    ctl, state = rig
    ctl.handle(cc(30, 127))
    assert state.term_a == "full"
    ctl.handle(cc(30, 40))      # 40/127 * 4 = 1.26 -> index 1
    assert state.term_a == "bright"
    ctl.handle(cc(31, 1))       # one tick of two: nothing yet
    assert state.term_b == "bright"
    ctl.handle(cc(31, 1))
    assert state.term_b == "clear"
    ctl.handle(cc(31, 127 - 3))  # -4 ticks = two terms back
    assert state.term_b == "warm"
    ctl.handle(note(60))
    assert state.term_b == "bright"
    ctl.handle(note(60, on=False))
    assert state.term_b == "bright"   # release does nothing
    for _ in range(5):
        ctl.handle(note(61))
    assert state.term_b == "warm"     # wrap: false stops at the first term
    ctl.handle(note(62))
    assert state.term_a == "warm"
    ctl.handle(mido.Message("program_change", channel=1, program=2))
    assert state.term_a == "clear"
    ctl.handle(mido.Message("program_change", channel=1, program=99))
    assert state.term_a == "clear" and ctl.stats["out_of_range"] == 1


def test_switches_triggers_and_scene_actions(rig):
    ctl, state = rig
    assert ctl.handle(note(63)) == [] and state.bypass
    ctl.handle(note(63, on=False))
    assert state.bypass
    ctl.handle(mido.Message("note_on", note=63, velocity=0))  # note-on velocity 0 = release
    assert state.bypass
    ctl.handle(note(63))
    assert not state.bypass
    ctl.handle(cc(64, 127))
    assert state.bypass
    ctl.handle(cc(64, 0))
    assert not state.bypass
    assert ctl.handle(note(65)) == [Action("learn_reference")]
    assert ctl.handle(note(65, on=False)) == []
    assert ctl.handle(cc(66, 127)) == [Action("panic")] and state.bypass
    assert ctl.handle(note(67)) == [Action("scene_recall", "verse")]
    assert ctl.handle(note(68)) == [Action("scene_store", "verse")]
    assert ctl.handle(mido.Message("program_change", program=0)) == [Action("scene_recall", "intro")]
    assert ctl.handle(mido.Message("program_change", program=5)) == []
    ctl.handle(cc(70, 127))
    assert state.alpha == 0.5


def test_curves_are_monotonic_and_invertible():
    xs = [i / 200 for i in range(201)]
    for name in CURVES:
        ys = [apply_curve(name, x) for x in xs]
        assert ys[0] == pytest.approx(0.0, abs=1e-12) and ys[-1] == pytest.approx(1.0)
        assert all(b >= a for a, b in zip(ys, ys[1:])), name
        for x, y in zip(xs, ys):
            assert invert_curve(name, y) == pytest.approx(x, abs=1e-9), name
    assert apply_curve("exponential", 0.5) < 0.25 < apply_curve("logarithmic", 0.5)


def test_feedback_reflects_state(rig):
    ctl, state = rig
    state.update(intensity=0.0, bypass=False, scene="verse", term_a="warm", traverse_y=0.0)
    fb = {(m.type, m.channel, getattr(m, "note", getattr(m, "control", None))): m
          for m in ctl.feedback_messages()}
    assert fb[("note_on", 0, 63)].velocity == 12           # bypass off: led_off colour
    assert fb[("note_on", 0, 62)].velocity == 127          # warm selected
    assert fb[("note_on", 0, 67)].velocity == 127          # scene verse active
    assert ("note_on", 0, 60) not in fb                    # stepping buttons have no state
    assert fb[("control_change", 3, 71)].value == 0
    assert abs(fb[("pitchwheel", 2, None)].pitch) <= 1
    state.update(bypass=True, intensity=1.5, term_a="full")
    fb = {(m.type, m.channel, getattr(m, "note", getattr(m, "control", None))): m
          for m in ctl.feedback_messages()}
    assert fb[("note_on", 0, 63)].velocity == 60
    assert fb[("note_on", 0, 62)].velocity == 0
    assert fb[("control_change", 3, 71)].value == 127


def test_unexpected_and_odd_messages_are_counted_not_raised(rig):
    ctl, state = rig
    before = state.to_dict()
    for msg in (mido.Message("clock"), mido.Message("sysex", data=[1, 2, 3]),
                mido.Message("aftertouch", value=3), mido.Message("polytouch", note=1, value=2),
                cc(99, 5), note(1), None, "not a message", object(), 42):
        assert ctl.handle(msg) == []
    assert state.to_dict() == before
    assert ctl.stats["ignored"] == 4 and ctl.stats["unmapped"] == 2
    assert ctl.stats["malformed"] == 4


def test_mapping_terms_override_model_terms(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nterms: [bright, warm]\ncontrols:\n"
                    "  - {target: term_a, type: cc, number: 1}\n")
    state = ControlState(term_a="clear")
    ctl = MidiController(load_mapping(path, known_terms=TERMS), state, TERMS)
    ctl.handle(cc(1, 0))
    assert state.term_a == "bright"
    ctl_no_terms = MidiController(load_mapping(path.with_name("m.yaml")), ControlState(), [])
    assert ctl_no_terms.terms == ["bright", "warm"]


def test_last_control_names_what_was_touched(rig):
    ctl, _state = rig
    assert ctl.last_control is None
    ctl.handle(cc(99, 1))
    assert ctl.last_control is None
    ctl.handle(cc(1, 5))
    assert ctl.last_control.name == "morph" and ctl.last_control.describe() == "CC 1 ch 1"
    assert [c.name for c in ctl.controls_for(cc(7, 1))] == ["gain 14"]
    assert [c.name for c in ctl.controls_for(cc(39, 1))] == ["gain 14"]
