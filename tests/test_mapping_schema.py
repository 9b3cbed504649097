"""Mapping files: every schema error names file, line and key; shipped mappings all validate."""

from __future__ import annotations

import textwrap

import pytest

from semeq_live.errors import MappingError
from semeq_live.midi import load_mapping, shipped_mappings
from semeq_live.midi.mapping import default_mapping_path, resolve_mapping_path
from semeq_live.midi.yamlfile import LocatedError

TERMS = ["warm", "bright", "clear", "full", "thin"]


def write(tmp_path, text: str, name="map.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def error_of(path, known_terms=TERMS) -> LocatedError:
    with pytest.raises(MappingError) as info:
        load_mapping(path, known_terms=known_terms)
    err = info.value
    assert isinstance(err, LocatedError)
    assert str(err).startswith(f"{path}:{err.line}: {err.key}: ")
    return err


GOOD = """
version: 1
name: test
controls:
  - {target: alpha, type: cc, number: 1}
"""


def test_minimal_mapping_loads(tmp_path):
    m = load_mapping(write(tmp_path, GOOD), known_terms=TERMS)
    (c,) = m.controls
    assert (c.target, c.type, c.mode, c.channel, c.number, c.range) == \
        ("alpha", "cc", "absolute", 0, 1, (0.0, 1.0))
    assert m.terms is None and m.version == 1


# (yaml body, expected line, expected key, fragment of the message)
SCHEMA_ERRORS = [
    ("name: x\ncontrols: []\n", 1, "version", "missing"),
    ("version: 2\ncontrols:\n  - {target: alpha, type: cc, number: 1}\n", 1, "version",
     "not supported"),
    ("version: 1\n", 1, "controls", "missing"),
    ("version: 1\ncontrols: {}\n", 2, "controls", "non-empty list"),
    ("version: 1\ncolor: red\ncontrols:\n  - {target: alpha, type: cc, number: 1}\n", 2, "color",
     "unknown key"),
    ("version: 1\ncontrols:\n  - {target: alpha, type: cc, number: 1}\n  - {target: alpah, "
     "type: cc, number: 2}\n", 4, "controls[1].target", "did you mean 'alpha'"),
    ("version: 1\ncontrols:\n  - target: alpha\n    type: cc\n    number: 128\n", 5,
     "controls[0].number", "out of range 0..127"),
    ("version: 1\ncontrols:\n  - target: alpha\n    type: cc\n    numbr: 3\n", 5,
     "controls[0].numbr", "did you mean 'number'"),
    ("version: 1\ncontrols:\n  - target: alpha\n    type: cc\n", 3, "controls[0].number",
     "missing"),
    ("version: 1\ncontrols:\n  - target: alpha\n    type: cc\n    number: 1\n    channel: 17\n", 6,
     "controls[0].channel", "1..16"),
    ("version: 1\ncontrols:\n  - target: alpha\n    type: cc\n    number: 1\n"
     "    range: [0, 2]\n", 6, "controls[0].range", "leaves the target's range"),
    ("version: 1\ncontrols:\n  - target: alpha\n    type: cc\n    number: 1\n"
     "    range: [1, 0]\n", 6, "controls[0].range", "invert"),
    ("version: 1\ncontrols:\n  - target: alpha\n    type: cc\n    number: 1\n"
     "    encoding: binary_offset\n", 6, "controls[0].encoding", "not used by an absolute"),
    ("version: 1\ncontrols:\n  - target: alpha\n    type: cc\n    number: 1\n    mode: relative\n"
     "    encoding: offset\n", 7, "controls[0].encoding", "binary_offset"),
    ("version: 1\ncontrols:\n  - target: bypass\n    type: note\n    number: 1\n"
     "    button: latch\n", 6, "controls[0].button", "toggle, momentary"),
    ("version: 1\ncontrols:\n  - target: bypass\n    type: pitchbend\n", 4, "controls[0].type",
     "cannot be driven by a pitchbend"),
    ("version: 1\ncontrols:\n  - {target: bypass, type: cc, number: 1, mode: absolute}\n", 3,
     "controls[0].mode", "cannot be driven in absolute mode"),
    ("version: 1\ncontrols:\n  - target: term_a\n    type: note\n    number: 5\n"
     "    term: wram\n", 6, "controls[0].term", "did you mean 'warm'"),
    ("version: 1\nterms: [warm, brite]\ncontrols:\n  - {target: alpha, type: cc, number: 1}\n", 2,
     "terms[1]", "did you mean 'bright'"),
    ("version: 1\nterms: [warm, warm]\ncontrols:\n  - {target: alpha, type: cc, number: 1}\n", 2,
     "terms[1]", "twice"),
    ("version: 1\ncontrols:\n  - {target: alpha, type: cc, number: 1}\n"
     "  - {target: intensity, type: cc, number: 1}\n", 4, "controls[1].number",
     "already used by controls[0]"),
    ("version: 1\ncontrols:\n  - {target: alpha, type: cc, number: 1, lsb: 33}\n"
     "  - {target: intensity, type: cc, number: 33}\n", 4, "controls[1].number",
     "already used"),
    ("version: 1\ncontrols:\n  - {target: alpha, type: cc, number: 1, channel: any}\n"
     "  - {target: intensity, type: cc, number: 1, channel: 3}\n", 4, "controls[1].number",
     "already used"),
    ("version: 1\ncontrols:\n  - {target: scene_recall, type: program}\n", 3,
     "controls[0].scenes", "missing"),
    ("version: 1\ncontrols:\n  - {target: alpha, type: note, number: 3}\n", 3,
     "controls[0].value", "fixed value"),
    ("version: 1\ncontrols:\n  - {target: alpha, type: cc, number: 3, pickup: maybe}\n", 3,
     "controls[0].pickup", "true or false"),
    ("version: 1\ncontrols:\n  - {target: alpha, type: program}\n", 3,
     "controls[0].type", "cannot be driven by a program"),
    ("version: 1\ncontrols:\n  - {target: term_a, type: program, number: 3}\n", 3,
     "controls[0].number", "has no controller or note number"),
    ("version: 1\ncontrols:\n  - {target: alpha, type: cc, number: 3}\n  - {target: alpha, "
     "type: cc, number: 3}\ncontrols: []\n", 5, "controls", "duplicate key"),
    ("version: 1\ncontrols:\n  - target: alpha\n    type: cc\n    number: [1\n", 6, "(syntax)",
     "invalid YAML"),
    ("version: 1\ncontrols:\n  - {target: alpha, type: cc, number: 3, curve: cubic}\n", 3,
     "controls[0].curve", "linear"),
    ("version: 1\ncontrols:\n  - {target: term_a, type: cc, number: 3, mode: relative, "
     "step: 0.1}\n", 3, "controls[0].step", "ticks_per_term"),
    ("- just\n- a list\n", 1, "(document)", "expected a mapping"),
]


@pytest.mark.parametrize("body,line,key,fragment", SCHEMA_ERRORS)
def test_schema_errors_name_file_line_and_key(tmp_path, body, line, key, fragment):
    err = error_of(write(tmp_path, body))
    assert (err.line, err.key) == (line, key), str(err)
    assert fragment in err.message, str(err)


def test_unknown_term_lists_known_terms_when_nothing_is_close(tmp_path):
    path = write(tmp_path, "version: 1\nterms: [warm, zzzzzz]\ncontrols:\n"
                           "  - {target: alpha, type: cc, number: 1}\n")
    err = error_of(path)
    assert "known terms: bright, clear, full, thin, warm" in err.message


def test_terms_are_not_checked_without_known_terms(tmp_path):
    path = write(tmp_path, "version: 1\nterms: [warm, sparkly]\ncontrols:\n"
                           "  - {target: term_a, type: note, number: 1, term: sparkly}\n")
    assert load_mapping(path).terms == ("warm", "sparkly")
    assert load_mapping(path, known_terms=["warm", "sparkly"]).controls[0].term == "sparkly"


def test_missing_and_unreadable_files(tmp_path):
    err = error_of(tmp_path / "nope.yaml")
    assert err.key == "(file)" and "not found" in err.message
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"version: 1\nname: caf\xe9\n")
    err = error_of(bad)
    assert (err.line, err.key) == (2, "(file)")
    empty = write(tmp_path, "", "empty.yaml")
    assert error_of(empty).key == "(document)"


