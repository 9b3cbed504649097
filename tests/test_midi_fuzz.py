"""Fuzz: arbitrary MIDI bytes and message sequences never raise out of the MIDI layer; arbitrary
YAML and mapping values only ever raise MappingError with file, line and key."""

from __future__ import annotations

import copy
import itertools
import textwrap

import mido
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semeq_live.control.state import (ALPHA_RANGE, INTENSITY_RANGE, OUTPUT_GAIN_RANGE_DB,
                                      TRAVERSE_RANGE, ControlState)
from semeq_live.errors import MappingError
from semeq_live.midi import MidiController, SceneBank, load_mapping, shipped_mappings
from semeq_live.midi.ports import decode_packet
from semeq_live.midi.yamlfile import LocatedError

TERMS = ["warm", "bright", "clear", "full"]
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

RICH = textwrap.dedent("""
    version: 1
    channel: any
    terms: [warm, bright, clear]
    controls:
      - {target: alpha, type: cc, number: 1, curve: s-curve}
      - {target: alpha, type: cc, number: 2, mode: relative, encoding: signed_bit}
      - {target: intensity, type: cc, number: 3, lsb: 35, curve: exponential, feedback: true}
      - {target: output_gain, type: pitchbend, invert: true, feedback: true}
      - {target: traverse_x, type: cc, number: 4, mode: relative, encoding: binary_offset}
      - {target: traverse_y, type: cc, number: 5, curve: logarithmic}
      - {target: term_a, type: cc, number: 6}
      - {target: term_b, type: cc, number: 7, mode: relative, ticks_per_term: 1}
      - {target: term_a, type: program}
      - {target: term_b, type: note, number: 60, direction: next, feedback: true}
      - {target: term_b, type: note, number: 61, term: clear, feedback: true}
      - {target: bypass, type: note, number: 62, feedback: true}
      - {target: adaptive, type: cc, number: 8, button: momentary}
      - {target: panic, type: note, number: 63}
      - {target: learn_reference, type: cc, number: 9}
      - {target: scene_recall, type: note, number: 64, scene: a, feedback: true}
      - {target: scene_store, type: note, number: 65, scene: a}
      - {target: alpha, type: note, number: 66, value: 0.5, feedback: true}
""")


def _in_ranges(state: ControlState) -> bool:
    def inside(v, r):
        return r[0] <= v <= r[1]
    return (inside(state.alpha, ALPHA_RANGE) and inside(state.intensity, INTENSITY_RANGE)
            and inside(state.traverse_x, TRAVERSE_RANGE) and inside(state.traverse_y, TRAVERSE_RANGE)
            and inside(state.output_gain_db, OUTPUT_GAIN_RANGE_DB))


