"""Palettes: the words term A/B step through. Parsing (and the older 'terms:' name), refusal of
words the model lacks with file:line:key and a "did you mean", the default palette, stepping
(wrap or not), knob sweeps, program change, words outside the palette, and check-mapping."""

from __future__ import annotations

import textwrap

import mido
import pytest

from semeq_live.control.state import ControlState
from semeq_live.errors import MappingError
from semeq_live.midi import MidiController, SceneBank, load_mapping, resolve_palette
from semeq_live.midi.mapping import Mapping
from semeq_live.midi.palette import step_index
from semeq_live.midi.yamlfile import LocatedError
from semeq_live.model import load_model
from semeq_live.model.wordmap import WordMap, default_palette

from .vocab_model import EXTRA_WORDS, vocab_model_path

CONTROLS = """
controls:
  - {name: A knob, target: term_a, type: cc, number: 1}
  - {name: A enc, target: term_a, type: cc, number: 2, mode: relative, ticks_per_term: 1}
  - {name: B enc, target: term_b, type: cc, number: 3, mode: relative, ticks_per_term: 1,
     wrap: false}
  - {name: A next, target: term_a, type: note, number: 60, direction: next}
  - {name: A prev, target: term_a, type: note, number: 61, direction: previous}
  - {name: B next, target: term_b, type: note, number: 62, direction: next, wrap: false}
  - {name: A pc, target: term_a, type: program}
"""
PALETTE = ["warm", "cold", "bright", "dark", "soft", "harsh"]


@pytest.fixture(scope="module")
def vocab_model(tmp_path_factory):
    return load_model(vocab_model_path(tmp_path_factory.mktemp("vocab")))