def test_every_shipped_mapping_validates():
    paths = shipped_mappings()
    names = {p.stem for p in paths}
    assert {"generic", "nanokontrol2", "midimix", "launchcontrol_xl", "beatstep"} <= names
    for path in paths:
        m = load_mapping(path)  # the words are checked against the bundled model below
        assert m.controls, path
        targets = {c.target for c in m.controls}
        # every shipped layout drives the essentials of a performance
        assert {"term_a", "term_b", "alpha", "intensity", "bypass", "panic"} <= targets, path
        # and says where its CC numbers come from
        assert "source" in path.read_text().lower(), path


def test_shipped_mappings_match_the_bundled_model():
    """The palettes of the shipped mappings exist in the model they ship with (and hold the
    two words the direct buttons pick)."""
    from semeq_live.model import load_model

    terms = load_model().terms
    for path in shipped_mappings():
        m = load_mapping(path, known_terms=terms)
        assert m.palette is not None and {"warm", "bright"} <= set(m.palette), path


def test_beatstep_uses_relative_encoders():
    m = load_mapping(resolve_mapping_path("beatstep"))
    encoders = [c for c in m.controls if c.mode == "relative"]
    assert len(encoders) >= 4 and {c.encoding for c in encoders} == {"binary_offset"}


def test_default_and_short_names_resolve():
    assert default_mapping_path().name == "generic.yaml"
    assert resolve_mapping_path("nanokontrol2").name == "nanokontrol2.yaml"
    with pytest.raises(MappingError, match="did you mean 'nanokontrol2'"):
        resolve_mapping_path("nanokontrol")


def test_alias_bomb_is_refused_quickly(tmp_path):
    import time

    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = write(tmp_path, "\n".join(lines) + "\ncontrols: []\n")
    t0 = time.perf_counter()
    err = error_of(path)
    assert "too large" in err.message and time.perf_counter() - t0 < 5.0