@pytest.fixture(scope="module")
def mappings(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "rich.yaml"
    path.write_text(RICH)
    out = [load_mapping(path, known_terms=TERMS)]
    out += [load_mapping(p) for p in shipped_mappings()]  # their words: test_shipped_palettes
    return out


channels = st.integers(0, 15)
data7 = st.integers(0, 127)
messages = st.one_of(
    st.builds(lambda c, n, v: mido.Message("control_change", channel=c, control=n, value=v),
              channels, st.one_of(st.integers(0, 12), st.sampled_from([33, 35]), data7), data7),
    st.builds(lambda c, n, v: mido.Message("note_on", channel=c, note=n, velocity=v),
              channels, st.integers(36, 70), data7),
    st.builds(lambda c, n: mido.Message("note_off", channel=c, note=n), channels,
              st.integers(36, 70)),
    st.builds(lambda c, p: mido.Message("program_change", channel=c, program=p), channels, data7),
    st.builds(lambda c, p: mido.Message("pitchwheel", channel=c, pitch=p), channels,
              st.integers(-8192, 8191)),
    st.builds(lambda d: mido.Message("sysex", data=d), st.lists(data7, max_size=8)),
    st.sampled_from([mido.Message("clock"), mido.Message("start"), mido.Message("reset"),
                     mido.Message("aftertouch", value=5)]),
)


_EXAMPLE_NUMBER = itertools.count()


@FUZZ
@given(seq=st.lists(messages, max_size=60), which=st.integers(0, 5))
def test_any_message_sequence_keeps_state_valid(mappings, tmp_path, seq, which):
    mapping = mappings[which % len(mappings)]
    state = ControlState()
    words = set(TERMS) | set(mapping.palette or ())  # a shipped mapping's own palette
    # One scene file per example: hypothesis reuses tmp_path across examples, and a scene stored
    # with one mapping's palette word is (rightly) refused by a bank that does not know that word.
    # The app's bank knows the model's words, and a mapping's palette is checked against them.
    scene_file = tmp_path / f"fuzz-scenes-{next(_EXAMPLE_NUMBER)}.yaml"
    bank = SceneBank(scene_file, known_terms=sorted(words))
    ctl = MidiController(mapping, state, TERMS, scenes=bank)
    for msg in seq:
        actions = ctl.handle(msg)
        assert isinstance(actions, list)
        assert _in_ranges(state)
        assert state.term_a in words and state.term_b in words
        ctl.feedback_messages()
        ctl.pending_pickups()
    assert ctl.stats["errors"] == 0  # nothing was swallowed: no internal exception happened
    # Whatever the controller stored, a restart loads again (a refused word would raise here).
    assert SceneBank(scene_file, known_terms=sorted(words)).names() == bank.names()


@FUZZ
@given(packets=st.lists(st.binary(max_size=6), max_size=40))
def test_arbitrary_bytes_never_raise(mappings, packets):
    state = ControlState()
    ctl = MidiController(mappings[0], state, TERMS)
    parser = mido.Parser()
    for raw in packets:
        msg = decode_packet(raw)  # a whole packet (what rtmidi delivers)
        if msg is not None:
            ctl.handle(msg)
        parser.feed(raw)          # the same bytes as a running stream
        for streamed in parser:
            ctl.handle(streamed)
    assert _in_ranges(state) and ctl.stats["errors"] == 0


def _check_error(err: MappingError, path):
    assert isinstance(err, LocatedError)
    assert err.line >= 1 and err.key
    assert str(err).startswith(f"{path}:{err.line}: {err.key}: ")


@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_only_raises_located_mapping_errors(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", errors="replace"))  # lone surrogates -> '?'
    for loader in (lambda: load_mapping(path, known_terms=TERMS),
                   lambda: SceneBank(path, known_terms=TERMS)):
        try:
            loader()
        except MappingError as err:
            _check_error(err, path)


yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-300, 300), st.floats(allow_nan=True),
              st.text(max_size=12), st.sampled_from(["warm", "any", "relative", "cc", "alpha",
                                                      "button", "all", "next"])),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=12,
)

BASE = yaml.safe_load(RICH)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(BASE) if p]


@FUZZ
@given(edits=st.lists(st.tuples(st.sampled_from(ALL_PATHS), yaml_values), min_size=1, max_size=3))
def test_mutated_mappings_load_or_fail_with_file_line_key(tmp_path, edits):
    doc = copy.deepcopy(BASE)
    for where, value in edits:
        node = doc
        try:
            for k in where[:-1]:
                node = node[k]
            node[where[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced the parent
    path = tmp_path / "mutated.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    try:
        mapping = load_mapping(path, known_terms=TERMS)
    except MappingError as err:
        _check_error(err, path)
        return
    # whatever loads must also run
    ctl = MidiController(mapping, ControlState(), TERMS)
    for n in range(0, 128, 9):
        ctl.handle(mido.Message("control_change", control=n, value=n))
        ctl.handle(mido.Message("note_on", note=n, velocity=100))
    assert ctl.stats["errors"] == 0