def write(tmp_path, text: str, name: str = "map.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def rig(tmp_path, palette_line: str, known=None, terms=None, **state):
    path = write(tmp_path, "version: 1\n" + palette_line + "\n" + textwrap.dedent(CONTROLS))
    st = ControlState(**state)
    return MidiController(load_mapping(path, known_terms=known), st, terms), st


def cc(number, value):
    return mido.Message("control_change", control=number, value=value)


def note(number):
    return mido.Message("note_on", note=number, velocity=100)


# ---------------------------------------------------------------------------- the file
def test_palette_key_and_the_older_terms_name(tmp_path):
    m = load_mapping(write(tmp_path, "version: 1\npalette: [warm, cold, bright]\n" + CONTROLS))
    assert m.palette == ("warm", "cold", "bright") and m.terms == m.palette
    old = load_mapping(write(tmp_path, "version: 1\nterms: [warm, cold]\n" + CONTROLS, "old.yaml"))
    assert old.palette == ("warm", "cold")
    every = load_mapping(write(tmp_path, "version: 1\npalette: all\n" + CONTROLS, "all.yaml"))
    assert every.palette is None and every.palette_all
    none = load_mapping(write(tmp_path, "version: 1\n" + CONTROLS, "none.yaml"))
    assert none.palette is None and not none.palette_all


@pytest.mark.parametrize("body, line, key, fragment", [
    ("version: 1\npalette:\n  - warm\n  - brite\n", 4, "palette[1]",
     "the model has no word 'brite' (did you mean 'bright'"),
    ("version: 1\npalette: [warm, wa]\n", 2, "palette[1]", "did you mean 'warm'"),
    ("version: 1\npalette: [warm, bright, warm]\n", 2, "palette[2]", "listed twice (first as "
     "palette[0])"),
    ("version: 1\npalette: [warm, 3]\n", 2, "palette[1]", "expected a word, got 3"),
    ("version: 1\npalette: []\n", 2, "palette", "expected a list of words"),
    ("version: 1\npalette: warm\n", 2, "palette", "expected a list of words"),
    ("version: 1\npalette: [warm]\nterms: [warm]\n", 3, "terms", "either 'palette' or 'terms'"),
    ("version: 1\nterms: [warm, brigt]\n", 2, "terms[1]", "did you mean 'bright'"),
    ("version: 1\npallete: [warm]\n", 2, "pallete", "did you mean 'palette'"),
])
def test_bad_palettes_name_file_line_and_key(tmp_path, body, line, key, fragment):
    path = write(tmp_path, body + CONTROLS)
    with pytest.raises(MappingError) as info:
        load_mapping(path, known_terms=["warm", "bright", "clear", "full"])
    err = info.value
    assert isinstance(err, LocatedError)
    assert (err.line, err.key) == (line, key)
    assert str(err).startswith(f"{path}:{line}: {key}: ") and fragment in str(err), str(err)


def test_too_long_a_palette_is_refused(tmp_path):
    words = [f"w{i}" for i in range(129)]
    path = write(tmp_path, f"version: 1\npalette: [{', '.join(words)}]\n" + CONTROLS)
    with pytest.raises(MappingError, match="at most 128"):
        load_mapping(path)


def test_check_mapping_refuses_a_word_the_model_lacks(tmp_path, vocab_model, capsys):
    from semeq_live.cli import main

    path = write(tmp_path, "version: 1\n# stage palette\npalette: [bassy, thin, harshh, airy]\n"
                 + CONTROLS)
    rc = main(["check-mapping", "--model", str(vocab_model.path), str(path), "generic"])
    captured = capsys.readouterr()
    assert rc == 2
    assert f"{path}:3: palette[2]: the model has no word 'harshh' (did you mean 'harsh'" \
        in captured.err
    assert "ok: " in captured.out and "generic" in captured.out  # the other file is still checked
    path.write_text(path.read_text().replace("harshh", "harsh"))
    assert main(["check-mapping", "--model", str(vocab_model.path), str(path)]) == 0
    # 4 words, of which thin has 30 people behind it, airy 20, harsh 31, bassy 40: all certain
    assert "palette of 4 words)" in capsys.readouterr().out
    path.write_text(path.read_text().replace("airy", "sibilant"))  # 3 people: low certainty
    assert main(["check-mapping", "--model", str(vocab_model.path), str(path)]) == 0
    assert "palette of 4 words; less certain: sibilant??" in capsys.readouterr().out


# ---------------------------------------------------------------------------- which palette
def test_default_palette_is_the_most_certain_words_round_the_map(vocab_model):
    wm = WordMap(vocab_model)
    pal = default_palette(vocab_model, size=10)
    assert len(pal) == 10 and len(set(pal)) == 10
    # the ten with the most people behind them (SAFE rows here), whatever the model's order
    people = {i.name: i.people for i in vocab_model.term_infos()}
    assert all(people[w] == c for w, (_, c) in EXTRA_WORDS.items())
    ranked = sorted(people, key=lambda w: -people[w])
    assert min(people[w] for w in pal) >= people[ranked[9]]
    assert all(wm.certainty(w) != "low" for w in pal)
    # round the map: consecutive words turn one way about the middle, never jump back
    xy = [wm.position(w) for w in pal]
    import math

    cx = sum(x for x, _ in xy) / len(xy)
    cy = sum(y for _, y in xy) / len(xy)
    angles = [math.atan2(y - cy, x - cx) for x, y in xy]
    turns = [(a - b) % (2 * math.pi) for a, b in zip(angles, angles[1:])]
    assert sum(turns) < 2 * math.pi + 1e-9  # less than one full clockwise turn in all
    assert xy[0][0] == min(x for x, _ in xy)  # starts at the word furthest left


def test_resolve_palette_for_listed_all_and_none(tmp_path, vocab_model):
    listed = load_mapping(write(tmp_path, "version: 1\npalette: [soft, harsh]\n" + CONTROLS))
    assert resolve_palette(listed, vocab_model) == ["soft", "harsh"]
    every = load_mapping(write(tmp_path, "version: 1\npalette: all\n" + CONTROLS, "a.yaml"))
    assert sorted(resolve_palette(every, vocab_model)) == sorted(vocab_model.terms)
    assert resolve_palette(every, vocab_model) != list(vocab_model.terms)  # map order
    none = load_mapping(write(tmp_path, "version: 1\n" + CONTROLS, "n.yaml"))
    assert resolve_palette(none, vocab_model) == default_palette(vocab_model)
    assert len(resolve_palette(none, vocab_model)) == 16
    assert resolve_palette(None, load_model()) == default_palette(load_model())  # 4 words: all


# ---------------------------------------------------------------------------- stepping
def test_step_index_wraps_or_stops():
    assert [step_index(4, 3, 1, True), step_index(4, 0, -1, True)] == [0, 3]
    assert [step_index(4, 3, 1, False), step_index(4, 0, -1, False)] == [3, 0]
    assert step_index(4, 1, 6, True) == 3 and step_index(4, 1, 6, False) == 3
    assert [step_index(4, None, 1, True), step_index(4, None, -1, True)] == [0, 3]


def test_buttons_and_encoders_step_through_the_palette(tmp_path):
    ctl, st = rig(tmp_path, f"palette: [{', '.join(PALETTE)}]", term_a="warm", term_b="warm")
    seen = []
    for _ in range(len(PALETTE)):
        ctl.handle(note(60))
        seen.append(st.term_a)
    assert seen == PALETTE[1:] + PALETTE[:1]  # wraps round to the first word
    ctl.handle(note(61))
    assert st.term_a == "harsh"  # previous from the first word wraps to the last
    ctl.handle(cc(2, 1))  # relative encoder, wrap (default)
    assert st.term_a == "warm"
    ctl.handle(cc(2, 127))
    assert st.term_a == "harsh"
    for _ in range(10):  # wrap: false stops at the last word
        ctl.handle(note(62))
    assert st.term_b == "harsh"
    ctl.handle(cc(3, 5))
    assert st.term_b == "harsh"
    ctl.handle(cc(3, 127 - 1))  # two back
    assert st.term_b == "dark"
    assert ctl.palette_index("dark") == 3 and ctl.palette_index("clear") is None


def test_knob_sweep_covers_the_palette_in_equal_parts(tmp_path):
    ctl, st = rig(tmp_path, f"palette: [{', '.join(PALETTE)}]")
    reached = []
    for value in range(128):
        ctl.handle(cc(1, value))
        if not reached or reached[-1] != st.term_a:
            reached.append(st.term_a)
    assert reached == PALETTE  # in order, each once
    spans = {}
    for value in range(128):
        ctl.handle(cc(1, value))
        spans[st.term_a] = spans.get(st.term_a, 0) + 1
    assert max(spans.values()) - min(spans.values()) <= 1  # 128 positions shared evenly


def test_program_change_selects_by_index(tmp_path):
    ctl, st = rig(tmp_path, f"palette: [{', '.join(PALETTE)}]")
    for i, word in enumerate(PALETTE):
        ctl.handle(mido.Message("program_change", program=i))
        assert st.term_a == word
    ctl.handle(mido.Message("program_change", program=len(PALETTE)))
    assert st.term_a == PALETTE[-1] and ctl.stats["out_of_range"] == 1


def test_a_scene_word_outside_the_palette_is_recalled_and_stepping_resumes(tmp_path):
    scenes = tmp_path / "scenes.yaml"
    scenes.write_text("version: 1\nscenes:\n  far: {term_a: clear, term_b: full}\n")
    known = PALETTE + ["clear", "full"]
    bank = SceneBank(scenes, known_terms=known)
    ctl, st = rig(tmp_path, f"palette: [{', '.join(PALETTE)}]", known=known)
    bank.recall("far", st, ctl)
    assert (st.term_a, st.term_b) == ("clear", "full")  # not in the palette, recalled as stored
    assert ctl.palette_index(st.term_a) is None
    ctl.handle(note(60))  # next: enters the palette at its first word
    assert st.term_a == PALETTE[0]
    bank.recall("far", st, ctl)
    ctl.handle(note(61))  # previous: at its last word
    assert st.term_a == PALETTE[-1]


def test_mapping_without_palette_uses_what_the_app_resolves(tmp_path, vocab_model):
    path = write(tmp_path, "version: 1\n" + CONTROLS)
    mapping = load_mapping(path, known_terms=vocab_model.terms)
    palette = resolve_palette(mapping, vocab_model)
    ctl = MidiController(mapping, ControlState(term_a=palette[0]), palette)
    assert ctl.palette == palette
    ctl.handle(note(60))
    assert ctl.state.term_a == palette[1]
    assert isinstance(mapping, Mapping)


def test_keyboard_steps_through_the_palette(tmp_path):
    from semeq_live.control.loop import LiveControl

    st = ControlState(term_a="clear")
    loop = LiveControl(st, None, None, None, terms=PALETTE)
    loop._command(("step_term", "a", -1))  # from outside the palette: its last word
    assert st.term_a == PALETTE[-1]
    loop._command(("step_term", "a", +1))
    assert st.term_a == PALETTE[0]
