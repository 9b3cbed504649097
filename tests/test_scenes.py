"""Scenes: YAML round trip, validation with lines, atomic stores, recall with pickup."""

from __future__ import annotations

import textwrap

import mido
import pytest

from semeq_live.control.state import ControlState
from semeq_live.errors import MappingError, SemeqError
from semeq_live.midi import MidiController, SceneBank, load_mapping
from semeq_live.midi.yamlfile import LocatedError

TERMS = ["warm", "bright", "clear", "full"]


def cc(number, value):
    return mido.Message("control_change", control=number, value=value)


def test_store_and_reload(tmp_path):
    path = tmp_path / "sub" / "scenes.yaml"
    bank = SceneBank(path)
    assert bank.names() == []
    state = ControlState(term_a="bright", term_b="clear", alpha=0.25, intensity=1.2,
                         traverse_x=-0.5, traverse_y=0.1, output_gain_db=-3.0)
    bank.store("verse", state)
    assert state.scene == "verse"
    again = SceneBank(path, known_terms=TERMS)
    assert again.names() == ["verse"]
    assert again.get("verse") == state.scene_values()
    assert not list(path.parent.glob(".*tmp"))  # no temp files left behind


def test_recall_applies_values_and_arms_pickup(tmp_path):
    mapping_path = tmp_path / "m.yaml"
    mapping_path.write_text(textwrap.dedent("""
        version: 1
        controls:
          - {target: alpha, type: cc, number: 1}
          - {target: intensity, type: cc, number: 2}
          - {target: scene_recall, type: note, number: 60, scene: chorus}
          - {target: scene_store, type: note, number: 61, scene: chorus}
    """))
    bank = SceneBank(tmp_path / "scenes.yaml", known_terms=TERMS)
    state = ControlState(alpha=0.0)
    ctl = MidiController(load_mapping(mapping_path), state, TERMS, scenes=bank)
    ctl.handle(cc(1, 0))
    ctl.handle(cc(2, 127))
    state.update(alpha=0.8, intensity=0.5, term_a="clear")
    actions = ctl.handle(mido.Message("note_on", note=61, velocity=90))
    assert [(a.kind, a.arg, a.done) for a in actions] == [("scene_store", "chorus", True)]
    ctl.handle(cc(1, 10))  # (pickup: nothing changes, alpha still 0.8)
    state.update(alpha=0.1, intensity=1.5, term_a="warm")
    actions = ctl.handle(mido.Message("note_on", note=60, velocity=90))
    assert actions[0].done
    assert (state.alpha, state.intensity, state.term_a, state.scene) == (0.8, 0.5, "clear", "chorus")
    ctl.handle(cc(1, 0))      # fader far away: no jump
    assert state.alpha == 0.8
    ctl.handle(cc(1, 127))    # swept across 0.8: taken over
    assert state.alpha == 1.0
    ctl.handle(cc(2, 120))    # intensity fader was armed too
    assert state.intensity == 0.5


def test_partial_scene_changes_only_its_fields(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\nscenes:\n  drop: {alpha: 1.0}\n  7: {term_b: warm}\n")
    bank = SceneBank(path, known_terms=TERMS)
    state = ControlState(term_a="bright", alpha=0.2, intensity=0.7)
    bank.recall("drop", state)
    assert (state.term_a, state.alpha, state.intensity) == ("bright", 1.0, 0.7)
    bank.recall("7", state)  # numeric names are names too
    assert state.term_b == "warm"


@pytest.mark.parametrize("body,line,key,fragment", [
    ("scenes: {}\n", 1, "version", "missing"),
    ("version: 1\nscenes:\n  a: {alpha: 2}\n", 3, "scenes.a.alpha", "0..1"),
    ("version: 1\nscenes:\n  a:\n    term_a: wram\n", 4, "scenes.a.term_a", "did you mean 'warm'"),
    ("version: 1\nscenes:\n  a:\n    alpah: 0.3\n", 4, "scenes.a.alpah", "did you mean 'alpha'"),
    ("version: 1\nscenes:\n  a: 3\n", 3, "scenes.a", "expected some of"),
    ("version: 1\nscenes: [1, 2]\n", 2, "scenes", "mapping of scene names"),
    ("version: 1\nextra: 1\n", 2, "extra", "unknown key"),
    ("version: 1\nscenes:\n  a: {alpha: 0.1}\n  a: {alpha: 0.2}\n", 4, "scenes.a", "duplicate"),
])
def test_bad_scene_files(tmp_path, body, line, key, fragment):
    path = tmp_path / "s.yaml"
    path.write_text(body)
    with pytest.raises(MappingError) as info:
        SceneBank(path, known_terms=TERMS)
    err = info.value
    assert isinstance(err, LocatedError)
    assert (err.line, err.key) == (line, key) and fragment in err.message, str(err)


def test_unwritable_store_loses_nothing(tmp_path):
    path = tmp_path / "scenes.yaml"
    bank = SceneBank(path)
    state = ControlState(alpha=0.3)
    bank.store("a", state)
    original = path.read_bytes()
    # Make the destination impossible to replace: a directory now sits where the file was.
    path.unlink()
    path.mkdir()
    with pytest.raises(SemeqError, match="cannot save scenes"):
        bank.store("b", ControlState(alpha=0.9))
    assert bank.names() == ["a"]  # memory unchanged
    assert [p.name for p in tmp_path.iterdir()] == ["scenes.yaml"]  # no temp file left
    path.rmdir()
    bank.store("c", state)
    assert SceneBank(path).names() == ["a", "c"] and original != path.read_bytes()
    blocked = SceneBank(tmp_path / "scenes.yaml" / "inside.yaml")
    with pytest.raises(SemeqError, match="cannot save scenes"):
        blocked.store("x", state)


def test_unknown_scene_is_a_clear_error_and_controller_survives(tmp_path):
    bank = SceneBank(tmp_path / "s.yaml")
    with pytest.raises(SemeqError, match="no scene 'nope'"):
        bank.recall("nope", ControlState())
    mapping_path = tmp_path / "m.yaml"
    mapping_path.write_text("version: 1\ncontrols:\n"
                            "  - {target: scene_recall, type: program, scenes: [nope]}\n")
    state = ControlState()
    ctl = MidiController(load_mapping(mapping_path), state, TERMS, scenes=bank)
    (action,) = ctl.handle(mido.Message("program_change", program=0))
    assert (action.kind, action.arg, action.done) == ("scene_recall", "nope", False)
    assert ctl.stats["scene_errors"] == 1
